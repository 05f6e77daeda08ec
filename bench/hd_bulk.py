"""Bulk loading for the helpdesk benchmark: COPY on PostgreSQL, executemany in big transactions on
SQLite, straight through the DB-API connection so a million rows take a minute, not an hour.

Used for Mutualis's tables (through Django's connection) and for the peer's (a plain psycopg or
sqlite3 connection to the peer's database: the peer runs another Python and another Django)."""

from __future__ import annotations

import contextlib
import datetime as dt
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

BATCH = 50_000


def is_sqlite(conn: Any) -> bool:
    return isinstance(conn, sqlite3.Connection)


def _sqlite_value(value: Any) -> Any:
    # Django stores aware datetimes on SQLite as naive UTC text "YYYY-MM-DD HH:MM:SS[.ffffff]".
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return value


def speed_up_sqlite(conn: sqlite3.Connection) -> None:
    """Loading only (outside any transaction): no sync, the rollback journal in memory rather than
    a WAL the size of the table, no per-row foreign key lookups (the generator's ids are right by
    construction); the servers' connections put WAL and foreign keys back on as they open."""
    conn.execute("PRAGMA foreign_keys=OFF")
    conn.execute("PRAGMA journal_mode=MEMORY")
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("PRAGMA cache_size=-262144")  # 256 MiB
    conn.execute("PRAGMA temp_store=MEMORY")


def insert(conn: Any, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """Insert `rows` (tuples in `columns` order) into `table`; returns the number of rows. The
    caller commits (a SQLite connection in autocommit gets one transaction per batch)."""
    count = 0
    names = ", ".join(f'"{c}"' for c in columns)
    if is_sqlite(conn):
        sql = f'INSERT INTO "{table}" ({names}) VALUES ({", ".join("?" * len(columns))})'
        batch: list[tuple[Any, ...]] = []
        for row in rows:
            batch.append(tuple(_sqlite_value(v) for v in row))
            if len(batch) >= BATCH:
                conn.executemany(sql, batch)
                count += len(batch)
                batch.clear()
        if batch:
            conn.executemany(sql, batch)
            count += len(batch)
        return count
    with conn.cursor() as cursor, cursor.copy(f'COPY "{table}" ({names}) FROM STDIN') as copy:
        for row in rows:
            copy.write_row(row)
            count += 1
    return count


@contextlib.contextmanager
def indexes_deferred(conn: Any, table: str) -> Iterator[int]:
    """Drop `table`'s secondary indexes for the load and build them again afterwards: one sorted
    build per index instead of a million random insertions each (the indexes backing primary
    keys and unique constraints stay). Yields how many were deferred."""
    if is_sqlite(conn):
        found = conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL", (table,)
        ).fetchall()
        for name, _sql in found:
            conn.execute(f'DROP INDEX "{name}"')
    else:
        with conn.cursor() as cursor:
            cursor.execute(
                "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.tablename = %s AND NOT EXISTS "
                "(SELECT 1 FROM pg_constraint c WHERE c.conindid = (quote_ident(i.schemaname) || '.' || "
                "quote_ident(i.indexname))::regclass)",
                (table,),
            )
            found = cursor.fetchall()
            for name, _sql in found:
                cursor.execute(f'DROP INDEX "{name}"')
    yield len(found)
    if found and not is_sqlite(conn):
        # Django's foreign keys are DEFERRABLE INITIALLY DEFERRED: check them now, or PostgreSQL
        # refuses to build an index on a table with pending trigger events.
        conn.execute("SET CONSTRAINTS ALL IMMEDIATE")
    for _name, sql in found:
        conn.execute(sql)


def reset_sequence(conn: Any, table: str) -> None:
    """After explicit ids: the next generated id follows the largest (SQLite's AUTOINCREMENT
    table follows by itself)."""
    if is_sqlite(conn):
        return
    with conn.cursor() as cursor:
        cursor.execute(
            f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), COALESCE((SELECT MAX(id) FROM \"{table}\"), 1))"  # noqa: E501
        )


def analyze(conn: Any) -> None:
    """After a load, the database as it is in service. PostgreSQL: planner statistics and
    visibility map, as autovacuum leaves them after such a load. SQLite: no ANALYZE (Django never
    runs it there, and its statistics would turn the lookups on mostly-NULL foreign keys —
    merged_into, linked_to — into scans of the whole table), but the journal back to WAL and the
    loading pragmas undone: a file left in speed_up_sqlite's rollback journal made the next
    process's first query pay about 220 ms to turn it back (bench.kpis' cold month read 270 ms
    instead of 50 ms), which no database in service ever pays."""
    if is_sqlite(conn):
        conn.commit()
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA cache_size=-2000")
        return
    conn.commit()
    autocommit, conn.autocommit = conn.autocommit, True
    try:
        with conn.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")  # the visibility map too, for index-only counts
    finally:
        conn.autocommit = autocommit
