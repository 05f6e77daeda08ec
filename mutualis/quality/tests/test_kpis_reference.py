"""The indicators' set-based SQL against a plain Python reading of docs/indicators.md, on random
tickets: instants around the local months' boundaries and the clock changes, missing times and
budgets, every grouping. The SQL is written for speed (integer month buckets, covering indexes,
see kpis.py); this test is what keeps its figures those of the definitions, on both engines."""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict
from fractions import Fraction
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mutualis.catalog.models import Application, Domain
from mutualis.helpdesk import sla
from mutualis.helpdesk.models import Ticket
from mutualis.quality.kpis import BLOCKING_LIMIT_S, MEASURES, TZ, Month, compute, months_between

MONTHS = [Month(2026, 9), Month(2026, 10), Month(2026, 11), Month(2026, 12), Month(2027, 1), Month(2027, 2)]
# Instants the SQL could misplace: local midnights that start a month (a UTC instant of the
# previous day), the clock changes of 25 October 2026 and 28 March 2027, and plain days.
ANCHORS = [m.start() for m in [*MONTHS, Month(2027, 3)]] + [
    dt.datetime(2026, 10, 25, 2, 30, tzinfo=dt.UTC),
    dt.datetime(2026, 10, 25, 0, 59, tzinfo=dt.UTC),
    dt.datetime(2026, 11, 17, 10, 0, tzinfo=TZ),
]

instants = st.builds(
    lambda anchor, shift: anchor + dt.timedelta(seconds=shift),
    st.sampled_from(ANCHORS),
    st.one_of(
        st.sampled_from([0, -1, 1]),
        st.sampled_from([0]),
        st.integers(-3600, 3600),
        st.integers(-40 * 86400, 40 * 86400),
    ),
)
durations = st.integers(0, 30 * 86400)
# Business seconds, with the values where a "<=" against a budget or the 2-day limit turns.
EDGES = [0, 3600, 7200, BLOCKING_LIMIT_S - 1, BLOCKING_LIMIT_S, BLOCKING_LIMIT_S + 1]
business = st.one_of(st.sampled_from(EDGES), st.just(BLOCKING_LIMIT_S), st.integers(0, 40 * 3600))
tickets = st.fixed_dictionaries(
    {
        "opened": instants,
        "taken": st.none() | durations,
        "solved": st.none() | durations,
        "closed": st.none() | st.integers(0, 10 * 86400),
        "member": st.integers(0, 1),
        "application": st.none() | st.integers(0, 1),
        "type": st.sampled_from(["incident", "request"]),
        "priority": st.integers(1, 5),
        "blocking": st.booleans(),
        "tto_business": business,
        "ttr_business": business,
        "waiting": st.sampled_from([0, 1]) | st.integers(0, 5 * 3600),
        "tto_budget": st.none() | business,
        "ttr_budget": st.none() | business,
        "reopen": st.integers(0, 2),
        "satisfaction": st.none() | st.integers(1, 5),
    }
)
groupings = st.sampled_from(
    [
        (),
        ("month",),
        ("month", "collectivity"),
        ("collectivity", "application"),
        ("month", "type", "priority"),
        ("month", "collectivity", "application", "type", "priority"),
    ]
)


def _month(instant: dt.datetime | None) -> str | None:
    return None if instant is None else str(Month(*instant.astimezone(TZ).timetuple()[:2]))


def _percentile(values: list[int], fraction: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    position = fraction * (len(values) - 1)
    lower = int(position)
    upper = min(lower + 1, len(values) - 1)
    return values[lower] + (position - lower) * (values[upper] - values[lower])


def _round(value: Any, digits: int = 1) -> float | None:
    return None if value is None else round(float(value), digits)


def _pct(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


def reference(first: Month, last: Month, by: tuple[str, ...], collectivity_id: int | None) -> list[dict[str, Any]]:
    """docs/indicators.md read literally, one ticket at a time."""
    months = [str(m) for m in months_between(first, last)]
    tickets = Ticket.objects.select_related("collectivity", "application")
    if collectivity_id:
        tickets = tickets.filter(collectivity_id=collectivity_id)
    groups: dict[tuple[Any, ...], dict[str, Any]] = defaultdict(
        lambda: {"opened": 0, "closed": 0, "solved": [], "backlog": defaultdict(int)}
    )

    def key(ticket: Ticket, month: str | None) -> tuple[Any, ...]:
        values = {
            "month": month,
            "collectivity": ticket.collectivity.slug,
            "application": ticket.application.slug if ticket.application else None,
            "type": ticket.ticket_type,
            "priority": ticket.priority,
        }
        return tuple(values[k] for k in by)

    for ticket in tickets:
        for event, instant in (("opened", ticket.opened_at), ("closed", ticket.closed_at)):
            if (month := _month(instant)) in months:
                groups[key(ticket, month)][event] += 1
        if (month := _month(ticket.solved_at)) in months:
            groups[key(ticket, month)]["solved"].append(ticket)
        # the backlog at the end of each month (or of the period)
        for month in months if "month" in by else [months[-1]]:
            month_end = Month.parse(month).next().start()
            if ticket.opened_at < month_end and (ticket.solved_at is None or ticket.solved_at >= month_end):
                groups[key(ticket, month)]["backlog"][month] += 1
    if not by:
        groups[()]  # without grouping, one row of totals even for an empty period
    rows = []
    for group_key, g in groups.items():
        solved = g["solved"]
        tto = [t.taken_offset - t.opened_offset for t in solved if t.taken_offset is not None]
        ttr = [t.solved_offset - t.opened_offset - t.waiting_seconds for t in solved]
        answers = [t.satisfaction for t in solved if t.satisfaction is not None]
        tto_sla = [t for t in solved if t.tto_budget_s is not None and t.taken_offset is not None]
        ttr_sla = [t for t in solved if t.ttr_budget_s is not None]
        blocking = [t for t in solved if t.blocking and t.ticket_type == "incident"]

        def ttr_of(t: Ticket) -> int:
            return t.solved_offset - t.opened_offset - t.waiting_seconds

        row = dict(zip(by, group_key, strict=True)) | {
            "opened": g["opened"],
            "solved": len(solved),
            "closed": g["closed"],
            "backlog_end": sum(g["backlog"].values()),
            "tto_mean_s": _round(Fraction(sum(tto), len(tto))) if tto else None,
            "tto_median_s": _round(_percentile(tto, 0.5)),
            "tto_p90_s": _round(_percentile(tto, 0.9)),
            "ttr_mean_s": _round(Fraction(sum(ttr), len(ttr))) if ttr else None,
            "ttr_median_s": _round(_percentile(ttr, 0.5)),
            "ttr_p90_s": _round(_percentile(ttr, 0.9)),
            "sla_tto_pct": _pct(sum(t.taken_offset - t.opened_offset <= t.tto_budget_s for t in tto_sla), len(tto_sla)),
            "sla_ttr_pct": _pct(sum(ttr_of(t) <= t.ttr_budget_s for t in ttr_sla), len(ttr_sla)),
            "blocking_2d_pct": _pct(sum(ttr_of(t) <= BLOCKING_LIMIT_S for t in blocking), len(blocking)),
            "reopen_pct": _pct(sum(t.reopen_count > 0 for t in solved), len(solved)) if solved else None,
            "satisfaction_mean": _round(statistics.fmean(answers), 2) if answers else None,
            "satisfaction_answers": len(answers),
        }
        if not by or row["opened"] or row["solved"] or row["closed"] or row["backlog_end"]:
            rows.append(row)
    return sorted(rows, key=lambda r: tuple("" if r[k] is None else str(r[k]) for k in by))


@settings(max_examples=80, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    data=st.lists(tickets, min_size=1, max_size=25),
    by=groupings,
    span=st.just((0, len(MONTHS) - 1)) | st.tuples(st.integers(0, len(MONTHS) - 1), st.integers(0, len(MONTHS) - 1)),
    scoped=st.booleans(),
)
def test_the_sql_gives_the_figures_of_the_definitions(world, data, by, span, scoped):
    Ticket.objects.all().delete()
    calendar = sla.default_calendar()
    table = calendar.offsets()
    domain, _ = Domain.objects.get_or_create(slug="d", defaults={"name": "D"})
    applications = [
        Application.objects.get_or_create(slug=f"app-{i}", defaults={"name": f"App {i}", "domain": domain})[0]
        for i in range(2)
    ]
    members = [world.member_a, world.member_b]
    rows = []
    for i, t in enumerate(data):
        opened = t["opened"]
        taken = opened + dt.timedelta(seconds=t["taken"]) if t["taken"] is not None else None
        solved = opened + dt.timedelta(seconds=t["solved"]) if t["solved"] is not None else None
        if taken and solved and taken > solved:
            taken = solved
        closed = solved + dt.timedelta(seconds=t["closed"]) if solved and t["closed"] is not None else None
        offset = table.offset(opened)
        rows.append(
            Ticket(
                reference=f"P{i:05d}",
                ticket_type=t["type"],
                collectivity=members[t["member"]],
                application=None if t["application"] is None else applications[t["application"]],
                title="t",
                description="d",
                priority=t["priority"],
                blocking=t["blocking"],
                calendar=calendar,
                opened_at=opened,
                taken_at=taken,
                solved_at=solved,
                closed_at=closed,
                # The offsets are what the SQL subtracts: drawn as business durations (to reach
                # the budgets' edges) from the opening's true offset, not derived from instants.
                opened_offset=offset,
                taken_offset=offset + t["tto_business"] if taken else None,
                solved_offset=offset + t["ttr_business"] + t["waiting"] if solved else None,
                waiting_seconds=t["waiting"] if solved else 0,
                tto_budget_s=t["tto_budget"],
                ttr_budget_s=t["ttr_budget"],
                reopen_count=t["reopen"] if solved else 0,
                satisfaction=t["satisfaction"] if closed else None,
            )
        )
    Ticket.objects.bulk_create(rows)
    first, last = MONTHS[min(span)], MONTHS[max(span)]
    scope = world.member_b.pk if scoped else None
    got = compute(first=first, last=last, by=by, collectivity_id=scope)
    expected = reference(first, last, by, scope)
    assert [{k: r[k] for k in (*by, *MEASURES)} for r in got] == expected
