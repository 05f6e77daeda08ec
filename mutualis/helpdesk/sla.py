"""Service levels: which policy applies, the budgets in business seconds, the due dates."""

from __future__ import annotations

import datetime as dt

from django.core.cache import cache
from django.db.models import Q
from django.db.models.signals import post_delete, post_save

from mutualis.helpdesk.enums import DurationUnit
from mutualis.helpdesk.models import Calendar, Closure, OpeningInterval, SlaPolicy, Ticket
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


def policy_for(*, ticket_type: str, priority: int, blocking: bool) -> SlaPolicy | None:
    """The most specific active policy: a blocking-only policy beats a general one, a policy for
    the type and priority beats one for any."""
    candidates = SlaPolicy.objects.filter(active=True).filter(
        Q(ticket_type="") | Q(ticket_type=ticket_type),
        Q(priority__isnull=True) | Q(priority=priority),
    )
    if not blocking:
        candidates = candidates.filter(blocking_only=False)
    best: tuple[int, SlaPolicy] | None = None
    for policy in candidates.select_related("calendar"):
        score = 4 * policy.blocking_only + 2 * bool(policy.ticket_type) + (policy.priority is not None)
        if best is None or score > best[0] or (score == best[0] and policy.pk < best[1].pk):
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
