"""Writes on notices, all by operator staff: publish, edit, post a message, start, end (solving
the linked tickets with it), cancel; link tickets to a major incident; the calendar tokens.

Each write validates first, then runs in one transaction with its audit entry; the mail to the
affected members' contacts is queued after the commit (tasks.notice_mail)."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from mutualis.accounts.models import User
from mutualis.catalog.models import Application
from mutualis.core.audit import audit_create, audit_delete, audit_record, diff, snapshot
from mutualis.core.models import AuditAction
from mutualis.core.tenancy import require_operator_staff, require_writer
from mutualis.helpdesk.enums import Action as TicketAction
from mutualis.helpdesk.models import Ticket
from mutualis.helpdesk.services import ticket_transition
from mutualis.notices.enums import TRANSITIONS, UPDATE_OF_ACTION, Action, Kind, State, UpdateKind
from mutualis.notices.models import CalendarToken, Notice, NoticeTicket, NoticeUpdate

EDITABLE = ("kind", "title", "description", "starts_at", "planned_end_at")


def _require_staff_writer(actor: User) -> None:
    require_operator_staff(actor)
    require_writer(actor)


def _check_text(name: str, value: str, *, required: bool = True) -> str:
    value = (value or "").strip()
    if required and not value:
        raise ValidationError({name: _("ce champ est obligatoire")})
    if len(value.encode()) > settings.HELPDESK_MAX_TEXT_BYTES:
        raise ValidationError(
            {name: _("texte trop long : %(max)d octets au plus") % {"max": settings.HELPDESK_MAX_TEXT_BYTES}}
        )
    return value


def _check_period(starts_at: dt.datetime | None, planned_end_at: dt.datetime | None) -> None:
    errors: dict[str, str] = {}
    if starts_at is None:
        errors["starts_at"] = _("indiquez le début")
    if planned_end_at is None:
        errors["planned_end_at"] = _("indiquez la fin prévue")
    for name, value in (("starts_at", starts_at), ("planned_end_at", planned_end_at)):
        if value is not None and timezone.is_naive(value):
            errors[name] = _("date sans fuseau horaire")
    if not errors and starts_at and planned_end_at and planned_end_at <= starts_at:
        errors["planned_end_at"] = _("la fin prévue doit suivre le début")
    if errors:
        raise ValidationError(errors)


def _mail_queue(update: NoticeUpdate) -> None:
    """The contacts hear of it once the write commits; nothing leaves if it rolls back."""
    transaction.on_commit(partial(_mail_enqueue, update_id=update.pk))


def _mail_enqueue(*, update_id: int) -> None:
    from mutualis.notices.tasks import notice_mail  # the task module imports the mail module

    notice_mail.enqueue(update_id)


def _timeline(notice: Notice, *, actor: User | None, kind: str, body: str = "") -> NoticeUpdate:
    return NoticeUpdate.objects.create(notice=notice, kind=kind, body=body, author=actor)


def notice_create(
    *,
    actor: User,
    kind: str,
    title: str,
    description: str,
    applications: Sequence[Application],
    starts_at: dt.datetime,
    planned_end_at: dt.datetime,
    in_progress: bool = False,
) -> Notice:
    """Publish a notice: the affected members' contacts get a mail. An incident already under way
    is published « en cours »."""
    _require_staff_writer(actor)
    if kind not in Kind.values:
        raise ValidationError({"kind": _("nature inconnue")})
    title = _check_text("title", title)
    description = _check_text("description", description)
    if not applications:
        raise ValidationError({"applications": _("choisissez au moins une application")})
    _check_period(starts_at, planned_end_at)
    with transaction.atomic():
        notice = Notice.objects.create(
            kind=kind,
            title=title[:200],
            description=description,
            starts_at=starts_at,
            planned_end_at=planned_end_at,
            state=State.IN_PROGRESS if in_progress else State.PLANNED,
            author=actor,
        )
        notice.applications.set(applications)
        audit_create(actor=actor, obj=notice)
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            obj=notice,
            changes={"applications": [[], sorted(a.slug for a in applications)]},
        )
        _mail_queue(_timeline(notice, actor=actor, kind=UpdateKind.PUBLISHED))
    return notice


def notice_edit(
    *, actor: User, notice: Notice, data: dict[str, object], applications: Sequence[Application] | None = None
) -> dict[str, list[object]]:
    """Correct a notice (its wording, dates, applications); no mail: a message says what changed
    to the people concerned. An ended or cancelled notice stays as it was."""
    _require_staff_writer(actor)
    unknown = set(data) - set(EDITABLE)
    if unknown:
        raise ValidationError(_("champs non modifiables : %(names)s") % {"names": ", ".join(sorted(unknown))})
    if applications is not None and not applications:
        raise ValidationError({"applications": _("choisissez au moins une application")})
    with transaction.atomic():
        locked = Notice.objects.select_for_update().get(pk=notice.pk)
        if not locked.is_current:
            raise ValidationError(_("un avis terminé ou annulé ne se modifie plus"))
        before = snapshot(locked, EDITABLE)
        before_apps = sorted(locked.applications.values_list("slug", flat=True))
        for name, value in data.items():
            if name in {"title", "description"}:
                value = _check_text(name, str(value or ""))
            setattr(locked, name, value)
        if locked.kind not in Kind.values:
            raise ValidationError({"kind": _("nature inconnue")})
        _check_period(locked.starts_at, locked.planned_end_at)
        changes = diff(before, snapshot(locked, EDITABLE))
        if applications is not None:
            after_apps = sorted(a.slug for a in applications)
            if after_apps != before_apps:
                locked.applications.set(applications)
                changes["applications"] = [before_apps, after_apps]
        if changes:
            locked.save(update_fields=[*(n for n in changes if n != "applications"), "updated_at"])
            audit_record(actor=actor, action=AuditAction.UPDATE, obj=locked, changes=changes)
    return changes


def notice_message_add(*, actor: User, notice: Notice, body: str) -> NoticeUpdate:
    """A point of situation on the timeline, mailed to the affected members' contacts."""
    _require_staff_writer(actor)
    body = _check_text("body", body)
    with transaction.atomic():
        locked = Notice.objects.select_for_update().get(pk=notice.pk)
        if not locked.is_current:
            raise ValidationError(_("cet avis est clos : publiez un nouvel avis"))
        update = _timeline(locked, actor=actor, kind=UpdateKind.MESSAGE, body=body)
        audit_record(actor=actor, action=AuditAction.UPDATE, obj=locked, changes={"message": [None, body[:300]]})
        _mail_queue(update)
    return update


def notice_transition(
    *, actor: User, notice: Notice, action: str, message: str = "", now: dt.datetime | None = None
) -> Notice:
    """Start, end or cancel along the table of enums.TRANSITIONS; ending records the actual end.
    The optional message goes on the timeline and in the mail."""
    _require_staff_writer(actor)
    message = _check_text("message", message, required=False)
    now = now or timezone.now()
    with transaction.atomic():
        locked = Notice.objects.select_for_update().get(pk=notice.pk)
        target = TRANSITIONS.get((action, locked.state))
        if target is None:
            label = Action(action).label if action in Action.values else action
            raise ValidationError(
                _("impossible de « %(action)s » un avis à l'état « %(state)s »")
                % {"action": label, "state": State(locked.state).label}
            )
        before = snapshot(locked, ["state", "ended_at"])
        locked.state = target
        if target == State.ENDED:
            locked.ended_at = now
        locked.save(update_fields=["state", "ended_at", "updated_at"])
        changes = diff(before, snapshot(locked, ["state", "ended_at"]))
        audit_record(actor=actor, action=AuditAction.UPDATE, obj=locked, changes=changes)
        _mail_queue(_timeline(locked, actor=actor, kind=UPDATE_OF_ACTION[Action(action)], body=message))
    return locked


@dataclass
class EndReport:
    """What ending an incident did to its linked tickets: each one solved, or why not."""

    notice: Notice
    solved: list[Ticket] = field(default_factory=list)
    refused: list[tuple[Ticket, str]] = field(default_factory=list)


def notice_end(
    *,
    actor: User,
    notice: Notice,
    message: str = "",
    solve_linked: bool = False,
    solution: str = "",
    now: dt.datetime | None = None,
) -> EndReport:
    """End the notice and, when asked, solve every linked open ticket with one solution, each
    through the helpdesk's own transition (its transition log, audit entry and mail to the
    requester). A ticket that cannot be solved (already solved, closed) is reported with the
    helpdesk's reason; the others are solved all the same."""
    if solve_linked:
        solution = _check_text("solution", solution)
    with transaction.atomic():
        ended = notice_transition(actor=actor, notice=notice, action=Action.END, message=message, now=now)
        report = EndReport(notice=ended)
        if solve_linked:
            links = NoticeTicket.objects.visible_to(actor).filter(notice=ended).select_related("ticket")
            for link in links.order_by("ticket__reference"):
                try:
                    # ticket_transition runs in its own savepoint: a refusal undoes that ticket only.
                    solved = ticket_transition(
                        actor=actor, ticket=link.ticket, action=TicketAction.SOLVE, comment=solution, now=now
                    )
                except ValidationError as error:
                    report.refused.append((link.ticket, " ".join(error.messages)))
                else:
                    report.solved.append(solved)
    return report


def notice_ticket_link(*, actor: User, notice: Notice, reference: str) -> NoticeTicket:
    """Link a ticket, named by its reference, to a major incident under way or planned."""
    _require_staff_writer(actor)
    reference = (reference or "").strip().upper()
    if not reference:
        raise ValidationError({"reference": _("indiquez la référence du ticket")})
    if notice.kind != Kind.INCIDENT:
        raise ValidationError(_("seuls les incidents majeurs reçoivent des tickets liés"))
    if not notice.is_current:
        raise ValidationError(_("cet incident est clos : il ne reçoit plus de tickets"))
    ticket = Ticket.objects.visible_to(actor).filter(reference=reference).first()
    if ticket is None:
        raise ValidationError({"reference": _("aucun ticket %(reference)s") % {"reference": reference}})
    with transaction.atomic():
        link, created = NoticeTicket.objects.get_or_create(notice=notice, ticket=ticket, defaults={"linked_by": actor})
        if not created:
            raise ValidationError(
                {"reference": _("le ticket %(reference)s est déjà lié à cet incident") % {"reference": reference}}
            )
        audit_create(actor=actor, obj=link)
    return link


def notice_ticket_unlink(*, actor: User, link: NoticeTicket) -> None:
    _require_staff_writer(actor)
    with transaction.atomic():
        audit_delete(actor=actor, obj=link)
        link.delete()


def calendar_token_create(*, actor: User) -> tuple[CalendarToken, str]:
    """A new secret feed address for `actor`; the previous one stops working. Returns the token
    and its secret, shown once."""
    secret = secrets.token_urlsafe(32)
    with transaction.atomic():
        calendar_token_revoke(actor=actor)
        token = CalendarToken.objects.create(
            user=actor, prefix=secret[:8], digest=hashlib.sha256(secret.encode()).hexdigest()
        )
        audit_record(
            actor=actor, action=AuditAction.TOKEN_CREATE, obj=token, object_repr=f"jeton d'agenda {token.prefix}…"
        )
    return token, secret


def calendar_token_revoke(*, actor: User, now: dt.datetime | None = None) -> int:
    """Revoke `actor`'s live feed address; returns how many were revoked (0 or 1)."""
    now = now or timezone.now()
    with transaction.atomic():
        live = list(CalendarToken.objects.select_for_update().filter(user=actor, revoked_at__isnull=True))
        for token in live:
            token.revoked_at = now
            token.save(update_fields=["revoked_at", "updated_at"])
            audit_record(
                actor=actor,
                action=AuditAction.TOKEN_REVOKE,
                obj=token,
                object_repr=f"jeton d'agenda {token.prefix}…",
            )
    return len(live)
