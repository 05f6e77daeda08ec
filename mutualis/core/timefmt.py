"""Instants as people read them: in the site's time zone (Europe/Paris), whatever the code path.

Templates convert an aware datetime to the current time zone before a `date` filter formats it;
Python code calling that filter, `dateformat` or `strftime` itself gets no such conversion and
prints the UTC value the database returns. Code outside templates formats instants here only
(a test in core/tests/test_timefmt.py keeps it so)."""

from __future__ import annotations

import datetime as dt

from django.utils import dateformat, timezone


def local_datetime(value: dt.datetime | None, fmt: str = "d/m/Y H:i", *, empty: str = "") -> str:
    """`value` in the current time zone (Europe/Paris unless a request chose another), formatted
    with Django's date format characters; `empty` for None. A naive value is taken as local."""
    if value is None:
        return empty
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    return dateformat.format(value, fmt)


def utc_stamp(value: dt.datetime) -> str:
    """`value` as a compact UTC stamp for machine names (backup archives: 20261205T023000Z). It
    names the instant in UTC on purpose, so names sort the same whatever the server's zone and
    around the change to summer time; nobody reads it as a local time."""
    return value.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
