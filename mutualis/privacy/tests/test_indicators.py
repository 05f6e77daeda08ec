"""Anonymising closed tickets leaves the indicators and the time accounting as they were: they
read dates, statuses, collectivities, applications, budgets and durations, which stay."""

from __future__ import annotations

import datetime as dt

from mutualis.helpdesk.models import Ticket
from mutualis.privacy.models import RetentionKind, RetentionRule
from mutualis.privacy.pseudonyms import NEUTRAL_TEXT
from mutualis.privacy.retention import retention_apply
from mutualis.privacy.tests.helpers import at, closed_ticket
from mutualis.quality import selectors
from mutualis.quality.kpis import Month, compute


def test_it_keeps_every_indicator_identical(world):
    for day in (2, 9, 16):
        closed_ticket(world, opened=at(2021, 11, day))
    closed_ticket(world, opened=at(2021, 12, 7), blocking=True)
    before = compute(first=Month(2021, 11), last=Month(2021, 12), by=["month", "collectivity"])
    spent_before = selectors.time_spent(actor=world.staff, year=2021)
    assert before[0]["solved"] == 3 and before[0]["satisfaction_answers"] == 3  # the fixture has something to lose

    RetentionRule.objects.filter(kind=RetentionKind.CLOSED_TICKETS).update(months=12)
    [outcome] = retention_apply(now=dt.datetime(2026, 12, 5, tzinfo=dt.UTC), kinds=[RetentionKind.CLOSED_TICKETS])

    assert outcome.count == 4 and Ticket.objects.filter(title=NEUTRAL_TEXT).count() == 4
    assert compute(first=Month(2021, 11), last=Month(2021, 12), by=["month", "collectivity"]) == before
    assert selectors.time_spent(actor=world.staff, year=2021) == spent_before
