"""Writes on governance, by operator staff writers: bodies and mandates (with replacements),
sittings from agenda to minutes (convocation with its legal notice, attendance and quorum, votes,
numbered deliberations), and the decisions taken on delegation. Every write is atomic and audited."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext

from mutualis.accounts.models import User
from mutualis.core.audit import audit_record, diff, snapshot
from mutualis.core.mail import absolute_url, mail_message
from mutualis.core.models import AuditAction
from mutualis.core.services import model_create, model_update
from mutualis.core.tenancy import require_operator_staff, require_writer
from mutualis.core.timefmt import local_datetime
from mutualis.governance.enums import (
    EMERGENCY_NOTICE_CLEAR_DAYS,
    NOTICE_CLEAR_DAYS,
    REQUORUM_INTERVAL_DAYS,
    TRANSITIONS,
    Attendance,
    CastingVote,
    ItemKind,
    SittingState,
    VoteResult,
)
from mutualis.governance.models import (
    AgendaItem,
    Body,
    DelegatedDecision,
    Delegation,
    DeliberationCounter,
    Mandate,
    Person,
    Presence,
    Sitting,
    SittingTransition,
)
from mutualis.governance.selectors import sitting_members

BODY_FIELDS = (
    "slug",
    "name",
    "kind",
    "description",
    "titular_seats_per_member",
    "substitute_seats_per_member",
    "position",
)


def _require(actor: User) -> None:
    require_operator_staff(actor)
    require_writer(actor)


def _day(value: dt.datetime) -> dt.date:
    return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()


def _fr(day: dt.date) -> str:
    return f"{day.day:02d}/{day.month:02d}/{day.year}"


# --- bodies and mandates --------------------------------------------------------------------------


def body_create(*, actor: User, data: dict[str, Any]) -> Body:
    _require(actor)
    return model_create(actor=actor, model=Body, data=data)


def body_update(*, actor: User, body: Body, data: dict[str, Any]) -> dict[str, list[Any]]:
    _require(actor)
    _, changes = model_update(actor=actor, instance=body, data=data, fields=BODY_FIELDS)
    return changes


def person_create(*, actor: User, data: dict[str, Any]) -> Person:
    _require(actor)
    return model_create(actor=actor, model=Person, data=data)


def _person(*, actor: User, person_name: str, email: str = "") -> Person:
    """The person of that name, created on first appointment; an address given is kept."""
    name = " ".join(person_name.split())
    if not name:
        raise ValidationError({"person_name": gettext("indiquez le nom de la personne")})
    person = Person.objects.filter(slug=slugify(name)[:80]).first()
    if person is None:
        return model_create(
            actor=actor, model=Person, data={"slug": slugify(name)[:80], "full_name": name, "email": email}
        )
    if email and email != person.email:
        model_update(actor=actor, instance=person, data={"email": email}, fields=("email",))
    return person


def mandate_create(*, actor: User, data: dict[str, Any]) -> Mandate:
    _require(actor)
    return model_create(actor=actor, model=Mandate, data=data)


def mandate_appoint(*, actor: User, person_name: str, data: dict[str, Any], email: str = "") -> Mandate:
    """Seat a person (created on first appointment) on a body."""
    _require(actor)
    with transaction.atomic():
        person = _person(actor=actor, person_name=person_name, email=email)
        return model_create(actor=actor, model=Mandate, data={**data, "person": person})


def mandate_end(*, actor: User, mandate: Mandate, end_on: dt.date, reason: str = "") -> dict[str, list[Any]]:
    _require(actor)
    if mandate.end_on is not None and mandate.end_on < timezone.localdate():
        raise ValidationError(gettext("ce mandat a déjà pris fin le %(day)s") % {"day": _fr(mandate.end_on)})
    _, changes = model_update(
        actor=actor,
        instance=mandate,
        data={"end_on": end_on, "end_reason": reason.strip()},
        fields=("end_on", "end_reason"),
    )
    return changes


def mandate_replace(
    *, actor: User, mandate: Mandate, person_name: str, start_on: dt.date, reason: str, email: str = ""
) -> Mandate:
    """End `mandate` the day before `start_on` and seat the replacement in the same seat (body,
    role, organisation, title), linked to it: the history says who sat when."""
    _require(actor)
    if not reason.strip():
        raise ValidationError(
            {"reason": gettext("indiquez le motif du remplacement (démission, décès, nouvelle désignation…)")}
        )
    if mandate.start_on and start_on <= mandate.start_on:
        raise ValidationError(
            {
                "start_on": gettext("le remplacement commence après le début du mandat remplacé (%(day)s)")
                % {"day": _fr(mandate.start_on)}
            }
        )
    with transaction.atomic():
        mandate = Mandate.objects.select_for_update().get(pk=mandate.pk)
        if hasattr(mandate, "replaced_by"):
            raise ValidationError(gettext("ce mandat a déjà été remplacé"))
        last_day = start_on - dt.timedelta(days=1)
        if mandate.end_on is not None and mandate.end_on < last_day:
            raise ValidationError(
                {
                    "start_on": gettext("ce mandat a pris fin le %(day)s : nommez plutôt un nouveau membre")
                    % {"day": _fr(mandate.end_on)}
                }
            )
        model_update(
            actor=actor,
            instance=mandate,
            data={"end_on": last_day, "end_reason": reason.strip()},
            fields=("end_on", "end_reason"),
        )
        person = _person(actor=actor, person_name=person_name, email=email)
        if person.pk == mandate.person_id:
            raise ValidationError({"person_name": gettext("le remplaçant doit être une autre personne")})
        return model_create(
            actor=actor,
            model=Mandate,
            data={
                "person": person,
                "body": mandate.body,
                "role": mandate.role,
                "organisation": mandate.organisation,
                "title": mandate.title,
                "commission_led": mandate.commission_led,
                "start_on": start_on,
                "replaces": mandate,
            },
        )


# --- sittings: lifecycle -------------------------------------------------------------------------


def sitting_transition(*, actor: User, sitting: Sitting, target: str, changes: dict[str, Any] | None = None) -> Sitting:
    """The one way a sitting's state changes: lock, check the table, apply `changes`, log, audit.
    Call it inside the caller's transaction; it opens its own otherwise."""
    with transaction.atomic():
        locked = Sitting.objects.select_for_update().get(pk=sitting.pk)
        if (locked.state, target) not in TRANSITIONS:
            raise ValidationError(
                gettext("la séance est « %(state)s » : elle ne peut pas passer à « %(target)s »")
                % {"state": locked.get_state_display(), "target": SittingState(target).label}
            )
        before = snapshot(locked)
        source = locked.state
        for name, value in (changes or {}).items():
            setattr(locked, name, value)
        locked.state = target
        locked.save()
        SittingTransition.objects.create(sitting=locked, source=source, target=target, actor=actor)
        audit_record(actor=actor, action=AuditAction.UPDATE, obj=locked, changes=diff(before, snapshot(locked)))
    return locked


def sitting_create(*, actor: User, body: Body, data: dict[str, Any], follows: Sitting | None = None) -> Sitting:
    """Plan a sitting. After a sitting without quorum, the new one comes three days later at least
    (L.2121-17) and takes over its agenda."""
    _require(actor)
    with transaction.atomic():
        if follows is not None:
            follows = Sitting.objects.select_for_update().get(pk=follows.pk)
            if follows.body_id != body.pk or follows.state != SittingState.NO_QUORUM:
                raise ValidationError(gettext("seule une séance de cette instance sans quorum peut être reconvoquée"))
            if Sitting.objects.filter(follows=follows).exists():
                raise ValidationError(gettext("cette séance a déjà été reconvoquée"))
            earliest = _day(follows.starts_at) + dt.timedelta(days=REQUORUM_INTERVAL_DAYS)
            if _day(data["starts_at"]) < earliest:
                raise ValidationError(
                    {
                        "starts_at": gettext(
                            "sans quorum le %(first)s, l'instance se réunit à nouveau à trois jours au moins "
                            "d'intervalle : le %(earliest)s au plus tôt"
                        )
                        % {"first": _fr(_day(follows.starts_at)), "earliest": _fr(earliest)}
                    }
                )
        sitting = model_create(actor=actor, model=Sitting, data={**data, "body": body, "follows": follows})
        if follows is not None:
            for item in follows.items.all():
                model_create(
                    actor=actor,
                    model=AgendaItem,
                    data={
                        "sitting": sitting,
                        "position": item.position,
                        "title": item.title,
                        "rapporteur": item.rapporteur,
                        "kind": item.kind,
                        "draft": item.draft,
                    },
                )
    return sitting


def agenda_item_add(*, actor: User, sitting: Sitting, data: dict[str, Any]) -> AgendaItem:
    """Add a point at the end of the agenda; the agenda is settled once the convocation is sent."""
    _require(actor)
    with transaction.atomic():
        sitting = Sitting.objects.select_for_update().get(pk=sitting.pk)
        if sitting.state != SittingState.PLANNED:
            raise ValidationError(gettext("l'ordre du jour est arrêté : la convocation est partie"))
        last = sitting.items.aggregate(last=Max("position"))["last"] or 0
        return model_create(actor=actor, model=AgendaItem, data={**data, "sitting": sitting, "position": last + 1})


# --- the convocation -----------------------------------------------------------------------------


def clear_days(*, sent_on: dt.date, sitting_on: dt.date) -> int:
    """Clear days (« jours francs ») between sending and sitting: neither the day the convocation
    leaves nor the day of the sitting counts; Saturdays, Sundays and holidays do."""
    return max((sitting_on - sent_on).days - 1, 0)


def notice_problem(*, sitting: Sitting, sent_at: dt.datetime, emergency_reason: str) -> str | None:
    """Why a convocation sent at `sent_at` is too late (CGCT L.2121-12 through L.5211-1), or None."""
    sent_on, sitting_on = _day(sent_at), _day(sitting.starts_at)
    days = clear_days(sent_on=sent_on, sitting_on=sitting_on)
    required = EMERGENCY_NOTICE_CLEAR_DAYS if emergency_reason.strip() else NOTICE_CLEAR_DAYS
    if sitting_on > sent_on and days >= required:
        return None
    latest = sitting_on - dt.timedelta(days=required + 1)
    if emergency_reason.strip():
        return gettext(
            "convocation trop tardive même en urgence : envoyée le %(sent)s pour une séance le %(sitting)s, "
            "soit %(days)s jour franc ; l'urgence exige %(required)s jour franc, "
            "donc un envoi le %(latest)s au plus tard"
        ) % {
            "sent": _fr(sent_on),
            "sitting": _fr(sitting_on),
            "days": days,
            "required": required,
            "latest": _fr(latest),
        }
    return gettext(
        "convocation trop tardive : envoyée le %(sent)s pour une séance le %(sitting)s, soit %(days)s jours francs ; "
        "il en faut %(required)s (article L.2121-12 du CGCT), donc un envoi le %(latest)s au plus tard, "
        "sauf urgence motivée"
    ) % {"sent": _fr(sent_on), "sitting": _fr(sitting_on), "days": days, "required": required, "latest": _fr(latest)}


def sitting_convene(
    *, actor: User, sitting: Sitting, emergency_reason: str = "", now: dt.datetime | None = None
) -> Sitting:
    """Send the convocation, with the agenda, to every member seated on the day of the sitting
    (titulars and substitutes), and record when it left. Refused when the legal notice is not met."""
    _require(actor)
    now = now or timezone.now()
    emergency_reason = emergency_reason.strip()
    problem = notice_problem(sitting=sitting, sent_at=now, emergency_reason=emergency_reason)
    if problem:
        raise ValidationError(problem)
    with transaction.atomic():
        items = list(sitting.items.all())
        if not items:
            raise ValidationError(gettext("l'ordre du jour est vide : ajoutez au moins un point avant de convoquer"))
        members = list(sitting_members(sitting=sitting, voting_only=False))
        if not members:
            raise ValidationError(gettext("aucun membre n'est en fonction à la date de la séance"))
        mailed = sorted({m.person.email.strip() for m in members if m.person.email.strip()})
        not_mailed = sorted({m.person.full_name for m in members if not m.person.email.strip()})
        sitting = sitting_transition(
            actor=actor,
            sitting=sitting,
            target=SittingState.CONVENED,
            changes={
                "convened_at": now,
                "emergency_reason": emergency_reason,
                "convocation_sent_to": "\n".join(mailed),
                "convocation_not_mailed": "\n".join(not_mailed),
            },
        )
        if mailed:
            message = mail_message(
                subject=gettext("Convocation : %(body)s du %(when)s")
                % {"body": sitting.body.name, "when": local_datetime(sitting.starts_at, "d/m/Y à H:i")},
                template="governance/mail/convocation.txt",
                context={
                    "sitting": sitting,
                    "items": items,
                    "when": local_datetime(sitting.starts_at, "l j F Y à H:i"),
                    "url": absolute_url(reverse("governance:sitting", args=[sitting.pk])),
                },
                to=[],
                # Members' addresses are not shown to one another.
            )
            message.bcc = mailed
            transaction.on_commit(lambda: message.send(fail_silently=False))
    return sitting


# --- holding the sitting -------------------------------------------------------------------------


def sitting_hold(*, actor: User, sitting: Sitting, attendance: dict[int, tuple[str, int | None]]) -> Sitting:
    """Record who is there (mandate id → status, proxy holder's mandate id), count the quorum and
    open the sitting, or record that the quorum was not reached.

    Quorum (L.2121-17): a majority of the members in office present in person; proxies do not
    count. A proxy goes to a member present, who holds one at most (L.2121-20)."""
    _require(actor)
    members = {m.pk: m for m in sitting_members(sitting=sitting)}
    unknown = set(attendance) - set(members)
    if unknown:
        raise ValidationError(
            gettext("ces membres ne siègent pas dans cette instance ce jour-là : %(ids)s")
            % {"ids": ", ".join(map(str, sorted(unknown)))}
        )
    missing = [members[pk].person.full_name for pk in members if pk not in attendance]
    if missing:
        raise ValidationError(gettext("indiquez la présence de : %(names)s") % {"names": ", ".join(sorted(missing))})
    holders: dict[int, str] = {}
    for pk, (status, holder) in attendance.items():
        name = members[pk].person.full_name
        if status not in Attendance.values:
            raise ValidationError(gettext("présence inconnue pour %(name)s") % {"name": name})
        if status == Attendance.REPRESENTED:
            if holder is None:
                raise ValidationError(
                    gettext("%(name)s est représenté : indiquez qui détient son pouvoir") % {"name": name}
                )
            if holder not in members or holder == pk:
                raise ValidationError(
                    gettext("le pouvoir de %(name)s va à un autre membre de l'instance") % {"name": name}
                )
            if attendance[holder][0] != Attendance.PRESENT:
                raise ValidationError(
                    gettext("%(holder)s, qui détient le pouvoir de %(name)s, doit être présent")
                    % {"holder": members[holder].person.full_name, "name": name}
                )
            if holder in holders:
                raise ValidationError(
                    gettext(
                        "%(holder)s détient déjà le pouvoir de %(other)s : un membre ne peut détenir "
                        "qu'un seul pouvoir (article L.2121-20 du CGCT)"
                    )
                    % {"holder": members[holder].person.full_name, "other": holders[holder]}
                )
            holders[holder] = name
        elif holder is not None:
            raise ValidationError(gettext("seul un membre représenté donne un pouvoir (%(name)s)") % {"name": name})
    present = sum(1 for status, _ in attendance.values() if status == Attendance.PRESENT)
    represented = len(holders)
    in_office = len(members)
    reached = not sitting.needs_quorum or present >= in_office // 2 + 1
    with transaction.atomic():
        sitting = sitting_transition(
            actor=actor,
            sitting=sitting,
            target=SittingState.HELD if reached else SittingState.NO_QUORUM,
            changes={"in_office": in_office, "present": present, "represented": represented},
        )
        Presence.objects.bulk_create(
            [
                Presence(sitting=sitting, mandate_id=pk, status=status, proxy_holder_id=holder)
                for pk, (status, holder) in sorted(attendance.items())
            ]
        )
        audit_record(
            actor=actor,
            action=AuditAction.CREATE,
            obj=sitting,
            object_repr=gettext("présences : %(sitting)s") % {"sitting": sitting},
            changes={"présences": [None, _attendance_lines(members, attendance)]},
        )
    return sitting


def _attendance_lines(members: dict[int, Mandate], attendance: dict[int, tuple[str, int | None]]) -> list[str]:
    """The attendance as people read it in the audit log: « Anne Martin : représenté (pouvoir) → Bruno Roux »."""
    lines = []
    for pk, (status, holder) in sorted(attendance.items(), key=lambda e: members[e[0]].person.full_name):
        line = f"{members[pk].person.full_name} : {Attendance(status).label}"
        if holder is not None:
            line += f" → {members[holder].person.full_name}"
        lines.append(line)
    return lines


def item_vote(
    *,
    actor: User,
    item: AgendaItem,
    votes_for: int,
    votes_against: int,
    abstentions: int,
    not_voting: int,
    casting_vote: str = "",
) -> AgendaItem:
    """Record a deliberation's vote. Voices are those present and their proxies; a deliberation
    passes by a majority of the votes cast (abstentions are not cast); on a tie the president's
    vote decides (L.2121-20)."""
    _require(actor)
    with transaction.atomic():
        item = AgendaItem.objects.select_for_update().select_related("sitting").get(pk=item.pk)
        sitting = item.sitting
        if sitting.state != SittingState.HELD:
            raise ValidationError(gettext("on vote pendant une séance tenue, ni avant ni après sa clôture"))
        if item.kind != ItemKind.DELIBERATION:
            raise ValidationError(gettext("un point d'information ne se vote pas"))
        counts = (votes_for, votes_against, abstentions, not_voting)
        if any(n < 0 for n in counts):
            raise ValidationError(gettext("les nombres de voix sont positifs"))
        voices = (sitting.present or 0) + (sitting.represented or 0)
        if sum(counts) > voices:
            raise ValidationError(
                gettext(
                    "%(total)s voix décomptées pour %(voices)s votants possibles "
                    "(%(present)s présents et %(represented)s représentés)"
                )
                % {
                    "total": sum(counts),
                    "voices": voices,
                    "present": sitting.present,
                    "represented": sitting.represented,
                }
            )
        if votes_for + votes_against == 0:
            raise ValidationError(
                gettext("aucun suffrage exprimé : la délibération ne peut être ni adoptée ni rejetée")
            )
        if votes_for == votes_against:
            if casting_vote not in CastingVote.values:
                raise ValidationError(
                    {"casting_vote": gettext("partage égal des voix : indiquez le vote du président, prépondérant")}
                )
            result = VoteResult.ADOPTED if casting_vote == CastingVote.FOR else VoteResult.REJECTED
        else:
            casting_vote = ""
            result = VoteResult.ADOPTED if votes_for > votes_against else VoteResult.REJECTED
        before = snapshot(item)
        item.votes_for, item.votes_against, item.abstentions, item.not_voting = counts
        item.casting_vote, item.result = casting_vote, result
        item.save(
            update_fields=[
                "votes_for",
                "votes_against",
                "abstentions",
                "not_voting",
                "casting_vote",
                "result",
                "updated_at",
            ]
        )
        audit_record(actor=actor, action=AuditAction.UPDATE, obj=item, changes=diff(before, snapshot(item)))
    return item


def sitting_close(*, actor: User, sitting: Sitting, minutes: str) -> Sitting:
    """Save the minutes, number the adopted deliberations in the syndicate's series of the
    sitting's year, in agenda order, and close. The year's counter row is locked for the whole
    transaction, so two closings at once get consecutive numbers, never the same or a gap."""
    _require(actor)
    if not minutes.strip():
        raise ValidationError({"minutes": gettext("le procès-verbal est vide")})
    with transaction.atomic():
        locked = Sitting.objects.select_for_update().get(pk=sitting.pk)
        if locked.state != SittingState.HELD:
            raise ValidationError(gettext("seule une séance tenue peut être close"))
        items = list(locked.items.select_for_update().filter(kind=ItemKind.DELIBERATION).order_by("position"))
        unvoted = [str(i.position) for i in items if not i.voted]
        if unvoted:
            raise ValidationError(gettext("points non votés : %(items)s") % {"items": ", ".join(unvoted)})
        year = _day(locked.starts_at).year
        DeliberationCounter.objects.get_or_create(year=year)
        counter = DeliberationCounter.objects.select_for_update().get(year=year)
        for item in items:
            if item.result == VoteResult.ADOPTED:
                counter.last += 1
                item.year, item.sequence = year, counter.last
                item.save(update_fields=["year", "sequence", "updated_at"])
                audit_record(
                    actor=actor,
                    action=AuditAction.UPDATE,
                    obj=item,
                    changes={"numéro": [None, item.number]},
                )
        counter.save(update_fields=["last"])
        return sitting_transition(actor=actor, sitting=locked, target=SittingState.CLOSED, changes={"minutes": minutes})


# --- delegations ---------------------------------------------------------------------------------


def delegation_create(*, actor: User, data: dict[str, Any]) -> Delegation:
    """Record a delegation: by a deliberation numbered in Mutualis, or by the reference of an
    older one."""
    _require(actor)
    deliberation = data.get("deliberation")
    if deliberation is None and not str(data.get("deliberation_reference", "")).strip():
        raise ValidationError({"deliberation": gettext("indiquez la délibération qui donne la délégation")})
    if deliberation is not None and not deliberation.number:
        raise ValidationError({"deliberation": gettext("la délibération choisie n'est pas adoptée et numérotée")})
    return model_create(actor=actor, model=Delegation, data=data)


def delegated_decision_create(*, actor: User, data: dict[str, Any]) -> DelegatedDecision:
    """Record a decision of the president or the bureau under `data["delegation"]`: taken while
    the delegation is in force, and within its ceiling when it has one."""
    _require(actor)
    delegation: Delegation = data["delegation"]
    decided_on: dt.date = data["decided_on"]
    amount: Decimal | None = data.get("amount_ht")
    if decided_on < delegation.valid_from or (delegation.valid_until and decided_on > delegation.valid_until):
        raise ValidationError({"decided_on": gettext("la délégation n'était pas en vigueur à cette date")})
    if delegation.threshold_ht is not None:
        if amount is None:
            raise ValidationError({"amount_ht": gettext("cette délégation a un plafond : indiquez le montant")})
        if amount > delegation.threshold_ht:
            raise ValidationError(
                {
                    "amount_ht": gettext(
                        "%(amount)s € HT dépasse le plafond de la délégation (%(ceiling)s € HT) : "
                        "la décision revient au comité syndical"
                    )
                    % {"amount": amount, "ceiling": delegation.threshold_ht}
                }
            )
    return model_create(actor=actor, model=DelegatedDecision, data=data)
