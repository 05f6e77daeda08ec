"""SQLite's planner statistics are written when a table is large and has none, and again when it
has more than doubled; small tables are left alone."""

from __future__ import annotations

import pytest
from django.db import connection

from mutualis.core import sqlite_statistics

pytestmark = pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite only (PostgreSQL analyses itself)")


@pytest.fixture
def raw(db):
    connection.ensure_connection()
    raw = connection.connection
    raw.execute("CREATE TABLE stats_probe (id INTEGER PRIMARY KEY, kind TEXT)")
    raw.execute("CREATE INDEX stats_probe_kind ON stats_probe (kind)")
    yield raw
    raw.execute("DROP TABLE IF EXISTS stats_probe")


def fill(raw, n):
    raw.executemany(
        "INSERT INTO stats_probe (kind) VALUES (?)", [("open" if i % 50 == 0 else "closed",) for i in range(n)]
    )


def test_a_small_table_is_left_to_sqlites_defaults(raw):
    fill(raw, 10)
    assert "stats_probe" not in sqlite_statistics.stale_tables(raw)


def test_a_large_table_without_statistics_is_analysed_once(raw):
    fill(raw, 3000)
    assert "stats_probe" in sqlite_statistics.refresh(raw)
    (stat,) = raw.execute("SELECT stat FROM sqlite_stat1 WHERE idx = 'stats_probe_kind'").fetchone()
    assert 2500 <= int(stat.split()[0]) <= 3500  # an estimate: ANALYZE samples (analysis_limit)
    assert "stats_probe" not in sqlite_statistics.stale_tables(raw)


def test_a_table_that_has_more_than_doubled_is_analysed_again(raw):
    fill(raw, 3000)
    sqlite_statistics.refresh(raw)
    fill(raw, 2000)
    assert "stats_probe" not in sqlite_statistics.stale_tables(raw)  # 5,000 ≤ 2 × 3,000
    fill(raw, 2000)
    assert "stats_probe" in sqlite_statistics.stale_tables(raw)


def test_each_process_checks_on_its_first_connection_then_at_most_every_ten_minutes(raw, monkeypatch):
    calls = []
    monkeypatch.setattr(sqlite_statistics, "refresh", lambda raw: calls.append(raw) or [])
    monkeypatch.setattr(sqlite_statistics, "_checked_at", None)
    sqlite_statistics.on_connection_created(None, connection)
    sqlite_statistics.on_connection_created(None, connection)
    assert len(calls) == 1
    monkeypatch.setattr(sqlite_statistics, "_checked_at", sqlite_statistics._checked_at - 601)
    sqlite_statistics.on_connection_created(None, connection)
    assert len(calls) == 2
