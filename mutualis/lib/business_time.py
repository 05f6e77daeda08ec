"""Business time on a calendar: opening hours per weekday, French public holidays, closures.

Pure functions on a `CalendarSpec`, so the helpdesk (due dates, service-level clocks) and the
indicators compute the same seconds. All instants are aware datetimes; the calendar's own time
zone decides what "Monday 08:30" means, daylight-saving changes included.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

Interval = tuple[dt.time, dt.time]


@lru_cache(maxsize=64)
def french_holidays(year: int) -> frozenset[dt.date]:
    """Metropolitan France's public holidays (no Alsace-Moselle extras)."""
    return frozenset(holidays.country_holidays("FR", years=year).keys())


@dataclass(frozen=True)
class CalendarSpec:
    timezone: str = "Europe/Paris"
    # weekday (0 = Monday) → opening intervals, sorted and not overlapping
    hours: Mapping[int, Sequence[Interval]] = field(default_factory=dict)
    french_holidays: bool = True
    closed_days: frozenset[dt.date] = frozenset()

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def is_closed(self, day: dt.date) -> bool:
        if day in self.closed_days:
            return True
        return self.french_holidays and day in french_holidays(day.year)

    def intervals(self, day: dt.date) -> list[tuple[dt.datetime, dt.datetime]]:
        """The day's opening intervals as aware instants (empty when closed)."""
        if self.is_closed(day):
            return []
        tz = self.tz
        return [
            (dt.datetime.combine(day, start, tz), dt.datetime.combine(day, end, tz))
            for start, end in self.hours.get(day.weekday(), ())
        ]

    def open_seconds_per_week(self) -> int:
        return sum(_seconds(start, end) for intervals in self.hours.values() for start, end in intervals)


def _seconds(start: dt.time, end: dt.time) -> int:
    return (end.hour * 3600 + end.minute * 60 + end.second) - (start.hour * 3600 + start.minute * 60 + start.second)


DEFAULT_HOURS: dict[int, tuple[Interval, ...]] = {
    weekday: ((dt.time(8, 30), dt.time(12, 30)), (dt.time(13, 30), dt.time(17, 30))) for weekday in range(5)
}
DEFAULT_CALENDAR = CalendarSpec(hours=DEFAULT_HOURS)


def business_seconds(calendar: CalendarSpec, start: dt.datetime, end: dt.datetime) -> int:
    """Open seconds of `calendar` between two instants (0 when end ≤ start)."""
    if end <= start:
        return 0
    if calendar.open_seconds_per_week() == 0:
        return 0
    tz = calendar.tz
    day = start.astimezone(tz).date()
    last = end.astimezone(tz).date()
    total = 0
    while day <= last:
        for open_at, close_at in calendar.intervals(day):
            lo = max(open_at, start)
            hi = min(close_at, end)
            if hi > lo:
                total += int((hi - lo).total_seconds())
        day += dt.timedelta(days=1)
    return total


def add_business_seconds(calendar: CalendarSpec, start: dt.datetime, seconds: int) -> dt.datetime:
    """The instant when `seconds` open seconds have elapsed after `start`.
    Zero seconds from a closed moment gives the next opening."""
    if calendar.open_seconds_per_week() == 0:
        raise ValueError("le calendrier n'a aucune heure d'ouverture")
    tz = calendar.tz
    remaining = max(0, seconds)
    day = start.astimezone(tz).date()
    # Ten years of closures would be absurd; the bound only guards against a calendar bug.
    for _ in range(3660):
        for open_at, close_at in calendar.intervals(day):
            lo = max(open_at, start)
            if close_at <= lo:
                continue
            available = int((close_at - lo).total_seconds())
            if remaining <= available:
                return lo + dt.timedelta(seconds=remaining)
            remaining -= available
        day += dt.timedelta(days=1)
    raise ValueError("échéance introuvable sur dix ans de calendrier")


def add_business_days(calendar: CalendarSpec, start: dt.datetime, days: int) -> dt.datetime:
    """Same local time `days` open days later (a day counts when the calendar opens that day);
    a start outside opening hours counts from the next opening."""
    begin = add_business_seconds(calendar, start, 0)
    tz = calendar.tz
    local = begin.astimezone(tz)
    day = local.date()
    counted = 0
    for _ in range(3660):
        if counted == days:
            target = dt.datetime.combine(day, local.timetz().replace(tzinfo=None), tz)
            intervals = calendar.intervals(day)
            if intervals and target > intervals[-1][1]:
                return intervals[-1][1]
            return target
        day += dt.timedelta(days=1)
        if calendar.intervals(day):
            counted += 1
    raise ValueError("échéance introuvable sur dix ans de calendrier")


def spec_from_rows(
    *,
    timezone: str,
    intervals: Iterable[tuple[int, dt.time, dt.time]],
    closed_days: Iterable[dt.date],
    use_french_holidays: bool = True,
) -> CalendarSpec:
    hours: dict[int, list[Interval]] = {}
    for weekday, start, end in intervals:
        hours.setdefault(weekday, []).append((start, end))
    return CalendarSpec(
        timezone=timezone,
        hours={k: tuple(sorted(v)) for k, v in hours.items()},
        french_holidays=use_french_holidays,
        closed_days=frozenset(closed_days),
    )
