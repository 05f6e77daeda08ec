"""The indicators against a hand computation on a small fixture."""

import datetime as dt
import json
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command

from mutualis.helpdesk import services
from mutualis.helpdesk.enums import Action
from mutualis.quality.kpis import Month, compute

PARIS = ZoneInfo("Europe/Paris")


def at(month: int, day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=PARIS)


def solved_ticket(world, *, opened, taken, solved, member=None, blocking=False, pending=None):
    member = member or world.member_a
    requester = world.agent_a if member == world.member_a else None
    ticket = services.ticket_create(
        actor=world.staff,
        collectivity=member,
        requester=requester,
        ticket_type="incident",
        title="t",
        description="d",
        blocking=blocking,
        now=opened,
    )
    services.ticket_assign(actor=world.staff, ticket=ticket, group=None, technician=world.staff, now=taken)
    if pending:
        services.ticket_transition(
            actor=world.staff, ticket=ticket, action=Action.WAIT, pending_reason="vendor", now=pending[0]
        )
        services.ticket_transition(actor=world.staff, ticket=ticket, action=Action.RESUME, now=pending[1])
    services.ticket_transition(actor=world.staff, ticket=ticket, action=Action.SOLVE, comment="ok", now=solved)
    return ticket


@pytest.fixture
def fixture(world):
    # Tuesday 3 Nov 2026. TTO 30 min, 1 h, 2 h; TTR 1 h, 2 h (+1 h pending, excluded), 4 h.
    solved_ticket(world, opened=at(11, 3, 9), taken=at(11, 3, 9, 30), solved=at(11, 3, 10))
    solved_ticket(
        world,
        opened=at(11, 3, 9),
        taken=at(11, 3, 10),
        solved=at(11, 3, 12),
        blocking=True,
        pending=(at(11, 3, 10), at(11, 3, 11)),
    )
    # Opened Friday 6 Nov 16:00, solved Monday 9 Nov 10:30 → 1.5 h + 2 h = 3.5 h of business time.
    solved_ticket(world, opened=at(11, 6, 16), taken=at(11, 6, 18), solved=at(11, 9, 10, 30), member=world.member_b)
    # Still open at the end of November, opened in October.
    services.ticket_create(
        actor=world.staff,
        collectivity=world.member_a,
        requester=world.agent_a,
        ticket_type="request",
        title="open",
        description="d",
        now=at(10, 20, 9),
    )


def test_it_computes_the_month_as_by_hand(fixture):
    [october, november] = compute(first=Month(2026, 10), last=Month(2026, 11), by=["month"])
    assert october["month"] == "2026-10" and october["opened"] == 1 and october["backlog_end"] == 1
    assert november["opened"] == 3
    assert november["solved"] == 3
    assert november["backlog_end"] == 1
    assert november["ttr_mean_s"] == round((3600 + 7200 + 12600) / 3, 1)  # the pending hour excluded
    assert november["ttr_median_s"] == 7200
    assert november["ttr_p90_s"] == 7200 + 0.8 * (12600 - 7200)
    # TTO: 30 min, 1 h, 1.5 h (Friday 16:00 → 17:30, the evening is closed).
    assert november["tto_median_s"] == 3600
    assert november["blocking_2d_pct"] == 100.0
    # The default policies (migration 0009) give each a budget: priority 3 owns in 8 business
    # hours and resolves in 10 business days, the blocking one in 1 hour and 2 business days.
    assert november["sla_ttr_pct"] == 100.0
    assert november["sla_tto_pct"] == 100.0
    assert november["reopen_pct"] == 0.0
    assert november["satisfaction_answers"] == 0 and november["satisfaction_mean"] is None


def test_it_groups_by_member_and_filters_one(fixture, world):
    rows = compute(first=Month(2026, 11), last=Month(2026, 11), by=["collectivity"])
    assert {r["collectivity"]: r["solved"] for r in rows} == {"alpha": 2, "bravo": 1}
    only = compute(first=Month(2026, 11), last=Month(2026, 11), by=[], collectivity_id=world.member_b.pk)
    assert only[0]["solved"] == 1 and only[0]["ttr_median_s"] == 12600


def test_it_prints_json_and_csv_from_the_command(fixture):
    out = StringIO()
    call_command(
        "helpdesk_kpis",
        "--from",
        "2026-11",
        "--to",
        "2026-11",
        "--by",
        "month,collectivity",
        "--format",
        "json",
        stdout=out,
    )
    rows = json.loads(out.getvalue())
    assert [(r["month"], r["collectivity"]) for r in rows] == [("2026-11", "alpha"), ("2026-11", "bravo")]
    assert set(rows[0]) == {
        "month",
        "collectivity",
        "opened",
        "solved",
        "closed",
        "backlog_end",
        "tto_mean_s",
        "tto_median_s",
        "tto_p90_s",
        "ttr_mean_s",
        "ttr_median_s",
        "ttr_p90_s",
        "sla_tto_pct",
        "sla_ttr_pct",
        "blocking_2d_pct",
        "reopen_pct",
        "satisfaction_mean",
        "satisfaction_answers",
    }
    out = StringIO()
    call_command("helpdesk_kpis", "--from", "2026-11", "--to", "2026-11", "--format", "csv", stdout=out)
    assert out.getvalue().splitlines()[0].startswith("\ufeffmonth;opened;solved;closed;backlog_end;")


def test_it_refuses_an_unknown_grouping_or_month(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="regroupement inconnu"):
        call_command("helpdesk_kpis", "--from", "2026-11", "--to", "2026-11", "--by", "colour")
    with pytest.raises(CommandError, match="mois invalide"):
        call_command("helpdesk_kpis", "--from", "2026-13", "--to", "2026-11")


def test_it_puts_a_night_ticket_in_its_local_month(world):
    # 1 December 2026 at 00:30 in Paris is still 30 November in UTC.
    services.ticket_create(
        actor=world.staff,
        collectivity=world.member_a,
        requester=world.agent_a,
        ticket_type="request",
        title="nuit",
        description="d",
        now=dt.datetime(2026, 12, 1, 0, 30, tzinfo=PARIS),
    )
    rows = compute(first=Month(2026, 11), last=Month(2026, 12), by=["month"])
    assert {r["month"]: r["opened"] for r in rows} == {"2026-12": 1}
