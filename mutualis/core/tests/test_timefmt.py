"""Instants shown to people are in Europe/Paris: formatted by core.timefmt, and no Python code
formats one itself (the staff queue printed UTC that way)."""

import datetime as dt
import re
from pathlib import Path

from mutualis.core.audit import snapshot
from mutualis.core.timefmt import local_datetime
from mutualis.helpdesk.models import Ticket

ROOT = Path(__file__).resolve().parents[2]
# Ways Python code turns an instant into text without converting it to the local zone first.
FORBIDDEN = re.compile(r"defaultfilters import date\b|dateformat\.format\(|\.strftime\(|time_format\(|_at:%|_on:%H")
# The exports' writer is framework-free (lib) and converts an aware instant to Paris time itself.
ALLOWED = {ROOT / "core" / "timefmt.py", ROOT / "lib" / "tabular.py"}


def test_it_formats_an_instant_in_paris_time_winter_and_summer():
    assert local_datetime(dt.datetime(2026, 1, 13, 8, 0, tzinfo=dt.UTC)) == "13/01/2026 09:00"
    assert local_datetime(dt.datetime(2026, 7, 14, 8, 0, tzinfo=dt.UTC), "H:i") == "10:00"
    assert local_datetime(None, empty="—") == "—"


def test_it_finds_no_python_code_formatting_an_instant_outside_timefmt():
    offenders = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in ROOT.rglob("*.py")
        if path not in ALLOWED and "tests" not in path.parts and "migrations" not in path.parts
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if FORBIDDEN.search(line)
    ]
    assert not offenders, "format instants with mutualis.core.timefmt.local_datetime:\n" + "\n".join(offenders)


def test_it_records_an_instant_in_the_audit_log_in_paris_time():
    ticket = Ticket(taken_at=dt.datetime(2026, 1, 13, 8, 0, tzinfo=dt.UTC))

    assert snapshot(ticket, ["taken_at"]) == {"taken_at": "2026-01-13T09:00:00+01:00"}
