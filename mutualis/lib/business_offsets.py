"""Cumulative business seconds since a fixed origin, so a duration is a subtraction.

For each calendar the open intervals from 2000 to 2060 are laid out once per process with the
business seconds elapsed before each; an instant's offset is found by bisection. Tickets store
the offsets of their opening, taking into account and solution, and indicators subtract them in
one grouped SQL query instead of walking calendars per ticket.
"""

from __future__ import annotations

import bisect
import datetime as dt
from array import array
from collections.abc import Callable
from dataclasses import dataclass

from mutualis.lib.business_time import CalendarSpec

ORIGIN_YEAR = 2000
END_YEAR = 2060


@dataclass(frozen=True)
class OffsetTable:
    starts: array  # epoch seconds of each open interval's start
    ends: array
    before: array  # business seconds elapsed before each interval

    def offset(self, instant: dt.datetime) -> int:
        t = instant.timestamp()
        index = bisect.bisect_right(self.starts, t) - 1
        if index < 0:
            return 0
        inside = min(t, self.ends[index]) - self.starts[index]
        return int(self.before[index] + max(0, inside))


def build(spec: CalendarSpec) -> OffsetTable:
    starts, ends, before = array("d"), array("d"), array("q")
    total = 0
    day = dt.date(ORIGIN_YEAR, 1, 1)
    last = dt.date(END_YEAR, 12, 31)
    while day <= last:
        for open_at, close_at in spec.intervals(day):
            starts.append(open_at.timestamp())
            ends.append(close_at.timestamp())
            before.append(total)
            total += int((close_at - open_at).total_seconds())
        day += dt.timedelta(days=1)
    return OffsetTable(starts, ends, before)


# Computed values, not ORM instances: a table depends only on the calendar's spec, and the key
# holds its version, so a process never serves a stale one (issue #12 point 6 keeps this cache).
_CACHE: dict[tuple[int, str], OffsetTable] = {}


def table_for(calendar_id: int, version: str, spec: Callable[[], CalendarSpec]) -> OffsetTable:
    """The calendar's table, built once per process and version (the calendar's updated_at);
    `spec` is only called to build it, so a cached table costs no query."""
    key = (calendar_id, version)
    table = _CACHE.get(key)
    if table is None:
        for stale in [k for k in _CACHE if k[0] == calendar_id]:
            del _CACHE[stale]
        table = _CACHE[key] = build(spec())
    return table
