"""Business time against a slow reference that walks minute by minute: weekends, French holidays
(Easter Monday, Ascension, Whit Monday), daylight-saving changes, nights, pending periods."""

import datetime as dt
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from mutualis.lib.business_offsets import build
from mutualis.lib.business_time import (
    DEFAULT_CALENDAR,
    CalendarSpec,
    add_business_days,
    add_business_seconds,
    business_seconds,
    french_holidays,
)

PARIS = ZoneInfo("Europe/Paris")
UTC = dt.UTC
OFFSETS = build(DEFAULT_CALENDAR)


def walk_minutes(calendar: CalendarSpec, start: dt.datetime, end: dt.datetime) -> int:
    """The slow truth: every UTC minute in [start, end) whose local wall time is open."""
    total = 0
    t = start
    while t < end:
        local = t.astimezone(calendar.tz)
        day = local.date()
        if not calendar.is_closed(day):
            wall = local.time().replace(tzinfo=None)
            if any(a <= wall < b for a, b in calendar.hours.get(day.weekday(), ())):
                total += 60
        t += dt.timedelta(minutes=1)
    return total


# Minute-aligned instants between 2024 and 2027, around the DST changes and the spring holidays.
instants = st.integers(min_value=0, max_value=3 * 365 * 24 * 60).map(
    lambda m: dt.datetime(2024, 1, 1, tzinfo=UTC) + dt.timedelta(minutes=m)
)
spans = st.integers(min_value=0, max_value=6 * 24 * 60)


@settings(max_examples=60, deadline=None)
@given(start=instants, minutes=spans)
def test_it_agrees_with_the_minute_walk(start, minutes):
    end = start + dt.timedelta(minutes=minutes)
    expected = walk_minutes(DEFAULT_CALENDAR, start, end)
    assert business_seconds(DEFAULT_CALENDAR, start, end) == expected
    assert OFFSETS.offset(end) - OFFSETS.offset(start) == expected


@settings(max_examples=60, deadline=None)
@given(start=instants, seconds=st.integers(min_value=0, max_value=5 * 8 * 3600))
def test_it_adds_business_seconds_as_the_inverse_of_counting(start, seconds):
    due = add_business_seconds(DEFAULT_CALENDAR, start, seconds)
    assert business_seconds(DEFAULT_CALENDAR, start, due) == seconds
    assert due >= start


@settings(max_examples=40, deadline=None)
@given(start=instants, pending_start=spans, pending_minutes=spans)
def test_it_excludes_a_pending_period(start, pending_start, pending_minutes):
    pause = start + dt.timedelta(minutes=pending_start)
    resume = pause + dt.timedelta(minutes=pending_minutes)
    end = resume + dt.timedelta(hours=30)
    waiting = business_seconds(DEFAULT_CALENDAR, pause, resume)
    assert business_seconds(DEFAULT_CALENDAR, start, end) - waiting == (
        walk_minutes(DEFAULT_CALENDAR, start, pause) + walk_minutes(DEFAULT_CALENDAR, resume, end)
    )


def test_it_knows_the_moving_holidays_of_2026():
    days = french_holidays(2026)
    assert dt.date(2026, 4, 6) in days  # Easter Monday
    assert dt.date(2026, 5, 14) in days  # Ascension
    assert dt.date(2026, 5, 25) in days  # Whit Monday
    assert dt.date(2026, 11, 11) in days


def test_it_counts_nothing_on_a_holiday_and_starts_a_night_ticket_at_the_next_opening():
    ascension = dt.datetime(2026, 5, 14, 10, tzinfo=PARIS)
    assert business_seconds(DEFAULT_CALENDAR, ascension, ascension + dt.timedelta(hours=5)) == 0
    night = dt.datetime(2026, 5, 13, 22, tzinfo=PARIS)
    assert add_business_seconds(DEFAULT_CALENDAR, night, 0) == dt.datetime(2026, 5, 15, 8, 30, tzinfo=PARIS)


def test_it_does_not_gain_or_lose_an_hour_across_daylight_saving_changes():
    # Sunday 29 March 2026 the clocks go forward; Monday is a normal 8-hour day.
    friday = dt.datetime(2026, 3, 27, 17, 30, tzinfo=PARIS)
    monday_evening = dt.datetime(2026, 3, 30, 17, 30, tzinfo=PARIS)
    assert business_seconds(DEFAULT_CALENDAR, friday, monday_evening) == 8 * 3600


def test_it_moves_two_business_days_over_a_weekend():
    friday = dt.datetime(2026, 11, 27, 16, tzinfo=PARIS)
    assert add_business_days(DEFAULT_CALENDAR, friday, 2) == dt.datetime(2026, 12, 1, 16, tzinfo=PARIS)
