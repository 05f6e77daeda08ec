"""GLPI import over 100,000 tickets, side by side with a plain read of the same rows.

    .venv/bin/python -m bench.glpi                        # Mutualis in a throwaway SQLite file
    .venv/bin/python -m bench.glpi --database-url postgres://postgres@127.0.0.1:5432/postgres
    .venv/bin/python -m bench.glpi --tickets 20000        # a quicker run

Writes the sample GLPI history (mutualis/glpi/sample/history.py: ~3 followups and tasks per
ticket, documents, every trap) into the MariaDB database `bench_glpi`, loads the demo's reference
data into a fresh Mutualis database (`mutualis migrate` and `mutualis load_demo` in a subprocess),
then times what issue 15 sets targets for: the full import (≤ 180 s), the nightly run when nothing
changed in GLPI (≤ 10 s), and a nightly run after ~10 GLPI rows changed. The reference, in the same
run: reading the same tickets, followups and tasks from GLPI with PyMySQL and nothing else. A
benchmark, not a test: it always exits 0 and says MISSED next to a missed target.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bench.matrix import Line, print_table, setup_django, throwaway_database, verdict
from mutualis.glpi.sample import history

FULL_TARGET = 180.0
NIGHTLY_TARGET = 10.0
GLPI_SERVER = "mysql://glpi_test:glpi_test@127.0.0.1:3306/"


def seconds(value: float) -> str:
    return f"{value:.1f} s"


def plain_read(url: str) -> tuple[float, int]:
    """Every ticket, followup and task of GLPI read through PyMySQL, streamed, nothing done with
    them: the floor under any import of the same rows."""
    import pymysql.cursors

    connection = history.connect(url)
    rows = 0
    start = time.perf_counter()
    try:
        for table in ("glpi_tickets", "glpi_itilfollowups", "glpi_tickettasks"):
            with connection.cursor(pymysql.cursors.SSCursor) as cursor:
                cursor.execute(f"SELECT * FROM {table}")  # noqa: S608 - the table names above
                while batch := cursor.fetchmany(10_000):
                    rows += len(batch)
    finally:
        connection.close()
    return time.perf_counter() - start, rows


def change_glpi(url: str, facts: history.SampleFacts) -> int:
    """What a day of GLPI brings: 8 tickets edited and one answered (a followup added, its ticket's
    date_mod moved, as GLPI does). Returns the number of tickets changed."""
    now = dt.datetime.now(ZoneInfo("Europe/Paris")).replace(tzinfo=None, microsecond=0)
    connection = history.connect(url)
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT id FROM glpi_tickets WHERE is_deleted = 0 AND entities_id IN (0, 1, 2, 3)"
                " AND id %% %s = 0 ORDER BY id LIMIT 9",
                (max(1, facts.tickets_written // 10),),
            )
            ids = [row[0] for row in cursor.fetchall()]
            edited, answered = ids[:-1], ids[-1]
            for ticket in edited:
                cursor.execute(
                    "UPDATE glpi_tickets SET urgency = 5, priority = 5, date_mod = %s, users_id_lastupdater = 3"
                    " WHERE id = %s",
                    (now, ticket),
                )
            cursor.execute(
                "INSERT INTO glpi_itilfollowups (itemtype, items_id, date, users_id, content, is_private,"
                " requesttypes_id, date_mod, date_creation, timeline_position)"
                " VALUES ('Ticket', %s, %s, 3, %s, 0, 1, %s, %s, 3)",
                (answered, now, history.encode_v10("<p>Relance : le souci est revenu ce matin.</p>"), now, now),
            )
            cursor.execute("UPDATE glpi_tickets SET date_mod = %s WHERE id = %s", (now, answered))
        connection.commit()
    finally:
        connection.close()
    return len(ids)


def mutualis_command(*args: str) -> None:
    """`mutualis …` in a subprocess, on the database the settings point at (DATABASE_URL or the
    embedded SQLite file under MUTUALIS_VAR_DIR)."""
    mutualis = Path(sys.executable).with_name("mutualis")
    subprocess.run([str(mutualis), *args], check=True, env=os.environ.copy(), stdout=subprocess.DEVNULL)  # noqa: S603


def run(args: argparse.Namespace, glpi_url: str, facts: history.SampleFacts, files: Path, say: Any) -> list[Line]:
    from mutualis.glpi.importer import Options
    from mutualis.glpi.mapping import load_mapping
    from mutualis.glpi.services import glpi_import

    start = time.perf_counter()
    mutualis_command("migrate", "-v0")
    mutualis_command("load_demo")
    say(f"Mutualis migrated and the demo loaded in {time.perf_counter() - start:.1f} s")
    mapping = load_mapping(history.MAPPING_FILE)
    options = Options(batch_size=args.batch_size, documents_dir=files)

    def timed_import() -> tuple[float, Any]:
        start = time.perf_counter()
        outcome = glpi_import(url=glpi_url, mapping=mapping, options=options)
        return time.perf_counter() - start, outcome.report.counts

    read, rows = plain_read(glpi_url)
    say(f"plain read of {rows} GLPI rows (tickets, followups, tasks): {read:.1f} s")
    full, counts = timed_import()
    say(f"full import: {full:.1f} s — {dict(counts)}")
    created_ok = counts["tickets created"] == facts.tickets_expected
    say(
        f"tickets created {counts['tickets created']}, expected {facts.tickets_expected}: "
        + ("same" if created_ok else "DIFFERENT")
    )
    read_again, _ = plain_read(glpi_url)  # the reference again, on a warm server, next to the import
    nightly, counts = timed_import()
    quiet = counts["tickets created"] == counts["tickets updated"] == 0
    say(f"nightly run, nothing changed: {nightly:.1f} s — {dict(counts)}")
    changed = change_glpi(glpi_url, facts)
    after, counts = timed_import()
    say(f"nightly run after {changed} tickets changed in GLPI: {after:.1f} s — {dict(counts)}")
    caught = counts["tickets updated"] == changed and counts["tickets created"] == 0
    reference = min(read, read_again)
    return [
        Line(
            f"full import, {facts.tickets_expected} tickets",
            seconds(full),
            seconds(reference),
            f"{full / reference:.0f}x",
            f"≤ {FULL_TARGET:.0f} s",
            verdict(full <= FULL_TARGET and created_ok),
        ),
        Line(
            "nightly run, nothing changed",
            seconds(nightly),
            "",
            "",
            f"≤ {NIGHTLY_TARGET:.0f} s",
            verdict(nightly <= NIGHTLY_TARGET and quiet),
        ),
        Line(
            f"nightly run, {changed} tickets changed",
            seconds(after),
            "",
            "",
            f"≤ {NIGHTLY_TARGET:.0f} s",
            verdict(after <= NIGHTLY_TARGET and caught),
        ),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.glpi", description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--database-url", help="a PostgreSQL server; the bench creates and drops its own database")
    parser.add_argument("--database-name", default="bench_glpi", help="default: %(default)s")
    parser.add_argument(
        "--glpi-url",
        default=os.environ.get("GLPI_TEST_URL", GLPI_SERVER),
        help="the MariaDB/MySQL server (default: GLPI_TEST_URL or %(default)s)",
    )
    parser.add_argument("--glpi-database", default="bench_glpi", help="default: %(default)s (dropped at the end)")
    parser.add_argument("--batch-size", type=int, default=1000, help="tickets per page of the import")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)
    for name in (args.database_name, args.glpi_database):
        if name in {"test", "postgres", "mysql", "template0", "template1"} or not name.isidentifier():
            parser.error(f"refusing to create and drop the database {name!r}")

    def say(message: str) -> None:
        print(f"· {message}", flush=True)

    files = Path(tempfile.mkdtemp(prefix="mutualis-bench-glpi-"))
    say(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    try:
        start = time.perf_counter()
        glpi_url = history.create_database(args.glpi_url, args.glpi_database, replace=True)
        history.load_schema(glpi_url)
        facts = history.generate(glpi_url, tickets=args.tickets, seed=args.seed, documents_dir=files)
        say(
            f"GLPI {history.redacted(glpi_url)}: {facts.tickets_written} tickets, {facts.followups_written} followups,"
            f" {facts.tasks_written} tasks, {len(facts.document_files)} documents written in"
            f" {time.perf_counter() - start:.1f} s"
        )
        with throwaway_database(args.database_url, args.database_name) as where:
            setup_django()
            import django

            say(f"GLPI import — Mutualis on {where}, Django {django.get_version()}, Python {sys.version.split()[0]}")
            lines = run(args, glpi_url, facts, files, say)
        say(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores at the end")
    finally:
        history.drop_database(args.glpi_url, args.glpi_database)
        shutil.rmtree(files, ignore_errors=True)
    print()
    header_note = (
        "peer: a plain PyMySQL read of the same tickets, followups and tasks; the speed-up column is import / read"
    )
    print(header_note)
    print_table(lines)
    missed = [line.figure for line in lines if line.result == "MISSED"]
    print()
    print(f"MISSED: {', '.join(missed)}" if missed else "Every target met.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
