"""Writes on tickets: creation with its service levels, assignment, the lifecycle's transitions,
followups, tasks, attachments, merging, satisfaction and service-level escalation.

Every function validates first, then writes in one transaction with an audit entry and a
transition log where the status moves; mail leaves after the commit."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from pathlib import PurePath
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, connection, transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from mutualis.accounts.models import User
from mutualis.catalog.cache import ApplicationRef
from mutualis.catalog.models import Application
from mutualis.catalog.selectors import is_subscribed
from mutualis.core import uploads
from mutualis.core.audit import audit_create, audit_record, diff, snapshot
from mutualis.core.models import AuditAction
from mutualis.core.tenancy import is_operator, require_operator_staff, require_writer
from mutualis.helpdesk import notifications, sla
from mutualis.helpdesk.enums import (
    OPEN_STATUSES,
    OWN_SERVICE_ACTIONS,
    TRANSITION_TABLE,
    Action,
    Actor,
    Clock,
    PendingReason,
    Source,
    Status,
    TicketType,
)
from mutualis.helpdesk.hooks import transition_hooks_run
from mutualis.helpdesk.models import (
    Attachment,
    Category,
    Followup,
    SlaEvent,
    Ticket,
    TicketSequence,
    TicketTask,
    TransitionLog,
)
from mutualis.lib.business_time import business_seconds
from mutualis.members.models import OperatorService, Organisation


# -- helpers ------------------------------------------------------------------------------------
def priority_for(urgency: int, impact: int) -> int:
    """The configured matrix (GLPI's default unless changed); the mean when a cell is missing."""
    return sla.priority_of(urgency, impact)


def actor_kind(actor: User | None, ticket: Ticket) -> str:
    if actor is None:
        return Actor.SYSTEM
    if is_operator(actor):
        return Actor.STAFF
    if actor.organisation_id == ticket.collectivity_id and (
        actor.pk == ticket.requester_id or actor.is_member_manager or ticket.watchers.filter(pk=actor.pk).exists()
    ):
        return Actor.REQUESTER
    raise Http404(_("ticket introuvable"))


def check_text(field: str, value: str, *, required: bool = True) -> str:
    """A text the requester or staff typed: required when asked, within HELPDESK_MAX_TEXT_BYTES;
    the questionnaires apply it to their free-text answers."""
    value = value or ""
    if required and not value.strip():
        raise ValidationError({field: _("ce champ est obligatoire")})
    if len(value.encode()) > settings.HELPDESK_MAX_TEXT_BYTES:
        raise ValidationError(
            {
                field: _("texte trop long : %(size)d octets pour %(max)d au plus")
                % {"size": len(value.encode()), "max": settings.HELPDESK_MAX_TEXT_BYTES}
            }
        )
    return value


def check_upload(upload: UploadedFile) -> None:
    """Size and type limits, the same for every upload path (mutualis.core.uploads)."""
    uploads.check_upload(upload, field="attachments", max_bytes=settings.HELPDESK_MAX_ATTACHMENT_BYTES)


def _next_reference(year: int) -> str:
    """The year's next number in one statement: the UPDATE holds the row's lock until the commit,
    which serialises concurrent creations on PostgreSQL (SQLite's IMMEDIATE transactions already
    do), and RETURNING gives the number without a second read. The year's row is created by its
    first ticket."""
    quote = connection.ops.quote_name
    # Identifiers from the model, the year as a parameter.
    sql = (
        f"UPDATE {quote(TicketSequence._meta.db_table)} SET {quote('last')} = {quote('last')} + 1 "  # noqa: S608
        f"WHERE {quote('year')} = %s RETURNING {quote('last')}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [year])
        row = cursor.fetchone()
        if row is None:
            TicketSequence.objects.get_or_create(year=year)
            cursor.execute(sql, [year])
            row = cursor.fetchone()
    return f"{year}-{row[0]:06d}"


def _log(
    ticket: Ticket, *, actor: User | None, action: str, source: str, target: str, comment: str, at: dt.datetime
) -> None:
    row = TransitionLog.objects.create(
        ticket=ticket,
        actor=actor,
        action=action,
        from_status=source,
        to_status=target,
        comment=comment,
        created_at=at,
    )
    transition_hooks_run(ticket, row)  # the vendor clocks (ola) open or close an episode


def application_error(*, collectivity: Organisation, application: Application | ApplicationRef | None) -> str | None:
    """Why a ticket of `collectivity` may not name `application` (None when it may): a member's
    ticket concerns an application it subscribes to in the catalogue, or none. Every channel
    (request forms, pages, API, mail, import) reaches this one rule through the services."""
    if application is None or is_subscribed(collectivity_id=collectivity.pk, application_id=application.id):
        return None
    message = _(
        "%(org)s n'est pas abonnée à l'application « %(app)s » : choisissez une application de ses abonnements."
    )
    return message % {"org": collectivity, "app": application}


# -- creation -----------------------------------------------------------------------------------
def ticket_create(
    *,
    actor: User | None,
    collectivity: Organisation,
    requester: User | None,
    ticket_type: str,
    title: str,
    description: str,
    application: Application | ApplicationRef | None = None,
    category: Category | None = None,
    urgency: int = 3,
    impact: int = 3,
    blocking: bool = False,
    group: OperatorService | None = None,
    source: str = Source.WEB,
    watchers: Sequence[User] = (),
    attachments: Sequence[UploadedFile] = (),
    linked_to: Ticket | None = None,
    now: dt.datetime | None = None,
    via: str = "web",
) -> Ticket:
    """Open a ticket: reference, priority from the matrix, the applicable policy, budgets and due
    dates on its calendar. A member account files for its own collectivity only."""
    if actor is not None:
        require_writer(actor)
        if not is_operator(actor):
            if collectivity.pk != actor.organisation_id:
                raise Http404(_("collectivité introuvable"))
            if requester is None or requester.pk != actor.pk and not actor.is_member_manager:
                requester = actor
    errors: dict[str, str] = {}
    if ticket_type not in TicketType.values:
        errors["ticket_type"] = _("type inconnu : %(value)s") % {"value": ticket_type}
    if requester is not None and requester.organisation_id != collectivity.pk:
        errors["requester"] = _("le demandeur n'appartient pas à %(org)s") % {"org": collectivity}
    if collectivity.is_operator:
        errors["collectivity"] = _("un ticket concerne une collectivité adhérente")
    for name, value in (("urgency", urgency), ("impact", impact)):
        if not 1 <= int(value) <= 5:
            errors[name] = _("entre 1 et 5")
    refused = application_error(collectivity=collectivity, application=application)
    if refused:
        errors["application"] = refused
    if errors:
        raise ValidationError(errors)
    title = check_text("title", title).strip()[:250]
    description = check_text("description", description)
    for upload in attachments:
        check_upload(upload)
    now = now or timezone.now()
    priority = priority_for(urgency, impact)
    policy = sla.policy_for(ticket_type=ticket_type, priority=priority, blocking=blocking)
    config = sla.sla_config()
    calendar = config.calendar(policy.calendar_id if policy else config.default_calendar_id)
    assert calendar is not None  # the configuration holds the default and every active policy's calendar
    spec = calendar.spec
    group_id = group.pk if group is not None else None
    if group_id is None and category is not None:
        group_id = category.default_group_id
    if group_id is None and application is not None:
        group_id = application.support_group_id
    # Files first in the storage, rows in the transaction: a failure (the disk full, the database)
    # rolls the rows back and deletes the files, so a ticket is whole or absent.
    with uploads.files_kept_only_on_success(default_storage) as written, transaction.atomic():
        ticket = Ticket(
            reference=_next_reference(timezone.localtime(now).year),
            ticket_type=ticket_type,
            source=source,
            collectivity=collectivity,
            requester=requester,
            application_id=application.id if application is not None else None,
            category=category,
            title=title,
            description=description,
            urgency=urgency,
            impact=impact,
            priority=priority,
            blocking=blocking,
            group_id=group_id,
            policy_id=policy.id if policy is not None else None,
            calendar_id=calendar.id,
            opened_at=now,
            linked_to=linked_to,
        )
        ticket.opened_offset = calendar.offsets().offset(now)
        if policy is not None:
            ticket.tto_budget_s = sla.budget_seconds(spec, now, policy.tto_value, policy.tto_unit)
            ticket.ttr_budget_s = sla.budget_seconds(spec, now, policy.ttr_value, policy.ttr_unit)
            sla.refresh_due_dates(ticket, spec)
        ticket.save(force_insert=True)
        if watchers:
            ticket.watchers.set(watchers)
        for upload in attachments:
            _store(ticket, upload, actor=actor, written=written)
        audit_create(actor=actor, obj=ticket, via=via)
        notifications.notify(ticket, "created", summary=_("Nouveau ticket %(ref)s") % {"ref": ticket.reference})
    return ticket


def _store(
    ticket: Ticket, upload: UploadedFile, *, actor: User | None, written: list[str], followup: Followup | None = None
) -> Attachment:
    """The file in the storage (its name added to `written`, for the caller to delete should its
    transaction fail), then its row."""
    name = PurePath(upload.name or "fichier").name
    attachment = Attachment(
        ticket=ticket,
        followup=followup,
        name=name,
        size=upload.size or 0,
        content_type=getattr(upload, "content_type", "") or "application/octet-stream",
        uploaded_by=actor,
    )
    attachment.file.save(name, upload, save=False)
    written.append(str(attachment.file.name))
    attachment.save()
    return attachment


def attachment_add(*, actor: User, ticket: Ticket, upload: UploadedFile) -> Attachment:
    actor_kind(actor, ticket)
    require_writer(actor)
    check_upload(upload)
    with uploads.files_kept_only_on_success(default_storage) as written, transaction.atomic():
        attachment = _store(ticket, upload, actor=actor, written=written)
        audit_create(actor=actor, obj=attachment)
    return attachment


# -- edits and assignment -----------------------------------------------------------------------
TICKET_FIELDS = ("title", "ticket_type", "application", "category", "urgency", "impact", "blocking", "vendor_reference")


def ticket_update(*, actor: User, ticket: Ticket, data: dict[str, Any], via: str = "web") -> dict[str, list[Any]]:
    """Staff requalify a ticket; a new urgency or impact recomputes the priority (the policy and
    its due dates stay those of the opening, as GLPI does)."""
    require_operator_staff(actor)
    require_writer(actor)
    unknown = set(data) - set(TICKET_FIELDS)
    if unknown:
        raise ValidationError(_("champs non modifiables : %(f)s") % {"f": ", ".join(sorted(unknown))})
    before = snapshot(ticket)
    previous_application = ticket.application_id
    for name, value in data.items():
        setattr(ticket, name, value)
    if "title" in data:
        ticket.title = check_text("title", ticket.title).strip()[:250]
    ticket.priority = priority_for(ticket.urgency, ticket.impact)
    if ticket.application_id != previous_application:  # a legacy ticket's application may stay
        refused = application_error(collectivity=ticket.collectivity, application=ticket.application)
        if refused:
            raise ValidationError({"application": refused})
    ticket.full_clean(exclude=["calendar", "collectivity"])
    changes = diff(before, snapshot(ticket))
    if changes:
        with transaction.atomic():
            ticket.save(update_fields=[*changes, "updated_at"])
            audit_record(actor=actor, action=AuditAction.UPDATE, obj=ticket, changes=changes, via=via)
    return changes


def ticket_assign(
    *,
    actor: User,
    ticket: Ticket,
    group: OperatorService | None,
    technician: User | None,
    now: dt.datetime | None = None,
    via: str = "web",
) -> Ticket:
    """Give the ticket to a group and/or a technician; counts a reassignment when it had one."""
    require_operator_staff(actor)
    require_writer(actor)
    if technician is not None and not technician.is_operator:
        raise ValidationError({"technician": _("un technicien est un agent de l'opérateur")})
    if group is None and technician is None:
        raise ValidationError({"group": _("choisissez un groupe ou un technicien")})
    now = now or timezone.now()
    with transaction.atomic():
        ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
        before = snapshot(ticket, ["group", "technician", "status", "taken_at", "reassign_count"])
        had = ticket.technician_id or ticket.group_id
        changed = (group is not None and group.pk != ticket.group_id) or (
            technician is not None and technician.pk != ticket.technician_id
        )
        if group is not None:
            ticket.group = group
        if technician is not None:
            ticket.technician = technician
            if group is None and technician.service_id:
                ticket.group_id = technician.service_id
        if had and changed:
            ticket.reassign_count += 1
        if ticket.status in {Status.NEW, Status.IN_PROGRESS, Status.PENDING} and (
            (Action.ASSIGN, ticket.status) in TRANSITION_TABLE
        ):
            _apply(ticket, actor=actor, action=Action.ASSIGN, comment="", now=now)
        ticket.save()
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            obj=ticket,
            changes=diff(before, snapshot(ticket, before.keys())),
            via=via,
        )
        notifications.notify(ticket, "assigned", summary=_("Ticket attribué"))
    return ticket


# -- the lifecycle ------------------------------------------------------------------------------
def _mark_taken(ticket: Ticket, now: dt.datetime) -> None:
    """First taken into account: the end of the time to own."""
    if ticket.taken_at is None:
        ticket.taken_at = now
        ticket.taken_offset = ticket.calendar.offsets().offset(now)
        ticket.tto_breached = bool(ticket.tto_due_at and now > ticket.tto_due_at)


def _apply(
    ticket: Ticket, *, actor: User | None, action: str, comment: str, now: dt.datetime, pending_reason: str = ""
) -> None:
    """Move `ticket` along the transition table, with the clocks' side effects. Caller saves."""
    transition = TRANSITION_TABLE.get((action, ticket.status))
    kind = actor_kind(actor, ticket)
    if transition is None or kind not in transition.by:
        label = Action(action).label if action in Action.values else action
        raise ValidationError(
            _("transition refusée : « %(action)s » n'est pas possible depuis le statut « %(status)s »")
            % {"action": label, "status": Status(ticket.status).label}
        )
    source = ticket.status
    spec = None
    if source == Status.PENDING and ticket.pending_since is not None:
        spec = ticket.calendar.spec()

        ticket.waiting_seconds += business_seconds(spec, ticket.pending_since, now)
        ticket.pending_since = None
        ticket.pending_reason = ""
        sla.refresh_due_dates(ticket, spec)
    if action in {Action.ASSIGN, Action.TAKE}:
        _mark_taken(ticket, now)
    if action == Action.WAIT:
        if pending_reason not in PendingReason.values:
            raise ValidationError({"pending_reason": _("indiquez qui est attendu : le demandeur ou l'éditeur")})
        ticket.pending_since = now
        ticket.pending_reason = pending_reason
        _mark_taken(ticket, now)
    if action == Action.SOLVE:
        _mark_taken(ticket, now)
        ticket.solved_at = now
        ticket.solved_offset = ticket.calendar.offsets().offset(now)
        ticket.ttr_breached = ticket.ttr_breached or bool(ticket.ttr_due_at and now > ticket.ttr_due_at)
    if action in {Action.ACCEPT, Action.CLOSE}:
        ticket.closed_at = now
    if action == Action.MERGE:
        # The duplicate's clocks stop as at a closure: solved now unless it already was.
        ticket.closed_at = now
        if ticket.solved_at is None:
            ticket.solved_at = now
            ticket.solved_offset = ticket.calendar.offsets().offset(now)
    if action == Action.REFUSE:
        ticket.solved_at = None
        ticket.solved_offset = None
    if action == Action.REOPEN:
        limit = dt.timedelta(days=settings.HELPDESK_REOPEN_DAYS)
        if kind != Actor.STAFF and ticket.closed_at and now - ticket.closed_at > limit:
            raise ValidationError(
                _("ce ticket est clos depuis plus de %(days)d jours : ouvrez une nouvelle demande liée")
                % {"days": settings.HELPDESK_REOPEN_DAYS}
            )
        ticket.closed_at = None
        ticket.solved_at = None
        ticket.solved_offset = None
        ticket.reopen_count += 1
    ticket.status = transition.target
    _log(ticket, actor=actor, action=action, source=source, target=transition.target, comment=comment, at=now)


EVENT_OF = {
    Action.SOLVE: "solved",
    Action.ACCEPT: "closed",
    Action.CLOSE: "closed",
    Action.REOPEN: "reopened",
    Action.REFUSE: "refused",
    Action.ASSIGN: "assigned",
}


def ticket_transition(
    *,
    actor: User,
    ticket: Ticket,
    action: str,
    comment: str = "",
    pending_reason: str = "",
    is_private: bool = False,
    now: dt.datetime | None = None,
    via: str = "web",
) -> Ticket:
    """The one way a ticket's status changes. Solving needs the solution; refusing it needs why.
    The comment becomes a followup; operator staff may keep it private (waiting for the vendor,
    say), except a solution, which is addressed to the requester."""
    if actor is not None:
        require_writer(actor)
    if action in OWN_SERVICE_ACTIONS:
        raise ValidationError(
            _("« %(action)s » passe par son propre formulaire, pas par un changement de statut")
            % {"action": Action(action).label}
        )
    comment = check_text("comment", comment, required=action in {Action.SOLVE, Action.REFUSE})
    if is_private:
        if actor is None or not is_operator(actor):
            raise PermissionDenied(_("seuls les agents de l'opérateur écrivent des notes privées"))
        if action == Action.SOLVE:
            raise ValidationError(
                {"is_private": _("la solution est adressée au demandeur : elle ne peut pas être privée")}
            )
    now = now or timezone.now()
    with transaction.atomic():
        ticket = Ticket.objects.select_for_update().select_related("calendar").get(pk=ticket.pk)
        before = snapshot(ticket)
        _apply(ticket, actor=actor, action=action, comment=comment, now=now, pending_reason=pending_reason)
        ticket.save()
        if comment.strip():
            Followup.objects.create(
                ticket=ticket,
                author=actor,
                body=comment,
                is_private=is_private,
                is_solution=action == Action.SOLVE,
            )
        audit_record(
            actor=actor, action=AuditAction.UPDATE, obj=ticket, changes=diff(before, snapshot(ticket)), via=via
        )
        if action in EVENT_OF:
            # A private comment stays out of the mail, which also reaches the requester.
            summary = "" if is_private else comment[:500]
            notifications.notify(ticket, EVENT_OF[Action(action)], summary=summary)
    return ticket


def followup_add(
    *,
    actor: User,
    ticket: Ticket,
    body: str,
    is_private: bool = False,
    attachments: Sequence[UploadedFile] = (),
    source: str = Source.WEB,
    now: dt.datetime | None = None,
    via: str = "web",
) -> Followup:
    """A message on the ticket. Members cannot write private notes; a requester's answer to a
    ticket waiting for them resumes it; a staff answer to a new ticket takes it into account."""
    kind = actor_kind(actor, ticket)
    if actor is not None:
        require_writer(actor)
    if kind != Actor.STAFF and is_private:
        raise PermissionDenied(_("seuls les agents de l'opérateur écrivent des notes privées"))
    if ticket.status == Status.CLOSED:
        raise ValidationError(
            _("ce ticket est clos : rouvrez-le ou ouvrez une nouvelle demande liée à %(ref)s")
            % {"ref": ticket.reference}
        )
    body = check_text("body", body)
    for upload in attachments:
        check_upload(upload)
    now = now or timezone.now()
    with uploads.files_kept_only_on_success(default_storage) as written, transaction.atomic():
        locked = Ticket.objects.select_for_update().select_related("calendar").get(pk=ticket.pk)
        followup = Followup.objects.create(
            ticket=locked,
            author=actor,
            body=body,
            is_private=is_private,
            source=source,
        )
        for upload in attachments:
            _store(locked, upload, actor=actor, written=written, followup=followup)
        if (
            kind == Actor.REQUESTER
            and locked.status == Status.PENDING
            and locked.pending_reason == PendingReason.REQUESTER
        ):
            _apply(locked, actor=None, action=Action.RESUME, comment=_("réponse du demandeur"), now=now)
            locked.save()
        elif kind == Actor.STAFF and locked.taken_at is None and not is_private:
            _mark_taken(locked, now)
            locked.save(update_fields=["taken_at", "taken_offset", "tto_breached", "updated_at"])
        audit_create(actor=actor, obj=followup, via=via)
        if not is_private:
            notifications.notify(locked, "followup", summary=body[:500])
    return followup


def task_add(
    *,
    actor: User,
    ticket: Ticket,
    description: str,
    duration_seconds: int,
    done_on: dt.date | None = None,
    via: str = "web",
) -> TicketTask:
    require_operator_staff(actor)
    require_writer(actor)
    if duration_seconds <= 0 or duration_seconds > 24 * 3600:
        raise ValidationError({"duration_seconds": _("une durée entre 1 minute et 24 heures")})
    task = TicketTask(
        ticket=ticket,
        author=actor,
        description=check_text("description", description),
        duration_seconds=duration_seconds,
        done_on=done_on or timezone.localdate(),
    )
    with transaction.atomic():
        task.save()
        audit_create(actor=actor, obj=task, via=via)
    return task


def ticket_merge(*, actor: User, duplicate: Ticket, into: Ticket, now: dt.datetime | None = None) -> Ticket:
    """Fold a duplicate into another open ticket of the same collectivity: its followups,
    attachments, requester and watchers move to the one kept, and it closes through the
    transition table (Action.MERGE, logged like any other status change) pointing to it.

    Both rows are locked, in primary-key order so two merges of the same pair in opposite
    directions cannot deadlock, and read again under the lock: a duplicate that a concurrent
    request has closed or merged meanwhile is refused. Both tickets get an audit entry; the
    duplicate's requester and watchers are told where their request goes on."""
    require_operator_staff(actor)
    require_writer(actor)
    if duplicate.pk == into.pk:
        raise ValidationError(_("un ticket ne peut être fusionné dans lui-même"))
    now = now or timezone.now()
    with transaction.atomic():
        locked = {
            ticket.pk: ticket
            for ticket in Ticket.objects.select_for_update(of=("self",))
            .select_related("calendar")
            .filter(pk__in=[duplicate.pk, into.pk])
            .order_by("pk")
        }
        duplicate, into = locked[duplicate.pk], locked[into.pk]
        _check_merge(duplicate, into)
        duplicate_before = snapshot(duplicate)
        into_watchers = sorted(into.watchers.values_list("pk", flat=True))
        _apply(
            duplicate,
            actor=actor,
            action=Action.MERGE,
            comment=_("fusionné dans %(ref)s") % {"ref": into.reference},
            now=now,
        )
        duplicate.merged_into = into
        duplicate.save()
        Followup.objects.filter(ticket=duplicate).update(ticket=into)
        Attachment.objects.filter(ticket=duplicate).update(ticket=into)
        into.watchers.add(*duplicate.watchers.all(), *([duplicate.requester] if duplicate.requester else []))
        Followup.objects.create(
            ticket=into,
            author=actor,
            is_private=False,
            body=_("Le ticket %(dup)s (« %(title)s ») a été fusionné dans celui-ci.")
            % {"dup": duplicate.reference, "title": duplicate.title},
        )
        into.save(update_fields=["updated_at"])
        audit_record(
            actor=actor, action=AuditAction.UPDATE, obj=duplicate, changes=diff(duplicate_before, snapshot(duplicate))
        )
        into_changes: dict[str, list[Any]] = {"merged": [None, duplicate.reference]}
        watchers_after = sorted(into.watchers.values_list("pk", flat=True))
        if watchers_after != into_watchers:
            into_changes["watchers"] = [into_watchers, watchers_after]
        audit_record(actor=actor, action=AuditAction.UPDATE, obj=into, changes=into_changes)
        notifications.notify(
            duplicate,
            "merged",
            summary=_("Demande regroupée avec %(ref)s") % {"ref": into.reference},
        )
    return into


def _check_merge(duplicate: Ticket, into: Ticket) -> None:
    """Why these two tickets, as read under their locks, may not be merged."""
    if duplicate.collectivity_id != into.collectivity_id:
        raise ValidationError(_("les deux tickets doivent concerner la même collectivité"))
    if duplicate.merged_into_id is not None:
        raise ValidationError(
            _("le ticket %(dup)s est déjà fusionné dans %(ref)s")
            % {"dup": duplicate.reference, "ref": duplicate.merged_into.reference}  # type: ignore[union-attr]
        )
    if duplicate.status == Status.CLOSED:
        raise ValidationError(
            _("le ticket %(dup)s est clos : seul un ticket ouvert ou résolu se fusionne") % {"dup": duplicate.reference}
        )
    if into.status == Status.CLOSED:
        raise ValidationError(_("le ticket conservé est clos"))


def satisfaction_record(*, ticket: Ticket, rating: int, comment: str = "", now: dt.datetime | None = None) -> Ticket:
    """The closing survey (1–5 and a comment). Answered once: the signed link is single-use."""
    if ticket.status != Status.CLOSED:
        raise ValidationError(_("l'enquête s'ouvre à la clôture du ticket"))
    if ticket.satisfaction_at is not None:
        raise ValidationError(_("vous avez déjà répondu à cette enquête, merci"))
    if not 1 <= int(rating) <= 5:
        raise ValidationError({"rating": _("une note entre 1 et 5")})
    comment = check_text("comment", comment, required=False)
    with transaction.atomic():
        updated = Ticket.objects.filter(pk=ticket.pk, satisfaction_at__isnull=True).update(
            satisfaction=rating, satisfaction_comment=comment, satisfaction_at=now or timezone.now()
        )
        if not updated:  # a concurrent answer won
            raise ValidationError(_("vous avez déjà répondu à cette enquête, merci"))
        ticket.refresh_from_db()
        audit_record(
            actor=ticket.requester,
            action=AuditAction.UPDATE,
            obj=ticket,
            changes={"satisfaction": [None, rating]},
            via="survey",
        )
    return ticket


# -- service-level escalation ---------------------------------------------------------------------
# Tickets are swept in batches, each batch in its own short transaction that locks its rows
# (SKIP LOCKED): an overlapping run (cron and a task worker, two timers) passes over the tickets
# another run holds instead of waiting or telling the group twice. SQLite ignores the lock; there
# the event's unique constraint alone decides.
ESCALATION_BATCH = 200


def sla_escalate(
    *,
    now: dt.datetime | None = None,
    batch_size: int = ESCALATION_BATCH,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Tell each open ticket's group when a clock crosses 50/75/100 % (configurable per policy) of
    its budget, once per level, and mark breaches. Returns the number of events recorded.
    `progress` is told how many tickets were examined after each batch.

    A level's mail is queued only when this run inserted its event: whatever another run already
    recorded, even a moment ago in a transaction this one could not see, is never told again."""
    now = now or timezone.now()
    candidates = Ticket.objects.filter(status__in=OPEN_STATUSES, policy__isnull=False)
    specs: dict[int, Any] = {}
    recorded = 0
    after = 0
    examined = 0
    while True:
        with transaction.atomic():
            batch = list(
                candidates.filter(pk__gt=after)
                .select_related("policy", "calendar")
                .select_for_update(skip_locked=True, of=("self",))
                .order_by("pk")[:batch_size]
            )
            if not batch:
                break
            after = batch[-1].pk
            done: set[tuple[int, str, int]] = set(
                SlaEvent.objects.filter(ticket__in=[t.pk for t in batch]).values_list("ticket_id", "clock", "percent")
            )
            for ticket in batch:
                spec = specs.get(ticket.calendar_id)
                if spec is None:
                    spec = specs[ticket.calendar_id] = sla.calendar_spec(ticket.calendar)
                recorded += _escalate_ticket(ticket, spec=spec, now=now, done=done)
        examined += len(batch)
        if progress is not None:
            progress(examined)
    return recorded


def _escalate_ticket(ticket: Ticket, *, spec: Any, now: dt.datetime, done: set[tuple[int, str, int]]) -> int:
    """Record the levels `ticket` has newly crossed (locked by the caller) and queue one mail per
    clock for the levels actually recorded."""
    assert ticket.policy is not None  # the sweep keeps tickets with a policy
    recorded = 0
    for clock, budget in ((Clock.TTO, ticket.tto_budget_s), (Clock.TTR, ticket.ttr_budget_s)):
        if not budget or (clock == Clock.TTO and ticket.taken_at is not None):
            continue
        percent = 100 * sla.clock_elapsed(ticket, spec, clock, now) / budget
        field = "tto_breached" if clock == Clock.TTO else "ttr_breached"
        if percent >= 100 and not getattr(ticket, field):
            Ticket.objects.filter(pk=ticket.pk).update(**{field: True})
            setattr(ticket, field, True)
        crossed = [
            level for level in ticket.policy.levels() if percent >= level and (ticket.pk, clock, level) not in done
        ]
        new = [level for level in crossed if _sla_event_insert(ticket=ticket, clock=clock, percent=level)]
        if new:
            notifications.notify(
                ticket,
                "escalated",
                summary=_("Délai de %(clock)s consommé à %(pct)d %%") % {"clock": Clock(clock).label, "pct": max(new)},
            )
            recorded += len(new)
    return recorded


def _sla_event_insert(*, ticket: Ticket, clock: str, percent: int) -> bool:
    """Insert one level's event; False when it exists already (the unique constraint, in a
    savepoint so the batch's transaction goes on)."""
    try:
        with transaction.atomic():
            SlaEvent.objects.create(ticket=ticket, clock=clock, percent=percent)
    except IntegrityError:
        return False
    return True
