"""Service levels: which policy applies, the budgets in business seconds, the due dates."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.cache import cache

from mutualis.core.reference_data import ReferenceData
from mutualis.helpdesk.enums import DurationUnit
from mutualis.helpdesk.models import Calendar, OpeningInterval, PriorityCell, SlaPolicy, Ticket
from mutualis.lib.business_offsets import OffsetTable, table_for
from mutualis.lib.business_time import (
    DEFAULT_HOURS,
    CalendarSpec,
    add_business_days,
    add_business_seconds,
    business_seconds,
)


def default_calendar() -> Calendar:
    """The default calendar; a fresh install gets Monday–Friday 08:30–12:30 and 13:30–17:30,
    Europe/Paris, closed on French public holidays (also created by migration 0002)."""
    calendar = Calendar.objects.filter(is_default=True).first()
    if calendar is None:
        calendar = Calendar.objects.create(slug="standard", name="Horaires du support", is_default=True)
        OpeningInterval.objects.bulk_create(
            OpeningInterval(calendar=calendar, weekday=day, start=start, end=end)
            for day, intervals in DEFAULT_HOURS.items()
            for start, end in intervals
        )
        sla_config_changed()
    return calendar


SCHEMA = 1  # bump when the shape of a cached value changes (core.reference_data)
SPEC_TIMEOUT_S = 3600


def calendar_spec(calendar: Calendar) -> CalendarSpec:
    """`calendar.spec()` (two queries), kept in Django's cache under the calendar's version: every
    change to its hours, closures or time zone moves `updated_at` (config_services.calendar_recompute),
    so a spec is never invalidated, only no longer asked for."""
    key = f"helpdesk:calendar-spec:v{SCHEMA}:{calendar.pk}:{calendar.updated_at.isoformat()}"
    spec: CalendarSpec | None = cache.get(key)
    if spec is None:
        spec = calendar.spec()
        cache.set(key, spec, SPEC_TIMEOUT_S)
    return spec


# What ticket creation reads on every request and the operator rarely changes — the priority
# matrix, the active policies, their calendars and the default one — as frozen values in Django's
# cache (core.reference_data). config_services drops it when it writes a policy, a matrix cell or
# a calendar; so does default_calendar() when it creates the calendar.
@dataclass(frozen=True)
class PolicyRef:
    """An active service-level policy as plain values."""

    id: int
    name: str
    ticket_type: str
    priority: int | None
    blocking_only: bool
    calendar_id: int
    tto_value: int | None
    tto_unit: str
    ttr_value: int | None
    ttr_unit: str


@dataclass(frozen=True)
class CalendarRef:
    """A calendar as plain values: its version (`updated_at`) keys its offsets table."""

    id: int
    name: str
    version: str
    spec: CalendarSpec

    def offsets(self) -> OffsetTable:
        return table_for(self.id, self.version, lambda: self.spec)


@dataclass(frozen=True)
class SlaConfig:
    matrix: tuple[tuple[int, int, int], ...]  # (urgency, impact, priority)
    policies: tuple[PolicyRef, ...]  # in id order
    calendars: tuple[CalendarRef, ...]  # the default calendar and the active policies'
    default_calendar_id: int

    def calendar(self, calendar_id: int) -> CalendarRef | None:
        return next((c for c in self.calendars if c.id == calendar_id), None)


def calendar_ref(calendar: Calendar) -> CalendarRef:
    return CalendarRef(
        id=calendar.pk, name=calendar.name, version=calendar.updated_at.isoformat(), spec=calendar_spec(calendar)
    )


def _load_config() -> SlaConfig:
    default_id = default_calendar().pk
    policies = tuple(
        PolicyRef(
            id=p.pk,
            name=p.name,
            ticket_type=p.ticket_type,
            priority=p.priority,
            blocking_only=p.blocking_only,
            calendar_id=p.calendar_id,
            tto_value=p.tto_value,
            tto_unit=p.tto_unit,
            ttr_value=p.ttr_value,
            ttr_unit=p.ttr_unit,
        )
        for p in SlaPolicy.objects.filter(active=True).order_by("pk")
    )
    calendars = Calendar.objects.filter(pk__in={default_id, *(p.calendar_id for p in policies)}).order_by("pk")
    return SlaConfig(
        matrix=tuple(PriorityCell.objects.values_list("urgency", "impact", "priority").order_by("urgency", "impact")),
        policies=policies,
        calendars=tuple(calendar_ref(c) for c in calendars),
        default_calendar_id=default_id,
    )


_config = ReferenceData(f"helpdesk:sla-config:{SCHEMA}", _load_config)


def sla_config() -> SlaConfig:
    """The matrix, the active policies and their calendars (see above)."""
    return _config.get()


def sla_config_changed() -> None:
    """A policy, a matrix cell or a calendar was written: every process reads them again."""
    _config.changed()


def sla_calendar(calendar_id: int) -> CalendarRef:
    """A ticket's calendar as a frozen value: from the configuration, else read (a calendar that
    no active policy uses any more)."""
    found = sla_config().calendar(calendar_id)
    return found if found is not None else calendar_ref(Calendar.objects.get(pk=calendar_id))


def sla_policy(policy_id: int | None) -> PolicyRef | None:
    """A ticket's policy as a frozen value when it is still active (None otherwise)."""
    return next((p for p in sla_config().policies if p.id == policy_id), None) if policy_id else None


def priority_of(urgency: int, impact: int) -> int:
    """The configured matrix (GLPI's default unless changed); the mean when a cell is missing."""
    cell = next((p for u, i, p in sla_config().matrix if (u, i) == (urgency, impact)), None)
    return cell if cell is not None else round((urgency + impact) / 2)


def policy_for(*, ticket_type: str, priority: int, blocking: bool) -> PolicyRef | None:
    """The most specific active policy: a blocking-only policy beats a general one, a policy for
    the type and priority beats one for any (the lowest id among equals)."""
    best: tuple[int, PolicyRef] | None = None
    for policy in sla_config().policies:  # in id order
        if policy.ticket_type not in ("", ticket_type) or policy.priority not in (None, priority):
            continue
        if policy.blocking_only and not blocking:
            continue
        score = 4 * policy.blocking_only + 2 * bool(policy.ticket_type) + (policy.priority is not None)
        if best is None or score > best[0]:
            best = (score, policy)
    return best[1] if best else None


def budget_seconds(spec: CalendarSpec, start: dt.datetime, value: int | None, unit: str) -> int | None:
    """A policy's delay as business seconds from `start` (days count whole open days)."""
    if value is None:
        return None
    if unit == DurationUnit.HOURS:
        return value * 3600
    due = add_business_days(spec, start, value)
    return business_seconds(spec, add_business_seconds(spec, start, 0), due)


def refresh_due_dates(ticket: Ticket, spec: CalendarSpec) -> None:
    """Due dates from the opening, the budgets and the business time spent pending."""
    if ticket.tto_budget_s is not None:
        ticket.tto_due_at = add_business_seconds(spec, ticket.opened_at, ticket.tto_budget_s)
    if ticket.ttr_budget_s is not None:
        ticket.ttr_due_at = add_business_seconds(spec, ticket.opened_at, ticket.ttr_budget_s + ticket.waiting_seconds)


def clock_elapsed(ticket: Ticket, spec: CalendarSpec, clock: str, now: dt.datetime) -> int:
    """Business seconds a clock has run: TTO until taken into account, TTR until solved, minus
    the time spent pending (including the current pending period)."""
    if clock == "tto":
        return business_seconds(spec, ticket.opened_at, ticket.taken_at or now)
    end = ticket.solved_at or now
    waiting = ticket.waiting_seconds
    if ticket.pending_since is not None and ticket.solved_at is None:
        waiting += business_seconds(spec, ticket.pending_since, now)
    return max(0, business_seconds(spec, ticket.opened_at, end) - waiting)
