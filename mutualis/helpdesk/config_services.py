"""Writes on the helpdesk's configuration: business calendars (opening hours, closures), service-level
policies, categories and the priority matrix.

Every change to a calendar's hours, closures, time zone or holidays bumps the calendar's version
(`updated_at`, the key of its cached business-offsets table) and recomputes, in the same
transaction, the stored business offsets of its tickets and the due dates of its open tickets."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from mutualis.accounts.models import User
from mutualis.core.audit import audit_record
from mutualis.core.models import AuditAction
from mutualis.core.services import model_create, model_delete, model_update
from mutualis.core.tenancy import require_operator_staff, require_writer
from mutualis.helpdesk import sla
from mutualis.helpdesk.enums import OPEN_STATUSES, DurationUnit, TicketType
from mutualis.helpdesk.models import Calendar, Category, Closure, OpeningInterval, PriorityCell, SlaPolicy, Ticket
from mutualis.lib.business_time import DEFAULT_HOURS, CalendarSpec, add_business_seconds

# GLPI's default priority matrix, urgency → {impact: priority} (the same as migration 0002's).
GLPI_MATRIX: dict[int, dict[int, int]] = {
    5: {5: 5, 4: 5, 3: 5, 2: 4, 1: 4},
    4: {5: 5, 4: 4, 3: 4, 2: 3, 1: 3},
    3: {5: 5, 4: 4, 3: 3, 2: 2, 1: 2},
    2: {5: 4, 4: 3, 3: 2, 2: 2, 1: 1},
    1: {5: 4, 4: 3, 3: 2, 2: 1, 1: 1},
}
RECOMPUTE_CHUNK = 5000
# Changing these fields changes the calendar's business time.
SPEC_FIELDS = ("timezone", "use_french_holidays")
CALENDAR_FIELDS = ("name", "timezone", "use_french_holidays", "is_default")
POLICY_FIELDS = (
    "name",
    "ticket_type",
    "priority",
    "blocking_only",
    "calendar",
    "tto_value",
    "tto_unit",
    "ttr_value",
    "ttr_unit",
    "escalation_percents",
)
# The catalogue's commitments a policy measures: a relation, saved beside the fields.
POLICY_RELATIONS = ("commitments",)
CATEGORY_FIELDS = ("name", "slug", "parent", "default_group", "position")


def _guard(actor: User) -> None:
    """Configuration is operator staff's: members are told nothing exists, read-only roles refused."""
    if actor is not None:
        require_operator_staff(actor)
        require_writer(actor)


def _unique_slug(model: Any, base: str, *, exclude_pk: int | None = None, max_length: int = 60) -> str:
    base = (slugify(base) or "x")[: max_length - 4]
    slug, n = base, 1
    while model.objects.filter(slug=slug).exclude(pk=exclude_pk or 0).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


# -- calendars ----------------------------------------------------------------------------------
def _check_calendar(data: Mapping[str, Any]) -> None:
    errors: dict[str, str] = {}
    if "name" in data and not str(data["name"] or "").strip():
        errors["name"] = _("indiquez un nom")
    if "timezone" in data:
        name = str(data["timezone"] or "").strip()
        try:
            if not name:
                raise ValueError(name)
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            errors["timezone"] = _("fuseau horaire inconnu : « %(value)s » (exemple : Europe/Paris)") % {"value": name}
    if errors:
        raise ValidationError(errors)


def calendar_create(
    *,
    actor: User,
    name: str,
    timezone_name: str = "Europe/Paris",
    use_french_holidays: bool = True,
    is_default: bool = False,
) -> Calendar:
    """A new calendar, opened Monday–Friday 08:30–12:30 and 13:30–17:30 until its hours are edited
    (a calendar without opening hours could never give a due date)."""
    _guard(actor)
    _check_calendar({"name": name, "timezone": timezone_name})
    with transaction.atomic():
        if is_default:
            _clear_default(actor=actor)
        calendar = model_create(
            actor=actor,
            model=Calendar,
            data={
                "slug": _unique_slug(Calendar, name),
                "name": name.strip(),
                "timezone": timezone_name.strip(),
                "use_french_holidays": use_french_holidays,
                "is_default": is_default,
            },
        )
        for weekday, intervals in DEFAULT_HOURS.items():
            for start, end in intervals:
                model_create(
                    actor=actor,
                    model=OpeningInterval,
                    data={"calendar": calendar, "weekday": weekday, "start": start, "end": end},
                )
        sla.sla_config_changed()
    return calendar


def _clear_default(*, actor: User, keep: Calendar | None = None) -> None:
    for other in Calendar.objects.filter(is_default=True).exclude(pk=keep.pk if keep else 0):
        model_update(actor=actor, instance=other, data={"is_default": False}, fields=["is_default"])


def calendar_update(*, actor: User, calendar: Calendar, data: Mapping[str, Any]) -> dict[str, list[Any]]:
    """Name, time zone, French holidays, default flag. There is always exactly one default
    calendar: it is handed over by making another calendar the default, never simply unset."""
    _guard(actor)
    unknown = set(data) - set(CALENDAR_FIELDS)
    if unknown:
        raise ValidationError(_("champs non modifiables : %(fields)s") % {"fields": ", ".join(sorted(unknown))})
    data = {k: (v.strip() if isinstance(v, str) else v) for k, v in data.items()}
    _check_calendar(data)
    if calendar.is_default and data.get("is_default") is False:
        raise ValidationError(
            {"is_default": _("il faut un calendrier par défaut : désignez-en un autre, celui-ci cessera de l'être")}
        )
    with transaction.atomic():
        if data.get("is_default") and not calendar.is_default:
            _clear_default(actor=actor, keep=calendar)
        changes = model_update(actor=actor, instance=calendar, data=data, fields=CALENDAR_FIELDS)[1]
        if any(name in changes for name in SPEC_FIELDS):
            calendar_recompute(calendar=calendar)
        elif changes:
            sla.sla_config_changed()  # its name, or which calendar is the default
    return changes


def _check_interval(calendar: Calendar, weekday: Any, start: dt.time | None, end: dt.time | None) -> None:
    errors: dict[str, str] = {}
    if weekday is None or str(weekday) not in {str(n) for n in range(7)}:
        errors["weekday"] = _("choisissez un jour de la semaine")
    if start is None:
        errors["start"] = _("indiquez l'heure d'ouverture")
    if end is None:
        errors["end"] = _("indiquez l'heure de fermeture")
    if errors:
        raise ValidationError(errors)
    assert start is not None and end is not None
    if end <= start:
        raise ValidationError(
            {
                "end": _("la fermeture (%(end)s) doit suivre l'ouverture (%(start)s)")
                % {"start": f"{start:%H:%M}", "end": f"{end:%H:%M}"}
            }
        )
    for other in calendar.intervals.filter(weekday=int(weekday)):
        if start < other.end and other.start < end:
            raise ValidationError(
                _("cette plage chevauche celle de %(start)s à %(end)s le même jour")
                % {"start": f"{other.start:%H:%M}", "end": f"{other.end:%H:%M}"}
            )


def interval_add(
    *, actor: User, calendar: Calendar, weekday: int, start: dt.time | None, end: dt.time | None
) -> OpeningInterval:
    """An opening interval on a weekday: it ends after it starts and overlaps none of the day's."""
    _guard(actor)
    _check_interval(calendar, weekday, start, end)
    with transaction.atomic():
        interval = model_create(
            actor=actor,
            model=OpeningInterval,
            data={"calendar": calendar, "weekday": int(weekday), "start": start, "end": end},
        )
        calendar_recompute(calendar=calendar)
    return interval


def interval_remove(*, actor: User, interval: OpeningInterval) -> None:
    """A calendar keeps at least one opening interval: without one no due date exists."""
    _guard(actor)
    calendar = interval.calendar
    if not calendar.intervals.exclude(pk=interval.pk).exists():
        raise ValidationError(_("un calendrier garde au moins une plage d'ouverture : ajoutez-en une autre d'abord"))
    with transaction.atomic():
        model_delete(actor=actor, instance=interval)
        calendar_recompute(calendar=calendar)


def closure_add(*, actor: User, calendar: Calendar, label: str, start: dt.date | None, end: dt.date | None) -> Closure:
    """One of the operator's closures (whole days, `end` included)."""
    _guard(actor)
    errors: dict[str, str] = {}
    if not (label or "").strip():
        errors["label"] = _("indiquez le motif de la fermeture")
    if start is None:
        errors["start"] = _("indiquez le premier jour de fermeture")
    if end is None:
        errors["end"] = _("indiquez le dernier jour de fermeture")
    elif start is not None and end < start:
        errors["end"] = _("le dernier jour (%(end)s) précède le premier (%(start)s)") % {
            "start": f"{start:%d/%m/%Y}",
            "end": f"{end:%d/%m/%Y}",
        }
    elif start is not None and (end - start).days > 366:
        errors["end"] = _("une fermeture dure au plus un an")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        closure = model_create(
            actor=actor,
            model=Closure,
            data={"calendar": calendar, "label": label.strip(), "start": start, "end": end},
        )
        calendar_recompute(calendar=calendar)
    return closure


def closure_remove(*, actor: User, closure: Closure) -> None:
    _guard(actor)
    calendar = closure.calendar
    with transaction.atomic():
        model_delete(actor=actor, instance=closure)
        calendar_recompute(calendar=calendar)


def calendar_recompute(*, calendar: Calendar) -> int:
    """Bump the calendar's version and recompute its tickets' business offsets and open tickets'
    due dates; returns how many tickets changed.

    Tickets are read in primary-key order in chunks and written back with one bulk_update per
    chunk, only those whose values moved: a closure added in the future moves no offset of a
    ticket opened before it. One UPDATE statement cannot do it, since the offsets table lives in
    the process, not in the database."""
    version = max(timezone.now(), calendar.updated_at + dt.timedelta(microseconds=1))
    Calendar.objects.filter(pk=calendar.pk).update(updated_at=version)
    calendar.updated_at = version
    calendar_id = calendar.pk
    # The configuration kept for ticket creation holds the calendar's version, which just moved
    # (the cached spec and offsets table are keyed by it: nothing else to drop).
    sla.sla_config_changed()
    table = calendar.offsets()
    spec = sla.calendar_spec(calendar)
    fields = ["opened_offset", "taken_offset", "solved_offset", "tto_due_at", "ttr_due_at"]
    tickets = (
        Ticket.objects.filter(calendar_id=calendar_id)
        .order_by("pk")
        .only(
            "pk",
            "status",
            "opened_at",
            "taken_at",
            "solved_at",
            "waiting_seconds",
            "tto_budget_s",
            "ttr_budget_s",
            *fields,
        )
    )
    changed = 0
    batch: list[Ticket] = []
    for ticket in _in_chunks(tickets):
        before = [getattr(ticket, name) for name in fields]
        ticket.opened_offset = table.offset(ticket.opened_at)
        ticket.taken_offset = table.offset(ticket.taken_at) if ticket.taken_at else None
        ticket.solved_offset = table.offset(ticket.solved_at) if ticket.solved_at else None
        if ticket.status in OPEN_STATUSES:
            sla.refresh_due_dates(ticket, spec)
        if [getattr(ticket, name) for name in fields] != before:
            batch.append(ticket)
        if len(batch) >= RECOMPUTE_CHUNK:
            Ticket.objects.bulk_update(batch, fields)
            changed += len(batch)
            batch = []
    if batch:
        Ticket.objects.bulk_update(batch, fields)
        changed += len(batch)
    return changed


def _in_chunks(tickets: QuerySet[Ticket]) -> Iterator[Ticket]:
    """Every ticket of `tickets` (ordered by pk), RECOMPUTE_CHUNK rows per query by keyset: no
    server-side cursor (settings disable them on PostgreSQL) and never the whole table in memory."""
    last = 0
    while True:
        chunk = list(tickets.filter(pk__gt=last)[:RECOMPUTE_CHUNK])
        yield from chunk
        if len(chunk) < RECOMPUTE_CHUNK:
            return
        last = chunk[-1].pk


# -- service-level policies ---------------------------------------------------------------------
def _policy_data(data: Mapping[str, Any]) -> dict[str, Any]:
    """Normalise and check what the model's validation does not: positive delays, at least one,
    known units, escalation levels sorted."""
    data = dict(data)
    errors: dict[str, str] = {}
    if "name" in data:
        data["name"] = str(data["name"] or "").strip()
        if not data["name"]:
            errors["name"] = _("indiquez un nom")
    if data.get("ticket_type") is None:
        data["ticket_type"] = ""
    if data["ticket_type"] and data["ticket_type"] not in TicketType.values:
        errors["ticket_type"] = _("type inconnu : %(value)s") % {"value": data["ticket_type"]}
    priority = data.get("priority")
    if priority is not None and not 1 <= int(priority) <= 6:
        errors["priority"] = _("une priorité entre 1 et 6, ou aucune pour toutes")
    for prefix, label in (("tto", _("prise en compte")), ("ttr", _("résolution"))):
        value = data.get(f"{prefix}_value")
        if value is not None and int(value) < 1:
            errors[f"{prefix}_value"] = _("un délai de %(what)s d'au moins 1, ou vide pour aucun") % {"what": label}
        if data.get(f"{prefix}_unit") not in DurationUnit.values:
            errors[f"{prefix}_unit"] = _("unité inconnue : heures ouvrées ou jours ouvrés")
    if data.get("tto_value") is None and data.get("ttr_value") is None:
        errors["ttr_value"] = _("indiquez au moins un délai : de prise en compte ou de résolution")
    if data.get("calendar") is None:
        errors["calendar"] = _("choisissez un calendrier")
    raw = str(data.get("escalation_percents") or "")
    try:
        levels = sorted({int(part) for part in raw.replace(";", ",").split(",") if part.strip()})
    except ValueError:
        levels = [-1]
    if any(not 0 < level <= 100 for level in levels):
        errors["escalation_percents"] = _(
            "des pourcentages entiers entre 1 et 100 séparés par des virgules (exemple : 50,75,100)"
        )
    else:
        data["escalation_percents"] = ",".join(map(str, levels))
    if errors:
        raise ValidationError(errors)
    return data


def policy_create(*, actor: User, data: Mapping[str, Any]) -> SlaPolicy:
    """A new policy; it applies to tickets opened from now on (existing tickets keep theirs)."""
    _guard(actor)
    unknown = set(data) - set(POLICY_FIELDS) - set(POLICY_RELATIONS)
    if unknown:
        raise ValidationError(_("champs non modifiables : %(fields)s") % {"fields": ", ".join(sorted(unknown))})
    fields = {k: v for k, v in data.items() if k not in POLICY_RELATIONS}
    with transaction.atomic():
        policy = model_create(actor=actor, model=SlaPolicy, data=_policy_data(fields))
        if "commitments" in data:
            _policy_commitments_set(actor=actor, policy=policy, commitments=data["commitments"])
        sla.sla_config_changed()
    return policy


def policy_update(*, actor: User, policy: SlaPolicy, data: Mapping[str, Any]) -> dict[str, list[Any]]:
    _guard(actor)
    fields = {k: v for k, v in data.items() if k not in POLICY_RELATIONS}
    merged = {name: getattr(policy, name) for name in POLICY_FIELDS}
    merged.update(fields)
    clean = _policy_data(merged)
    with transaction.atomic():
        _, changes = model_update(
            actor=actor, instance=policy, data={k: clean[k] for k in fields}, fields=POLICY_FIELDS
        )
        if "commitments" in data:
            changes.update(_policy_commitments_set(actor=actor, policy=policy, commitments=data["commitments"]))
        if changes:
            sla.sla_config_changed()
    return changes


def _policy_commitments_set(*, actor: User, policy: SlaPolicy, commitments: Iterable[Any]) -> dict[str, list[Any]]:
    """Name the catalogue's commitments the policy measures; the change goes to the audit log."""
    before = sorted(policy.commitments.values_list("slug", flat=True))
    policy.commitments.set(list(commitments or ()))
    after = sorted(policy.commitments.values_list("slug", flat=True))
    if before == after:
        return {}
    changes = {"commitments": [before, after]}
    audit_record(actor=actor, action=AuditAction.UPDATE, obj=policy, changes=changes)
    return changes


def policy_set_active(*, actor: User, policy: SlaPolicy, active: bool) -> SlaPolicy:
    """Deactivate (or reactivate) a policy: tickets that have it keep their due dates."""
    _guard(actor)
    model_update(actor=actor, instance=policy, data={"active": active}, fields=["active"])
    sla.sla_config_changed()
    return policy


def policy_preview(
    *,
    calendar: Calendar,
    tto_value: int | None,
    tto_unit: str,
    ttr_value: int | None,
    ttr_unit: str,
    now: dt.datetime | None = None,
    spec: CalendarSpec | None = None,
) -> dict[str, dt.datetime | None]:
    """When a ticket opened at `now` would have to be taken into account and solved."""
    now = now or timezone.now()
    spec = spec or calendar.spec()
    result: dict[str, dt.datetime | None] = {}
    for key, value, unit in (("tto", tto_value, tto_unit), ("ttr", ttr_value, ttr_unit)):
        budget = sla.budget_seconds(spec, now, value, unit) if value else None
        result[key] = add_business_seconds(spec, now, budget) if budget is not None else None
    return result


# -- categories ---------------------------------------------------------------------------------
def _category_data(data: Mapping[str, Any], *, instance: Category | None) -> dict[str, Any]:
    data = dict(data)
    errors: dict[str, str] = {}
    if "name" in data:
        data["name"] = str(data["name"] or "").strip()
        if not data["name"]:
            errors["name"] = _("indiquez un nom")
    if "slug" in data:
        slug = slugify(str(data["slug"] or "").strip())
        if not slug and data.get("name"):
            slug = _unique_slug(Category, data["name"], exclude_pk=instance.pk if instance else None, max_length=80)
        if slug and Category.objects.filter(slug=slug).exclude(pk=instance.pk if instance else 0).exists():
            errors["slug"] = _("l'identifiant « %(slug)s » est déjà pris") % {"slug": slug}
        data["slug"] = slug
    parent = data.get("parent")
    if instance is not None and parent is not None:
        ancestor: Category | None = parent
        while ancestor is not None:
            if ancestor.pk == instance.pk:
                errors["parent"] = _("une catégorie ne peut pas être rangée sous elle-même ni sous ses sous-catégories")
                break
            ancestor = ancestor.parent
    if errors:
        raise ValidationError(errors)
    return data


def category_create(*, actor: User, data: Mapping[str, Any]) -> Category:
    _guard(actor)
    data = {"slug": "", "position": 0, **data}
    return model_create(actor=actor, model=Category, data=_category_data(data, instance=None))


def category_update(*, actor: User, category: Category, data: Mapping[str, Any]) -> dict[str, list[Any]]:
    _guard(actor)
    clean = _category_data(data, instance=category)
    changes = model_update(actor=actor, instance=category, data=clean, fields=CATEGORY_FIELDS)[1]
    return changes


# -- the priority matrix ------------------------------------------------------------------------
def priority_matrix() -> dict[tuple[int, int], int]:
    """(urgency, impact) → priority, the cells missing from the table filled as priority_for does."""
    cells = {(u, i): p for u, i, p in PriorityCell.objects.values_list("urgency", "impact", "priority")}
    return {(u, i): cells.get((u, i), round((u + i) / 2)) for u in range(1, 6) for i in range(1, 6)}


def priority_matrix_update(*, actor: User, cells: Mapping[tuple[int, int], Any]) -> int:
    """Set the 25 cells at once (all or nothing); returns how many changed. Existing tickets keep
    their priority: the matrix applies when a ticket is created or requalified."""
    _guard(actor)
    errors: list[str] = []
    values: dict[tuple[int, int], int] = {}
    for urgency in range(1, 6):
        for impact in range(1, 6):
            raw = cells.get((urgency, impact))
            try:
                value = int(raw)  # type: ignore[arg-type]
            except (TypeError, ValueError):
                value = 0
            if not 1 <= value <= 6:  # 6 is GLPI's « majeure »
                errors.append(
                    _("urgence %(u)d × impact %(i)d : une priorité entre 1 et 6") % {"u": urgency, "i": impact}
                )
            values[(urgency, impact)] = value
    if errors:
        raise ValidationError(errors)
    existing = {(c.urgency, c.impact): c for c in PriorityCell.objects.all()}
    changed = 0
    with transaction.atomic():
        for (urgency, impact), priority in values.items():
            cell = existing.get((urgency, impact))
            if cell is None:
                model_create(
                    actor=actor, model=PriorityCell, data={"urgency": urgency, "impact": impact, "priority": priority}
                )
                changed += 1
            elif cell.priority != priority:
                model_update(actor=actor, instance=cell, data={"priority": priority}, fields=["priority"])
                changed += 1
        if changed:
            sla.sla_config_changed()
    return changed


def priority_matrix_restore(*, actor: User) -> int:
    """Back to GLPI's default matrix."""
    return priority_matrix_update(
        actor=actor, cells={(u, i): p for u, row in GLPI_MATRIX.items() for i, p in row.items()}
    )
