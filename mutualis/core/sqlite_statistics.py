"""SQLite's query planner statistics, kept current.

Without `sqlite_stat1`, SQLite weighs every index alike and picks badly on large tables: at a
million tickets it counted an application's open tickets through its 25,000 rows instead of the
279 a partial index holds, and sorted every open ticket to show the first fifty. SQLite's advice
is to run ANALYZE (`PRAGMA optimize`) now and then; Django never does. So each process, on its
first connection and then at most every CHECK_EVERY_S, compares the statistics with the tables'
sizes (`max(rowid)`, an index lookup per table) and, when a table of ANALYSE_FROM rows or more
has none or has more than doubled since, analyses the database with a sampling limit (about
20 ms for a million tickets). The queries go through the raw connection: they belong to no
request and are not counted as its queries."""

from __future__ import annotations

import logging
import sqlite3
import time
from typing import Any

logger = logging.getLogger(__name__)

ANALYSIS_LIMIT = 1000  # rows sampled per index (PRAGMA analysis_limit)
ANALYSE_FROM = 1000  # tables smaller than this are left to SQLite's defaults
GROWTH = 2
CHECK_EVERY_S = 600.0

_checked_at: float | None = None


def stale_tables(raw: sqlite3.Connection) -> list[str]:
    """The tables whose statistics are missing or out of date."""
    tables = [
        name
        for (name,) in raw.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            " AND sql NOT LIKE '%WITHOUT ROWID%'"
        )
    ]
    known: dict[str, int] = {}
    if raw.execute("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'").fetchone():
        for table, stat in raw.execute("SELECT tbl, stat FROM sqlite_stat1"):
            rows = int(str(stat).split()[0]) if stat else 0
            known[table] = max(known.get(table, 0), rows)
    stale = []
    for table in tables:
        quoted = '"' + table.replace('"', '""') + '"'
        (size,) = raw.execute(f"SELECT coalesce(max(rowid), 0) FROM {quoted}").fetchone()  # noqa: S608
        if size >= ANALYSE_FROM and size > GROWTH * known.get(table, 0):
            stale.append(table)
    return stale


def refresh(raw: sqlite3.Connection) -> list[str]:
    """Analyse when a table's statistics are stale; returns the tables found stale."""
    stale = stale_tables(raw)
    if stale:
        started = time.perf_counter()
        raw.execute(f"PRAGMA analysis_limit = {ANALYSIS_LIMIT}")
        raw.execute("ANALYZE")
        if raw.in_transaction:
            raw.commit()
        logger.info(
            "SQLite statistics refreshed (%s) in %.0f ms", ", ".join(stale), 1000 * (time.perf_counter() - started)
        )
    return stale


def on_connection_created(sender: Any, connection: Any, **kwargs: Any) -> None:
    global _checked_at
    if connection.vendor != "sqlite":
        return
    now = time.monotonic()
    if _checked_at is not None and now - _checked_at < CHECK_EVERY_S:
        return
    _checked_at = now
    try:
        refresh(connection.connection)
    except sqlite3.Error as error:  # a locked or read-only file: the next check retries
        logger.warning("SQLite statistics not refreshed: %s", error)
        _checked_at = None
