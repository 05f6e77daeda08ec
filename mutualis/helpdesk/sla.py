"""Service levels: which policy applies, the budgets in business seconds, the due dates."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.cache import cache
from django.db.models.signals import post_delete, post_save

from mutualis.core.process_cache import ProcessCache
from mutualis.helpdesk.enums import DurationUnit
from mutualis.helpdesk.models import Calendar, Closure, OpeningInterval, PriorityCell, SlaPolicy, Ticket
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
    return calendar


# Calendar.spec() costs two queries and ticket creation needs it on every request: the spec is
# kept a short while in Django's cache (in-process by default), dropped as soon as the calendar,
# one of its intervals or one of its closures is saved or deleted (other processes with an
# in-process cache see the change within SPEC_TTL_S at worst).
SPEC_TTL_S = 60


def _spec_key(calendar_id: int) -> str:
    return f"helpdesk:calendar-spec:{calendar_id}"


def calendar_spec(calendar: Calendar) -> CalendarSpec:
    """`calendar.spec()`, cached per calendar id for SPEC_TTL_S seconds."""
    spec = cache.get(_spec_key(calendar.pk))
    if spec is None:
        spec = calendar.spec()
        cache.set(_spec_key(calendar.pk), spec, SPEC_TTL_S)
    return spec


def _calendar_changed(sender: type, instance: object, **kwargs: object) -> None:
    calendar_id = instance.pk if isinstance(instance, Calendar) else getattr(instance, "calendar_id", None)
    if calendar_id is not None:
        cache.delete(_spec_key(calendar_id))


for _model in (Calendar, OpeningInterval, Closure):
    post_save.connect(_calendar_changed, sender=_model, dispatch_uid=f"helpdesk-spec-save-{_model.__name__}")
    post_delete.connect(_calendar_changed, sender=_model, dispatch_uid=f"helpdesk-spec-delete-{_model.__name__}")


# What ticket creation reads on every request and the operator rarely changes — the priority
# matrix, the active policies with their calendars, the default calendar — is kept per process
# (core.process_cache). A change to a policy, a matrix cell or a calendar (signals, and
# config_services.calendar_recompute, which bumps a calendar's version by an UPDATE) drops it.
CONFIG_TTL_S = SPEC_TTL_S


@dataclass(frozen=True)
class SlaConfig:
    matrix: dict[tuple[int, int], int]
    policies: tuple[SlaPolicy, ...]
    default_calendar: Calendar


def _load_config() -> SlaConfig:
    return SlaConfig(
        matrix={(u, i): p for u, i, p in PriorityCell.objects.values_list("urgency", "impact", "priority")},
        policies=tuple(SlaPolicy.objects.filter(active=True).select_related("calendar").order_by("pk")),
        default_calendar=default_calendar(),
    )


_config = ProcessCache("helpdesk:sla-config-version", _load_config, ttl_s=CONFIG_TTL_S)
_config.forget_on_change(SlaPolicy, PriorityCell, Calendar, OpeningInterval, Closure)


def sla_config() -> SlaConfig:
    """The matrix, the active policies and the default calendar, kept per process (see above)."""
    return _config.get()


def sla_config_changed() -> None:
    """Forget the configuration, here at once and in every process sharing the cache."""
    _config.forget()


def priority_of(urgency: int, impact: int) -> int:
    """The configured matrix (GLPI's default unless changed); the mean when a cell is missing."""
    cell = sla_config().matrix.get((urgency, impact))
    return cell if cell is not None else round((urgency + impact) / 2)


def policy_for(*, ticket_type: str, priority: int, blocking: bool) -> SlaPolicy | None:
    """The most specific active policy: a blocking-only policy beats a general one, a policy for
    the type and priority beats one for any (the lowest id among equals)."""
    best: tuple[int, SlaPolicy] | None = None
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
