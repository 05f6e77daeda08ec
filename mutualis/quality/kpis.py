"""Helpdesk indicators as set-based SQL: a few grouped queries whatever the number of tickets.

Definitions are in docs/indicators.md. Durations come from the business-second offsets stored on
each ticket (a subtraction); percentiles are PostgreSQL's percentile_cont (on SQLite, an aggregate
of the same definition registered on the connection). Months are local (Europe/Paris) months:
PostgreSQL converts natively; on SQLite the month of a row is a CASE over the months' UTC
boundaries computed here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection

from mutualis.catalog.models import Application
from mutualis.helpdesk.models import Ticket
from mutualis.lib.periods import MAX_YEAR, MIN_YEAR, year_in_range
from mutualis.members.models import Organisation

KEYS = ("month", "collectivity", "application", "type", "priority")
COLUMNS = {
    "collectivity": "collectivity_id",
    "application": "application_id",
    "type": "ticket_type",
    "priority": "priority",
}
MEASURES = (
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
)
TZ = ZoneInfo("Europe/Paris")
# "Solved within 2 business days": 2 × the default calendar's opening hours per day (8 h).
BLOCKING_LIMIT_S = 2 * 8 * 3600


@dataclass(frozen=True)
class Month:
    year: int
    month: int

    @classmethod
    def parse(cls, value: str) -> Month:
        """A month typed by a user, 'AAAA-MM' within lib.periods' years, else ValueError: every
        page, form and command parses its months here so none steps outside datetime's range."""
        try:
            year, month = (int(part) for part in value.split("-"))
        except ValueError:
            raise ValueError(f"mois invalide : {value!r} (attendu AAAA-MM)") from None
        if not 1 <= month <= 12:
            raise ValueError(f"mois invalide : {value!r} (attendu AAAA-MM)")
        if not year_in_range(year):
            raise ValueError(f"mois hors limites : {value!r} (années {MIN_YEAR} à {MAX_YEAR})")
        return cls(year, month)

    def next(self) -> Month:
        return Month(self.year + (self.month == 12), self.month % 12 + 1)

    def start(self) -> dt.datetime:
        return dt.datetime(self.year, self.month, 1, tzinfo=TZ)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


def months_between(first: Month, last: Month) -> list[Month]:
    if (last.year, last.month) < (first.year, first.month):
        raise ValueError("--to précède --from")
    months, current = [], first
    while (current.year, current.month) <= (last.year, last.month):
        months.append(current)
        current = current.next()
    return months


def _db(instant: dt.datetime) -> Any:
    """An instant as the database stores it: SQLite keeps naive UTC text, and a raw query's
    aware datetime would be compared as text with its offset, misplacing night-time tickets."""
    return connection.ops.adapt_datetimefield_value(instant)


def _month_case(column: str, months: Sequence[Month], params: list[Any]) -> str:
    """The local month of `column` as its position in `months` (1 for the first), from the
    months' boundaries computed here in Paris time: the rows are already filtered to the period,
    so every row falls in one of them. PostgreSQL: width_bucket, a binary search in the array of
    boundaries; SQLite: a CASE over them. Comparing instants instead of converting each row's
    time zone and formatting it: the decade's `opened` count at 1,000,000 tickets took
    1.2–1.8 s with to_char(opened_at AT TIME ZONE 'Europe/Paris', 'YYYY-MM') and 0.55–0.8 s
    with width_bucket (PostgreSQL 15, bench.kpis' data, 2 loaded cores), and an integer key
    sorts faster than text in the solved query."""
    if connection.vendor == "postgresql":
        params.append([month.start() for month in months] + [months[-1].next().start()])
        return f"width_bucket({column}, %s::timestamptz[])"

    # A binary search written as nested CASEs: about 7 comparisons a row for ten years of months
    # instead of up to 120 for a flat CASE. The last month needs no test (the rows are already
    # filtered to the period). bench.kpis on SQLite, 100,000 tickets, load 15 on 2 cores: the
    # decade by month × member 7.6 s → 2.6 s, the year 0.46 s → 0.37 s.
    def bisect(first: int, last: int) -> str:
        if first == last:
            return str(first)
        middle = (first + last) // 2
        params.append(_db(months[middle - 1].next().start()))  # the end of the left half
        left = bisect(first, middle)
        right = bisect(middle + 1, last)
        return f"CASE WHEN {column} < %s THEN {left} ELSE {right} END"

    return bisect(1, len(months))


def _key_sql(by: Sequence[str], column: str, months: Sequence[Month], params: list[Any]) -> list[tuple[str, str]]:
    keys = []
    for key in by:
        if key == "month":
            expression = _month_case(column, months, params)
        elif connection.vendor == "sqlite":
            # A no-op "+" so SQLite does not scan a whole index to group by it instead of
            # using the date range (it has no statistics to weigh the two).
            expression = f"+{COLUMNS[key]}"
        else:
            expression = COLUMNS[key]
        keys.append((key, expression))
    return keys


def _grouped(select: str, keys: list[tuple[str, str]], where: str, params: list[Any]) -> list[dict[str, Any]]:
    key_list = ", ".join(f"{expr} AS k_{name}" for name, expr in keys)
    group = ", ".join(f"k_{name}" for name, _ in keys)
    sql = f"SELECT {key_list + ', ' if keys else ''}{select} FROM helpdesk_ticket WHERE {where}"
    if keys:
        sql += f" GROUP BY {group}"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        names = [c[0].lower() for c in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def compute(
    *,
    first: Month,
    last: Month,
    by: Sequence[str] = ("month",),
    collectivity_id: int | None = None,
) -> list[dict[str, Any]]:
    """One row per combination of the `by` keys present in the data, with every measure."""
    unknown = set(by) - set(KEYS)
    if unknown:
        raise ValueError(f"regroupement inconnu : {', '.join(sorted(unknown))} (possibles : {', '.join(KEYS)})")
    months = months_between(first, last)
    start, end = months[0].start(), months[-1].next().start()
    scope = " AND collectivity_id = %s" if collectivity_id else ""
    scope_params = [collectivity_id] if collectivity_id else []
    rows: dict[tuple[Any, ...], dict[str, Any]] = {}

    month_names = {position: str(month) for position, month in enumerate(months, start=1)}
    key_names = [f"k_{name}" for name in by]
    # Python's share of the decade by month × member (14,400 rows, each met four times) was about
    # 0.4 s of CPU: keys and empty rows are built once here, not per call.
    empty = {
        m: (0 if m in {"opened", "solved", "closed", "backlog_end", "satisfaction_answers"} else None) for m in MEASURES
    }

    def row_for(values: dict[str, Any]) -> dict[str, Any]:
        if "k_month" in values:
            values["k_month"] = month_names.get(values["k_month"], values["k_month"])
        key = tuple([values.get(name) for name in key_names])
        row = rows.get(key)
        if row is None:
            row = rows[key] = dict(zip(by, key, strict=True))
            row.update(empty)
        return row

    # opened and closed in the period
    for event, column in (("opened", "opened_at"), ("closed", "closed_at")):
        params: list[Any] = []
        keys = _key_sql(by, column, months, params)
        params += [_db(start), _db(end), *scope_params]
        for values in _grouped("COUNT(*) AS n", keys, f"{column} >= %s AND {column} < %s{scope}", params):
            row_for(values)[event] = values["n"]

    # durations and rates on the tickets solved in the period
    params = []
    keys = _key_sql(by, "solved_at", months, params)
    key_cols = ", ".join(f"{expr} AS k_{name}" for name, expr in keys)
    inner = f"""
        SELECT {key_cols + "," if keys else ""}
               taken_offset - opened_offset AS tto,
               solved_offset - opened_offset - waiting_seconds AS ttr,
               tto_budget_s, ttr_budget_s, blocking, ticket_type, reopen_count, satisfaction
        FROM helpdesk_ticket
        WHERE solved_at >= %s AND solved_at < %s AND opened_offset IS NOT NULL{scope}"""
    params += [_db(start), _db(end), *scope_params]
    postgres = connection.vendor == "postgresql"
    percentiles = []
    for clock in ("tto", "ttr"):
        for label, fraction in (("p50", 0.5), ("p90", 0.9)):
            # PostgreSQL's own ordered-set aggregate; on SQLite the aggregate of the same name
            # registered by mutualis.quality.sqlite_functions.
            expr = (
                f"percentile_cont({fraction}) WITHIN GROUP (ORDER BY {clock})"
                if postgres
                else f"percentile_cont({clock}, {fraction})"
            )
            percentiles.append(f"{expr} AS {clock}_{label}")
    group = ", ".join(f"k_{n}" for n, _ in keys)
    sql = f"""
        SELECT {", ".join(f"k_{n}" for n, _ in keys) + "," if keys else ""}
               COUNT(*) AS solved,
               AVG(tto) AS tto_mean, AVG(ttr) AS ttr_mean,
               {", ".join(percentiles)},
               SUM(CASE WHEN tto_budget_s IS NOT NULL AND tto IS NOT NULL THEN 1 ELSE 0 END) AS tto_sla_n,
               SUM(CASE WHEN tto_budget_s IS NOT NULL AND tto <= tto_budget_s THEN 1 ELSE 0 END) AS tto_sla_ok,
               SUM(CASE WHEN ttr_budget_s IS NOT NULL AND ttr IS NOT NULL THEN 1 ELSE 0 END) AS ttr_sla_n,
               SUM(CASE WHEN ttr_budget_s IS NOT NULL AND ttr <= ttr_budget_s THEN 1 ELSE 0 END) AS ttr_sla_ok,
               SUM(CASE WHEN blocking AND ticket_type = 'incident' THEN 1 ELSE 0 END) AS blocking_n,
               SUM(CASE WHEN blocking AND ticket_type = 'incident' AND ttr <= {BLOCKING_LIMIT_S} THEN 1 ELSE 0 END)
                   AS blocking_ok,
               SUM(CASE WHEN reopen_count > 0 THEN 1 ELSE 0 END) AS reopened,
               AVG(satisfaction) AS satisfaction_mean, COUNT(satisfaction) AS satisfaction_answers
        FROM ({inner}) r
        {("GROUP BY " + group) if keys else ""}"""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        names = [c[0].lower() for c in cursor.description]
        solved_rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    for values in solved_rows:
        if not values["solved"]:
            continue
        row = row_for(values)
        row["solved"] = values["solved"]
        for clock in ("tto", "ttr"):
            mean = values[f"{clock}_mean"]
            row[f"{clock}_mean_s"] = round(float(mean), 1) if mean is not None else None
            for label, name in (("p50", "median"), ("p90", "p90")):
                value = values[f"{clock}_{label}"]
                row[f"{clock}_{name}_s"] = round(float(value), 1) if value is not None else None
        row["sla_tto_pct"] = _pct(values["tto_sla_ok"], values["tto_sla_n"])
        row["sla_ttr_pct"] = _pct(values["ttr_sla_ok"], values["ttr_sla_n"])
        row["blocking_2d_pct"] = _pct(values["blocking_ok"], values["blocking_n"])
        row["reopen_pct"] = _pct(values["reopened"], values["solved"])
        mean = values["satisfaction_mean"]
        row["satisfaction_mean"] = round(float(mean), 2) if mean is not None else None
        row["satisfaction_answers"] = values["satisfaction_answers"]

    _backlog(rows, row_for, by, months, start, scope, scope_params)
    return _finish(rows, by)


def _backlog(rows, row_for, by, months, start, scope, scope_params) -> None:  # type: ignore[no-untyped-def]
    """backlog_end = tickets opened before the period's end and not solved by it: the backlog at the
    period's start plus, month after month, the opened minus the solved."""
    other = [k for k in by if k != "month"]
    # Two index-friendly halves instead of one OR that scans every ticket opened before the
    # period: tickets still unsolved (few) and tickets solved since the period's start (recent).
    initial: dict[tuple[Any, ...], int] = {}
    # "+opened_at" keeps SQLite's planner on the solved_at index (it has no statistics to choose).
    opened_column = "opened_at" if connection.vendor == "postgresql" else "+opened_at"
    for condition in ("solved_at IS NULL", "solved_at >= %s"):
        params: list[Any] = []
        keys = _key_sql(other, "opened_at", months, params)
        params += ([] if "%s" not in condition else [_db(start)]) + [_db(start), *scope_params]
        for v in _grouped("COUNT(*) AS n", keys, f"{condition} AND {opened_column} < %s{scope}", params):
            key = tuple(v.get(f"k_{k}") for k in other)
            initial[key] = initial.get(key, 0) + v["n"]
    if "month" not in by:
        # One period: initial backlog + opened − solved in it.
        for key_values in initial:
            row_for({f"k_{k}": v for k, v in zip(other, key_values, strict=True)})
        for row in rows.values():
            key = tuple(row[k] for k in other)
            row["backlog_end"] = initial.get(key, 0) + row["opened"] - row["solved"]
        return
    groups = set(initial) | {tuple(r[k] for k in other) for r in rows.values()}
    at = by.index("month")  # the month's place in a row's key (`by` order; `other` keeps it)
    labels = [str(month) for month in months]
    for group in groups:
        running = initial.get(group, 0)
        for label in labels:
            row = rows.get((*group[:at], label, *group[at:]))
            if row is None:
                if running == 0:
                    continue
                values = {f"k_{k}": v for k, v in zip(other, group, strict=True)} | {"k_month": label}
                row = row_for(values)
            else:
                running += row["opened"] - row["solved"]
            row["backlog_end"] = running


def _pct(part: Any, whole: Any) -> float | None:
    return round(100.0 * float(part) / float(whole), 1) if whole else None


def _finish(rows: dict[tuple[Any, ...], dict[str, Any]], by: Sequence[str]) -> list[dict[str, Any]]:
    if "collectivity" in by:
        ids = {r["collectivity"] for r in rows.values() if r["collectivity"] is not None}
        slugs = dict(Organisation.objects.filter(pk__in=ids).values_list("pk", "slug"))
        for row in rows.values():
            row["collectivity"] = slugs.get(row["collectivity"])
    if "application" in by:
        ids = {r["application"] for r in rows.values() if r["application"] is not None}
        slugs = dict(Application.objects.filter(pk__in=ids).values_list("pk", "slug"))
        for row in rows.values():
            row["application"] = slugs.get(row["application"])
    ordered = sorted(rows.values(), key=lambda r: tuple("" if r[k] is None else str(r[k]) for k in by))
    return [{**{k: row[k] for k in by}, **{m: row[m] for m in MEASURES}} for row in ordered]


__all__ = ["KEYS", "MEASURES", "Month", "compute", "months_between", "Ticket"]
