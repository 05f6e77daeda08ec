"""Helpdesk indicators on a decade of tickets (1,000,000), side by side with DuckDB and a per-ticket ORM loop.

    .venv/bin/python -m bench.kpis                        # a throwaway SQLite file
    .venv/bin/python -m bench.kpis --database-url postgres://postgres@127.0.0.1:5432/postgres
    .venv/bin/python -m bench.kpis --tickets 200000       # a quicker run

The issue's targets (first call after start included): one month's indicators for all members
(`kpis.compute`, by month × collectivity) ≤ 0.25 s on SQLite and ≤ 0.1 s on PostgreSQL; a full year
by month × member ≤ 1.5 s / ≤ 0.5 s; the whole decade by month × member ≤ 3 s on PostgreSQL. The
same year is computed by DuckDB (the column-store reference, over the same rows held in its own
in-memory table; aim: ≤ 10× its time on PostgreSQL) and by a plain loop over ORM objects; the three
must give the same figures. Cold figures come from a fresh process (new connection, nothing
cached in Python); warm figures are medians. Candidate indexes are then created ad hoc in the
bench database and the figures measured again. A benchmark, not a test: it always exits 0 and
says MISSED next to a missed target. Needs numpy and duckdb (`pip install -e ".[bench]"`).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from typing import Any

from bench.matrix import Line, print_table, setup_django, throwaway_database, verdict

YEAR = 2025  # the decade is 2016–2025; "now" is 1 January 2026 at 00:00 in Paris
FIRST_YEAR = YEAR - 9
MONTH = (YEAR, 11)
MEMBERS, APPLICATIONS = 120, 40
TARGETS = {  # seconds: (SQLite, PostgreSQL)
    "month": (0.25, 0.1),
    "year": (1.5, 0.5),
    "decade": (None, 3.0),
}
DUCKDB_RATIO_TARGET = 5.0  # issue #13
# Candidate indexes measured ad hoc (a helpdesk migration adds the ones worth it: the covering
# indexes of helpdesk 0013 were measured here first). None pending.
CANDIDATE_INDEXES: list[str] = []
COMPARED = (
    "opened", "solved", "closed", "tto_mean_s", "tto_median_s", "tto_p90_s", "ttr_mean_s", "ttr_median_s",
    "ttr_p90_s", "sla_ttr_pct", "blocking_2d_pct", "reopen_pct", "satisfaction_mean", "satisfaction_answers",
)  # fmt: skip  # noqa: E501


# --- Data -----------------------------------------------------------------------------------------


def generate(n: int, seed: int) -> dict[str, Any]:
    """The decade's tickets as numpy columns, with valid business offsets on the default calendar:
    openings drawn as business offsets (so on open hours), every instant derived from its offset
    through the calendar's table (vectorised bisection), so offsets and instants always agree."""
    import numpy as np

    from mutualis.helpdesk import sla
    from mutualis.helpdesk.models import SlaPolicy
    from mutualis.quality.kpis import TZ

    rng = np.random.default_rng(seed)
    calendar = sla.default_calendar()
    table = calendar.offsets()
    starts = np.frombuffer(table.starts, dtype=np.float64).astype(np.int64)
    before = np.frombuffer(table.before, dtype=np.int64)

    def offset_of(instant: dt.datetime) -> int:
        return table.offset(instant)

    def instant_of(offsets: Any) -> Any:
        index = np.searchsorted(before, offsets, side="right") - 1
        return starts[index] + (offsets - before[index])

    lo = offset_of(dt.datetime(FIRST_YEAR, 1, 1, tzinfo=TZ))
    hi = offset_of(dt.datetime(YEAR + 1, 1, 1, tzinfo=TZ))
    now = int(dt.datetime(YEAR + 1, 1, 1, tzinfo=TZ).timestamp())
    # Volume growing over the decade: half uniform, half with a density rising linearly.
    u = rng.random(n)
    u = np.where(rng.random(n) < 0.5, u, np.sqrt(u))
    opened_off = np.sort(lo + (u * (hi - lo - 1)).astype(np.int64))
    incident = rng.random(n) < 0.4
    blocking = incident & (rng.random(n) < 0.06)
    tto = np.maximum(60, rng.lognormal(np.log(2700), 0.9, n)).astype(np.int64)
    ttr = np.where(blocking, rng.lognormal(np.log(3 * 3600), 0.7, n), rng.lognormal(np.log(10 * 3600), 1.1, n))
    ttr = np.maximum(tto + 300, np.minimum(ttr, 120 * 28800)).astype(np.int64)
    waiting = np.where(rng.random(n) < 0.15, rng.lognormal(np.log(6 * 3600), 1.0, n), 0).astype(np.int64)
    taken_off = opened_off + tto
    solved_off = opened_off + ttr + waiting
    opened_s, taken_s, solved_s = instant_of(opened_off), instant_of(taken_off), instant_of(solved_off)
    taken_ok = taken_s <= now
    solved_ok = solved_s <= now
    closed_s = solved_s + 7 * 86400
    closed_ok = solved_ok & (closed_s <= now)
    satisfaction = np.where(
        closed_ok & (rng.random(n) < 0.3), rng.choice([5, 4, 3, 2, 1], n, p=[0.5, 0.32, 0.1, 0.05, 0.03]), -1
    )
    policy = SlaPolicy.objects.filter(blocking_only=True, active=True).order_by("pk").first()
    member_weights = 1 / np.arange(1, MEMBERS + 1) ** 0.8
    return {
        "n": n,
        "collectivity": rng.choice(MEMBERS, n, p=member_weights / member_weights.sum()),
        "application": rng.integers(0, APPLICATIONS, n),
        "incident": incident,
        "blocking": blocking,
        "priority": rng.choice([1, 2, 3, 4, 5], n, p=[0.1, 0.25, 0.4, 0.18, 0.07]),
        "opened_s": opened_s,
        "taken_s": np.where(taken_ok, taken_s, -1),
        "solved_s": np.where(solved_ok, solved_s, -1),
        "closed_s": np.where(closed_ok, closed_s, -1),
        "opened_off": opened_off,
        "taken_off": np.where(taken_ok, taken_off, -1),
        "solved_off": np.where(solved_ok, solved_off, -1),
        "waiting": np.where(solved_ok, waiting, 0),
        "ttr_budget": np.where(blocking & (policy is not None), 16 * 3600, -1),
        "reopen": (solved_ok & (rng.random(n) < 0.03)).astype(np.int64),
        "satisfaction": satisfaction,
        "policy_id": policy.pk if policy else None,
        "calendar_id": calendar.pk,
    }


def _stamps(seconds: Any, postgres: bool) -> list[str | None]:
    import numpy as np

    text = np.datetime_as_string(seconds.astype("datetime64[s]"), unit="s")
    suffix = "+00" if postgres else ""
    return [
        None if s < 0 else t.replace("T", " ") + suffix for s, t in zip(seconds.tolist(), text.tolist(), strict=True)
    ]


def load(data: dict[str, Any], say: Any) -> tuple[list[int], list[int]]:
    """Members, applications, then the tickets straight through the DB-API (COPY / executemany)."""
    from django.db import connection, transaction

    from bench import hd_bulk
    from mutualis.catalog.cache import applications_changed
    from mutualis.catalog.models import Application, Domain
    from mutualis.members.models import Organisation, OrganisationKind

    postgres = connection.vendor == "postgresql"
    Organisation.objects.create(name="Opérateur", slug="operateur", kind=OrganisationKind.OPERATOR)
    members = Organisation.objects.bulk_create(
        Organisation(name=f"Commune {i:03d}", slug=f"commune-{i:03d}", kind=OrganisationKind.COMMUNE)
        for i in range(MEMBERS)
    )
    domain = Domain.objects.create(slug="domaine", name="Domaine")
    apps = Application.objects.bulk_create(
        Application(slug=f"application-{i:02d}", name=f"Application {i}", domain=domain, position=i)
        for i in range(APPLICATIONS)
    )
    applications_changed()  # written around the catalogue's services
    member_ids = [m.pk for m in members]
    app_ids = [a.pk for a in apps]
    n = data["n"]
    start = time.perf_counter()
    opened, taken, solved, closed = (
        _stamps(data[k], postgres) for k in ("opened_s", "taken_s", "solved_s", "closed_s")
    )

    def nullable(values: Any) -> list[Any]:
        return [None if v < 0 else v for v in values.tolist()]

    status = [
        "closed" if c is not None else "solved" if s is not None else "in_progress" if t is not None else "new"
        for t, s, c in zip(taken, solved, closed, strict=True)
    ]
    columns = {
        "created_at": opened,
        "updated_at": opened,
        "reference": [f"B{i:09d}" for i in range(n)],
        "ticket_type": ["incident" if x else "request" for x in data["incident"].tolist()],
        "source": ["web"] * n,
        "collectivity_id": [member_ids[i] for i in data["collectivity"].tolist()],
        "application_id": [app_ids[i] for i in data["application"].tolist()],
        "title": ["t"] * n,
        "description": [""] * n,
        "urgency": [3] * n,
        "impact": [3] * n,
        "priority": data["priority"].tolist(),
        "blocking": data["blocking"].tolist(),
        "status": status,
        "vendor_reference": [""] * n,
        "policy_id": [data["policy_id"] if b else None for b in data["blocking"].tolist()],
        "calendar_id": [data["calendar_id"]] * n,
        "opened_at": opened,
        "taken_at": taken,
        "solved_at": solved,
        "closed_at": closed,
        "pending_reason": [""] * n,
        "waiting_seconds": data["waiting"].tolist(),
        "ttr_budget_s": nullable(data["ttr_budget"]),
        "opened_offset": data["opened_off"].tolist(),
        "taken_offset": nullable(data["taken_off"]),
        "solved_offset": nullable(data["solved_off"]),
        "tto_breached": [False] * n,
        "ttr_breached": [False] * n,
        "reopen_count": data["reopen"].tolist(),
        "reassign_count": [0] * n,
        "satisfaction": nullable(data["satisfaction"]),
        "satisfaction_comment": [""] * n,
    }
    names = list(columns)
    rows = zip(*(columns[name] for name in names), strict=True)
    say(f"rows prepared in {time.perf_counter() - start:.1f} s")
    start = time.perf_counter()
    connection.ensure_connection()
    raw = connection.connection
    if not postgres:
        hd_bulk.speed_up_sqlite(raw)
    with transaction.atomic(), hd_bulk.indexes_deferred(raw, "helpdesk_ticket"):
        hd_bulk.insert(raw, "helpdesk_ticket", names, rows)
    hd_bulk.analyze(raw)
    say(f"{n:,} tickets inserted in {time.perf_counter() - start:.1f} s".replace(",", " "))
    return member_ids, app_ids


# --- Measures -------------------------------------------------------------------------------------


KEPT_TABLE = "bench_kpis_loaded"


def _loaded(args: argparse.Namespace) -> bool:
    """Whether the kept database already holds this run's tickets (same count and seed)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE IF NOT EXISTS {KEPT_TABLE} (tickets bigint NOT NULL, seed bigint NOT NULL)")
        cursor.execute(f"SELECT tickets, seed FROM {KEPT_TABLE}")  # noqa: S608
        marks = cursor.fetchall()
        cursor.execute("SELECT COUNT(*) FROM helpdesk_ticket")
        (count,) = cursor.fetchone()
    if marks == [(args.tickets, args.seed)] and count == args.tickets:
        return True
    if count:
        raise SystemExit(
            f"the kept database holds {count} tickets that are not this run's (marks {marks}): "
            "drop it or run without --keep once"
        )
    return False


def _mark_loaded(args: argparse.Namespace) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {KEPT_TABLE}")  # noqa: S608
        cursor.execute(f"INSERT INTO {KEPT_TABLE} VALUES (%s, %s)", [args.tickets, args.seed])  # noqa: S608


def _drop_candidate_indexes() -> None:
    """A kept database may still hold the candidate indexes of the previous run."""
    from django.db import connection

    with connection.cursor() as cursor:
        for statement in CANDIDATE_INDEXES:
            cursor.execute(f"DROP INDEX IF EXISTS {statement.split()[2]}")


def _calls() -> dict[str, dict[str, Any]]:
    from mutualis.quality.kpis import Month

    return {
        "month": {"first": Month(*MONTH), "last": Month(*MONTH), "by": ["month", "collectivity"]},
        "year": {"first": Month(YEAR, 1), "last": Month(YEAR, 12), "by": ["month", "collectivity"]},
        "decade": {"first": Month(FIRST_YEAR, 1), "last": Month(YEAR, 12), "by": ["month", "collectivity"]},
    }


def child() -> None:
    """In a fresh process: the first call of each kind, timed."""
    setup_django()
    from mutualis.quality.kpis import compute

    times = {}
    for name, call in _calls().items():
        start = time.perf_counter()
        compute(**call)
        times[name] = time.perf_counter() - start
    print(json.dumps(times))


def cold() -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-m", "bench.kpis", "--child"], capture_output=True, text=True, check=True, env=os.environ
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def warm(runs: int) -> tuple[dict[str, float], dict[str, list[dict[str, Any]]]]:
    from mutualis.quality.kpis import compute

    samples: dict[str, list[float]] = defaultdict(list)
    results = {}
    for name, call in _calls().items():
        results[name] = compute(**call)
    for _ in range(runs):
        for name, call in _calls().items():
            if name == "decade" and len(samples[name]) >= max(3, runs // 3):
                continue
            start = time.perf_counter()
            compute(**call)
            samples[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in samples.items()}, results


def cpu(runs: int) -> dict[str, float] | None:
    """CPU seconds per call (median): the PostgreSQL backend's (read from /proc, so only for a
    server on this machine) plus this process's, parallel query off so the backend does all the
    work. Unlike wall time, it hardly moves when other processes share the cores."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return None
    from mutualis.quality.kpis import compute

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
        stat = f"/proc/{pid}/stat"
        if not os.path.exists(stat):
            return None
        cursor.execute("SET max_parallel_workers_per_gather = 0")
    tick = os.sysconf("SC_CLK_TCK")

    def backend() -> float:
        with open(stat) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / tick

    samples: dict[str, list[float]] = defaultdict(list)
    try:
        for _ in range(runs):
            for name, call in _calls().items():
                b, p = backend(), time.process_time()
                compute(**call)
                samples[name].append(backend() - b + time.process_time() - p)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET max_parallel_workers_per_gather")
    return {name: statistics.median(values) for name, values in samples.items()}


def _month_bounds() -> list[tuple[str, int, int]]:
    from mutualis.quality.kpis import Month

    months = [Month(YEAR, m) for m in range(1, 13)]
    return [(str(m), int(m.start().timestamp()), int(m.next().start().timestamp())) for m in months]


def _percentile(values: list[float], p: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    pos = p * (len(values) - 1)
    lo = int(pos)
    hi = min(lo + 1, len(values) - 1)
    return values[lo] + (pos - lo) * (values[hi] - values[lo])


def _r(value: Any, digits: int = 1) -> float | None:
    return None if value is None else round(float(value), digits)


def _pct(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


def duckdb_year(data: dict[str, Any], slugs: dict[int, str]) -> tuple[float, float, float, list[dict[str, Any]]]:
    """The same year's measures in DuckDB over the same rows (loaded once into its own table)."""
    import duckdb
    import numpy as np

    start = time.perf_counter()
    con = duckdb.connect()
    columns = {k: v for k, v in data.items() if isinstance(v, np.ndarray)}
    con.register("src", columns)
    nulls = ["taken_s", "solved_s", "closed_s", "taken_off", "solved_off", "ttr_budget", "satisfaction"]
    select = ", ".join(f"NULLIF({k}, -1) AS {k}" if k in nulls else k for k in columns)
    con.execute(f"CREATE TABLE t AS SELECT {select} FROM src")  # noqa: S608
    con.execute("CREATE TABLE months (k VARCHAR, lo BIGINT, hi BIGINT)")
    con.executemany("INSERT INTO months VALUES (?, ?, ?)", _month_bounds())
    loaded = time.perf_counter() - start
    start, cpu_start = time.perf_counter(), time.process_time()  # DuckDB's threads are this process's
    counts = {}
    for event in ("opened", "closed"):
        for k, member, count in con.execute(
            f"SELECT m.k, collectivity, COUNT(*) FROM t JOIN months m ON {event}_s >= m.lo AND {event}_s < m.hi "  # noqa: S608
            "GROUP BY ALL"
        ).fetchall():
            counts[(k, member, event)] = count
    solved = con.execute(
        """
        SELECT m.k, collectivity, COUNT(*), AVG(tto), quantile_cont(tto, 0.5), quantile_cont(tto, 0.9),
               AVG(ttr), quantile_cont(ttr, 0.5), quantile_cont(ttr, 0.9),
               COUNT(ttr_budget), COUNT(*) FILTER (WHERE ttr <= ttr_budget),
               COUNT(*) FILTER (WHERE blocking AND incident),
               COUNT(*) FILTER (WHERE blocking AND incident AND ttr <= 57600),
               COUNT(*) FILTER (WHERE reopen > 0), AVG(satisfaction), COUNT(satisfaction)
        FROM (SELECT *, taken_off - opened_off AS tto, solved_off - opened_off - waiting AS ttr FROM t) s
        JOIN months m ON solved_s >= m.lo AND solved_s < m.hi
        GROUP BY ALL"""
    ).fetchall()
    elapsed, cpu_time = time.perf_counter() - start, time.process_time() - cpu_start
    rows = {}
    for k, member, n, tto_m, tto_50, tto_90, ttr_m, ttr_50, ttr_90, sla_n, sla_ok, b_n, b_ok, reo, sat, sat_n in solved:
        rows[(k, member)] = {
            "solved": n, "tto_mean_s": _r(tto_m), "tto_median_s": _r(tto_50), "tto_p90_s": _r(tto_90),
            "ttr_mean_s": _r(ttr_m), "ttr_median_s": _r(ttr_50), "ttr_p90_s": _r(ttr_90),
            "sla_ttr_pct": _pct(sla_ok, sla_n), "blocking_2d_pct": _pct(b_ok, b_n), "reopen_pct": _pct(reo, n),
            "satisfaction_mean": _r(sat, 2), "satisfaction_answers": sat_n,
        }  # fmt: skip  # noqa: E501
    out = []
    keys = {(k, m) for k, m, _e in counts} | set(rows)
    for k, member in keys:
        row = {"month": k, "collectivity": slugs[member], "opened": counts.get((k, member, "opened"), 0)}
        row["closed"] = counts.get((k, member, "closed"), 0)
        row |= rows.get((k, member), {"solved": 0, "satisfaction_answers": 0})
        out.append(row)
    return loaded, elapsed, cpu_time, out


def orm_year() -> tuple[float, list[dict[str, Any]]]:
    """The naive way: every ticket touching the year as an ORM object, measures in Python."""
    from django.db.models import Q

    from mutualis.helpdesk.models import Ticket

    start = time.perf_counter()
    bounds = _month_bounds()
    lo = dt.datetime.fromtimestamp(bounds[0][1], tz=dt.UTC)
    hi = dt.datetime.fromtimestamp(bounds[-1][2], tz=dt.UTC)

    def month(instant: dt.datetime | None) -> str | None:
        if instant is None:
            return None
        t = instant.timestamp()
        for k, a, b in bounds:
            if a <= t < b:
                return k
        return None

    acc: dict[tuple[str, str], dict[str, Any]] = defaultdict(
        lambda: {"opened": 0, "closed": 0, "tto": [], "ttr": [], "sla": [0, 0], "blk": [0, 0], "reo": 0, "sat": []}
    )
    tickets = Ticket.objects.filter(
        Q(opened_at__gte=lo, opened_at__lt=hi)
        | Q(solved_at__gte=lo, solved_at__lt=hi)
        | Q(closed_at__gte=lo, closed_at__lt=hi)
    ).select_related("collectivity")
    for ticket in tickets.iterator(chunk_size=5000):
        slug = ticket.collectivity.slug
        if k := month(ticket.opened_at):
            acc[(k, slug)]["opened"] += 1
        if k := month(ticket.closed_at):
            acc[(k, slug)]["closed"] += 1
        if (k := month(ticket.solved_at)) and ticket.opened_offset is not None:
            a = acc[(k, slug)]
            ttr = ticket.solved_offset - ticket.opened_offset - ticket.waiting_seconds
            if ticket.taken_offset is not None:
                a["tto"].append(ticket.taken_offset - ticket.opened_offset)
            a["ttr"].append(ttr)
            if ticket.ttr_budget_s is not None:
                a["sla"][0] += 1
                a["sla"][1] += ttr <= ticket.ttr_budget_s
            if ticket.blocking and ticket.ticket_type == "incident":
                a["blk"][0] += 1
                a["blk"][1] += ttr <= 57600
            a["reo"] += ticket.reopen_count > 0
            if ticket.satisfaction is not None:
                a["sat"].append(ticket.satisfaction)
    out = []
    for (k, slug), a in acc.items():
        n = len(a["ttr"])
        row = {"month": k, "collectivity": slug, "opened": a["opened"], "closed": a["closed"], "solved": n}
        for clock in ("tto", "ttr"):
            values = a[clock]
            row[f"{clock}_mean_s"] = _r(statistics.fmean(values)) if values else None
            row[f"{clock}_median_s"] = _r(_percentile(values, 0.5))
            row[f"{clock}_p90_s"] = _r(_percentile(values, 0.9))
        row["sla_ttr_pct"] = _pct(a["sla"][1], a["sla"][0])
        row["blocking_2d_pct"] = _pct(a["blk"][1], a["blk"][0])
        row["reopen_pct"] = _pct(a["reo"], n)
        row["satisfaction_mean"] = _r(statistics.fmean(a["sat"]), 2) if a["sat"] else None
        row["satisfaction_answers"] = len(a["sat"])
        out.append(row)
    return time.perf_counter() - start, out


def same(a: list[dict[str, Any]], b: list[dict[str, Any]]) -> tuple[bool, str]:
    def index(rows: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
        return {
            (r["month"], r["collectivity"]): r for r in rows if r.get("opened") or r.get("solved") or r.get("closed")
        }

    ia, ib = index(a), index(b)
    if set(ia) != set(ib):
        return False, f"{len(set(ia) ^ set(ib))} groups differ"
    for key, ra in ia.items():
        rb = ib[key]
        for measure in COMPARED:
            x, y = ra.get(measure), rb.get(measure)
            if (x is None) != (y is None) or (x is not None and abs(float(x) - float(y)) > 0.051):
                return False, f"{key} {measure}: {x} ≠ {y}"
    return True, f"{len(ia)} groups × {len(COMPARED)} measures"


def secs(value: float) -> str:
    return f"{value * 1000:,.0f} ms".replace(",", " ") if value < 10 else f"{value:.1f} s"


def run(args: argparse.Namespace, say: Any) -> list[Line]:
    from django.core.management import call_command
    from django.db import connection

    start = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    say(f"migrated in {time.perf_counter() - start:.1f} s")
    postgres = connection.vendor == "postgresql"
    column = 1 if postgres else 0
    start = time.perf_counter()
    data = generate(args.tickets, args.seed)
    say(f"{args.tickets:,} tickets generated in {time.perf_counter() - start:.1f} s".replace(",", " "))
    if args.keep and _loaded(args):
        say(f"the same tickets are already in the kept database ({KEPT_TABLE}): not loaded again")
        _drop_candidate_indexes()
    else:
        load(data, say)
        if args.keep:
            _mark_loaded(args)
    slugs = {i: f"commune-{i:03d}" for i in range(MEMBERS)}
    # a sample of offsets checked against the slow reference
    from random import Random

    from mutualis.helpdesk import sla
    from mutualis.helpdesk.models import Ticket
    from mutualis.lib.business_time import business_seconds

    spec = sla.default_calendar().spec()
    ids = Random(1).sample(range(1, args.tickets), 50)
    sample = list(Ticket.objects.filter(pk__in=ids).exclude(solved_at=None))
    good = all(t.solved_offset - t.opened_offset == business_seconds(spec, t.opened_at, t.solved_at) for t in sample)
    say(f"offsets of {len(sample)} sampled tickets {'agree' if good else 'DISAGREE'} with business_seconds")
    per_year = Ticket.objects.filter(
        solved_at__gte=dt.datetime(YEAR, 1, 1, tzinfo=dt.UTC), solved_at__lt=dt.datetime(YEAR + 1, 1, 1, tzinfo=dt.UTC)
    ).count()
    say(f"{per_year:,} tickets solved in {YEAR}".replace(",", " "))

    def measure(label: str) -> tuple[dict[str, float], dict[str, float], dict[str, Any]]:
        first = cold()
        medians, results = warm(args.runs)
        say(
            f"{label}: cold "
            + ", ".join(f"{k} {secs(v)}" for k, v in first.items())
            + "; warm "
            + ", ".join(f"{k} {secs(v)}" for k, v in medians.items())
        )
        return first, medians, results

    first, medians, results = measure("kpis.compute")
    cpu_medians = cpu(3)
    if cpu_medians:
        say(
            "kpis.compute CPU (server + client, serial): " + ", ".join(f"{k} {secs(v)}" for k, v in cpu_medians.items())
        )
    loaded, duck, duck_cpu, duck_rows = duckdb_year(data, slugs)
    say(f"DuckDB: table loaded in {secs(loaded)}, the year computed in {secs(duck)} ({secs(duck_cpu)} of CPU)")
    orm, orm_rows = orm_year()
    say(f"ORM loop: the year computed in {secs(orm)}")
    ours_year = list(results["year"])
    duck_ok, duck_detail = same(ours_year, duck_rows)
    orm_ok, orm_detail = same(ours_year, orm_rows)
    say(f"DuckDB vs kpis: {duck_detail}; ORM loop vs kpis: {orm_detail}")

    index_figures = None
    if CANDIDATE_INDEXES and not args.skip_indexes:
        with connection.cursor() as cursor:
            for statement in CANDIDATE_INDEXES:
                cursor.execute(statement)
            if postgres:
                cursor.execute("ANALYZE helpdesk_ticket")
        index_figures = measure("with candidate indexes")

    lines = []
    labels = {"month": f"1 month × member ({MONTH[0]}-{MONTH[1]:02d})", "year": f"1 year by month × member ({YEAR})",
              "decade": f"decade by month × member ({FIRST_YEAR}–{YEAR})"}  # fmt: skip  # noqa: E501
    for name, label in labels.items():
        target = TARGETS[name][column]
        peer, ratio = "", ""
        if name == "year":
            peer = f"DuckDB {secs(duck)}"
            ratio = f"{medians[name] / duck:.1f}× DuckDB"
        lines.append(Line(f"{label}, cold", secs(first[name]), "", "", f"≤ {secs(target)}" if target else "",
                          verdict(first[name] <= target) if target else ""))  # fmt: skip  # noqa: E501
        lines.append(Line(f"{label}, warm median", secs(medians[name]), peer, ratio,
                          f"≤ {secs(target)}" if target else "", verdict(medians[name] <= target) if target else ""))  # fmt: skip  # noqa: E501
        if cpu_medians:
            lines.append(Line(f"{label}, CPU (server + client)", secs(cpu_medians[name]),
                              f"DuckDB {secs(duck_cpu)}" if name == "year" else "",
                              f"{cpu_medians[name] / duck_cpu:.1f}× DuckDB" if name == "year" else ""))  # fmt: skip  # noqa: E501
        if name == "year":
            lines.append(Line("  same year, ORM per-ticket loop", secs(medians[name]), f"ORM {secs(orm)}",
                              f"speed-up × {orm / medians[name]:.0f}"))  # fmt: skip  # noqa: E501
            lines.append(Line("  vs DuckDB", "", f"DuckDB {secs(duck)}", f"{medians[name] / duck:.1f}×",
                              f"≤ {DUCKDB_RATIO_TARGET:.0f}× (PostgreSQL)",
                              verdict(medians[name] / duck <= DUCKDB_RATIO_TARGET) if postgres else ""))  # fmt: skip  # noqa: E501
    figures_same = duck_ok and orm_ok
    lines.append(Line("same figures: kpis = DuckDB = ORM loop", "yes" if figures_same else "no", "", "", "yes",
                      verdict(figures_same)))  # fmt: skip  # noqa: E501
    if index_figures:
        i_first, i_medians, i_results = index_figures
        unchanged = all(i_results[k] == results[k] for k in results)
        for name, label in labels.items():
            target = TARGETS[name][column]
            lines.append(Line(f"{label}, + indexes, cold", secs(i_first[name]), secs(first[name]), "without",
                              f"≤ {secs(target)}" if target else "", verdict(i_first[name] <= target) if target else ""))  # fmt: skip  # noqa: E501
            lines.append(Line(f"{label}, + indexes, warm", secs(i_medians[name]), secs(medians[name]), "without",
                              f"≤ {secs(target)}" if target else "", verdict(i_medians[name] <= target) if target else ""))  # fmt: skip  # noqa: E501
        lines.append(
            Line("same figures with the indexes", "yes" if unchanged else "no", "", "", "yes", verdict(unchanged))
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    if argv is None and sys.argv[1:] == ["--child"]:
        child()
        return 0
    parser = argparse.ArgumentParser(prog="python -m bench.kpis", description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="a PostgreSQL server; the bench creates and drops its own database")
    parser.add_argument("--database-name", default="mutualis_bench_kpis", help="default: %(default)s")
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--runs", type=int, default=7, help="warm runs per figure (default: %(default)s)")
    parser.add_argument("--skip-indexes", action="store_true", help="do not measure the candidate indexes")
    parser.add_argument(
        "--keep",
        action="store_true",
        help="PostgreSQL: keep the database afterwards, and reuse it when it already holds the tickets of the "
        "same --tickets and --seed (skips the minutes of loading; migrations still run)",
    )
    args = parser.parse_args(argv)
    if args.keep and not args.database_url:
        parser.error("--keep needs --database-url (the SQLite file lives in a temporary directory)")
    if args.database_name in {"test", "postgres", "template0", "template1"} or not args.database_name.isidentifier():
        parser.error(f"refusing to create and drop the database {args.database_name!r}")

    def say(message: str) -> None:
        print(f"· {message}", flush=True)

    with throwaway_database(args.database_url, args.database_name, keep=args.keep) as where:
        setup_django()
        import django

        say(f"helpdesk indicators — {where}, Django {django.get_version()}, Python {sys.version.split()[0]}")
        say(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        lines = run(args, say)
    print()
    print_table(lines)
    missed = [line.figure for line in lines if line.result == "MISSED"]
    print()
    print(f"MISSED: {', '.join(missed)}" if missed else "Every target met.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
