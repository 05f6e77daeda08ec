"""Backups and restores (`mutualis backup`, `mutualis restore`, core/backup.py): the drill on the
engine under test (back up, wipe, restore, compare every table and file), the refusals that come
before anything is touched, backups taken while another connection writes, media on a local S3
server (moto_server), retention and the last backup's time."""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import tarfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from mutualis.conftest import World
from mutualis.core import backup as b
from mutualis.core.backup_conf import parse_backup_at
from mutualis.core.models import AuditAction, AuditEntry
from mutualis.helpdesk.services import attachment_add, ticket_create
from mutualis.lib.env import ConfigError, parse_storage_url
from mutualis.testing import factories as f

ROOT = Path(__file__).resolve().parents[3]
BIN = Path(sys.executable).parent
POSTGRES = connection.vendor == "postgresql"
on_sqlite = pytest.mark.skipif(
    POSTGRES, reason="restores in place on the SQLite test database; PostgreSQL: the drill on h_backup_drill below"
)
FILES = {"compte-rendu.txt": "Comité du 3 mars : décisions.\n".encode() * 50, "octets.bin": bytes(range(256)) * 8}


@pytest.fixture
def local_media(tmp_path: Path, settings: Any) -> Path:
    media = tmp_path / "media"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": media}},
    }
    settings.BACKUP_DIR = tmp_path / "backups"
    return media


def fill(world: World) -> None:
    """Rows in many tables and files attached through the helpdesk's service."""
    f.SubscriptionFactory.create_batch(3, collectivity=world.member_a)
    f.ContactFactory.create_batch(2, organisation=world.member_b)
    for number in range(2):
        ticket = ticket_create(
            actor=world.admin,
            collectivity=world.member_a,
            requester=world.manager_a,
            ticket_type="incident",
            title=f"Panne {number}",
            description="L'imprimante ne répond plus",
        )
        for name, content in FILES.items():
            attachment_add(actor=world.admin, ticket=ticket, upload=SimpleUploadedFile(name, content))


def drop_every_table() -> None:
    with connection.cursor() as cursor:
        tables = connection.introspection.table_names(cursor)
        cursor.execute("PRAGMA foreign_keys = OFF")
        for table in tables:
            # IF EXISTS: dropping an FTS5 table (the knowledge base's index) drops its shadow tables.
            cursor.execute(f'DROP TABLE IF EXISTS "{table}"')
        cursor.execute("PRAGMA foreign_keys = ON")


def rewrite(archive: Path, out: Path, change: Any) -> None:
    """Copy `archive` to `out`, `change(name, data) -> data` applied to each member, then the
    checksums recomputed as a careful forger would (manifest and SHA256SUMS agree again)."""
    members: dict[str, bytes] = {}
    with tarfile.open(archive) as tar:
        for info in tar:
            stream = tar.extractfile(info)
            assert stream is not None
            members[info.name] = stream.read()
    members = {name: change(name, data) for name, data in members.items()}
    manifest = json.loads(members[b.MANIFEST])
    manifest["database"]["sha256"] = hashlib.sha256(members[manifest["database"]["path"]]).hexdigest()
    manifest["database"]["size"] = len(members[manifest["database"]["path"]])
    for entry in manifest["media"]["files"]:
        entry["sha256"] = hashlib.sha256(members[b.MEDIA + entry["path"]]).hexdigest()
        entry["size"] = len(members[b.MEDIA + entry["path"]])
    members[b.MANIFEST] = json.dumps(change(b.MANIFEST + "#json", manifest)).encode()
    members[b.SUMS] = "".join(
        f"{hashlib.sha256(data).hexdigest()}  {name}\n" for name, data in members.items() if name != b.SUMS
    ).encode()
    with tarfile.open(out, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def same(data: Any) -> Any:
    return data


# -- the drill, in place on SQLite ---------------------------------------------------------------
@on_sqlite
def test_it_restores_every_table_and_file_after_a_wipe(transactional_db: None, world: World, local_media: Path) -> None:
    fill(world)
    before = b.inventory()
    assert len(before["media"]) == 4 and before["tables"]["helpdesk_attachment"] == 4

    result = b.backup_create()
    assert result.path.parent == local_media.parent / "backups"
    assert result.manifest["tables"] == before["tables"]
    assert {e["path"]: e["sha256"] for e in result.manifest["media"]["files"]} == before["media"]

    drop_every_table()
    shutil.rmtree(local_media)
    assert b.inventory() == {"tables": {}, "media": {}}

    report = b.backup_restore(path=result.path)
    assert report.ok, report.mismatches
    assert (report.files_written, report.files_deleted, report.tables_checked) == (4, 0, len(before["tables"]))

    after = b.inventory()
    assert after["media"] == before["media"]
    # one more audit entry, the restore's own, written after the restore
    assert after["tables"] == {**before["tables"], "core_auditentry": before["tables"]["core_auditentry"] + 1}
    last = AuditEntry.objects.order_by("-id").first()
    assert last is not None
    assert (last.action, last.actor_id, last.actor_label, last.via) == (AuditAction.RESTORE, None, "système", "cli")
    assert last.object_repr == result.path.name


@on_sqlite
def test_it_puts_back_files_changed_or_added_since_the_backup(
    transactional_db: None, world: World, local_media: Path
) -> None:
    fill(world)
    result = b.backup_create()
    before = b.media_digests()
    victim = sorted(before)[0]
    default_storage.delete(victim)
    default_storage.save(victim, ContentFile(b"autre contenu"))
    default_storage.save("helpdesk/intrus.txt", ContentFile(b"ajout"))

    report = b.backup_restore(path=result.path, force=True)

    assert report.ok, report.mismatches
    assert (report.files_written, report.files_unchanged, report.files_deleted) == (1, 3, 1)
    assert b.media_digests() == before


# -- refusals before anything is touched ---------------------------------------------------------
def test_it_refuses_a_tampered_file_and_touches_nothing(
    transactional_db: None, world: World, local_media: Path, tmp_path: Path
) -> None:
    fill(world)
    archive = b.backup_create().path
    tampered = tmp_path / "tampered.tar.gz"
    changed = []
    with tarfile.open(archive) as tar, tarfile.open(tampered, "w:gz") as out:
        for info in tar:
            stream = tar.extractfile(info)
            assert stream is not None
            data = stream.read()
            if info.name.endswith("octets.bin") and not changed:
                data = data[:-1] + b"\x00"  # one byte changed, same size
                changed.append(info.name)
            out.addfile(info, io.BytesIO(data))
    (local_media / "helpdesk" / "extra.txt").write_bytes(b"must survive")
    rows = AuditEntry.objects.count()

    with pytest.raises(b.BackupError) as refused:
        b.backup_restore(path=tampered, force=True)

    assert f"{changed[0]} : empreinte SHA-256 différente" in str(refused.value)
    assert "rien n'a été modifié" in str(refused.value)
    assert AuditEntry.objects.count() == rows
    assert (local_media / "helpdesk" / "extra.txt").read_bytes() == b"must survive"


def test_it_refuses_a_truncated_or_foreign_archive(transactional_db: None, local_media: Path, tmp_path: Path) -> None:
    archive = b.backup_create().path
    truncated = tmp_path / "truncated.tar.gz"
    truncated.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    with pytest.raises(b.BackupError, match="illisible|incomplète"):
        b.backup_verify(truncated)
    extra = tmp_path / "extra.tar"
    with tarfile.open(archive) as tar, tarfile.open(extra, "w") as out:
        for info in tar:
            out.addfile(info, tar.extractfile(info))
        info = tarfile.TarInfo("media/../../etc/cron.d/evil")
        info.size = 2
        out.addfile(info, io.BytesIO(b"x\n"))
    with pytest.raises(b.BackupError, match="absent du manifeste"):
        b.backup_verify(extra)


def test_it_refuses_migrations_newer_than_the_code(transactional_db: None, local_media: Path, tmp_path: Path) -> None:
    archive = b.backup_create().path
    future = tmp_path / "future.tar.gz"

    def newer(name: str, data: Any) -> Any:
        if name == b.MANIFEST + "#json":
            data["migrations"]["core"].append("9999_from_the_future")
        return data

    rewrite(archive, future, newer)
    assert b.backup_verify(future)  # the checksums agree: the refusal is about the migrations
    with pytest.raises(b.BackupError, match=r"plus récente.*core\.9999_from_the_future"):
        b.backup_restore(path=future, force=True)


def test_it_refuses_an_archive_of_the_other_engine(transactional_db: None, local_media: Path, tmp_path: Path) -> None:
    archive = b.backup_create().path
    other = tmp_path / "other.tar.gz"

    def swap(name: str, data: Any) -> Any:
        if name == b.MANIFEST + "#json":
            data["engine"] = "sqlite" if POSTGRES else "postgresql"
        return data

    rewrite(archive, other, swap)
    with pytest.raises(b.BackupError, match="ne change pas de moteur"):
        b.backup_restore(path=other, force=True)


def test_it_asks_before_wiping_a_database_that_holds_data(
    transactional_db: None, world: World, local_media: Path
) -> None:
    archive = b.backup_create().path
    questions: list[str] = []

    def refuse(question: str) -> bool:
        questions.append(question)
        return False

    with pytest.raises(b.BackupError, match="--force"):
        b.backup_restore(path=archive, confirm=refuse)
    with pytest.raises(b.BackupError, match="contient des données"):
        b.backup_restore(path=archive)
    assert len(questions) == 1 and "seront remplacées" in questions[0]
    assert not AuditEntry.objects.filter(action=AuditAction.RESTORE).exists()


@on_sqlite
def test_it_restores_once_the_operator_answers_yes(transactional_db: None, world: World, local_media: Path) -> None:
    archive = b.backup_create().path
    f.ContactFactory.create(organisation=world.member_a)  # written after the backup: goes away
    report = b.backup_restore(path=archive, confirm=lambda question: True)
    assert report.ok
    assert AuditEntry.objects.filter(action=AuditAction.RESTORE).count() == 1


@on_sqlite
def test_it_refuses_to_copy_sqlite_inside_a_transaction(db: None, local_media: Path) -> None:
    with pytest.raises(b.BackupError, match="transaction"):  # instead of waiting for ever on its own lock
        b.backup_create()


# -- backing up while the site writes ------------------------------------------------------------
@on_sqlite
def test_it_backs_up_sqlite_while_another_connection_writes(transactional_db: None, tmp_path: Path) -> None:
    """A file database (the embedded mode) copied by `mutualis backup` in another process while a
    writer commits row after row: the writer is never refused and the archive's counts are those
    of the copy it holds."""
    live = tmp_path / "live.sqlite3"
    target = sqlite3.connect(live)
    connection.ensure_connection()
    connection.connection.backup(target)  # the migrated test database, as a file
    target.execute("PRAGMA journal_mode=WAL")
    target.execute("CREATE TABLE busy (id INTEGER PRIMARY KEY, payload TEXT)")
    target.executemany("INSERT INTO busy (payload) VALUES (?)", [("x" * 2000,) for _ in range(5000)])
    target.commit()
    target.close()
    stop, written, failures = threading.Event(), [0], []

    def writer() -> None:
        conn = sqlite3.connect(live, timeout=5)
        while not stop.is_set():
            try:
                conn.execute("INSERT INTO busy (payload) VALUES ('w')")
                conn.commit()
                written[0] += 1
            except sqlite3.Error as error:
                failures.append(str(error))
            time.sleep(0.001)
        conn.close()

    thread = threading.Thread(target=writer)
    thread.start()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": f"sqlite:///{live}",
        "SECRET_KEY": "backup-test-secret-key-0123456789-abcdefghij",
        "MUTUALIS_VAR_DIR": str(tmp_path / "var"),
        "MEDIA_ROOT": str(tmp_path / "media"),
    }
    env.pop("STORAGE_URL", None)
    try:
        done = subprocess.run(
            [str(BIN / "mutualis"), "backup", "--output", str(tmp_path / "live.tar.gz")],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        during = written[0]
        time.sleep(0.2)
    finally:
        stop.set()
        thread.join()
    assert done.returncode == 0, done.stderr
    assert failures == [] and during > 0 and written[0] > during

    manifest = b.backup_verify(tmp_path / "live.tar.gz").manifest
    with tarfile.open(tmp_path / "live.tar.gz") as tar:
        tar.extract("database.sqlite3", tmp_path / "out", filter="data")
    copy = sqlite3.connect(tmp_path / "out" / "database.sqlite3")
    assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert copy.execute("SELECT COUNT(*) FROM busy").fetchone()[0] == manifest["tables"]["busy"] >= 5000
    copy.close()


@pytest.mark.skipif(not POSTGRES, reason="PostgreSQL only (pg_dump's snapshot); SQLite: the test above")
def test_it_dumps_postgresql_in_the_snapshot_it_counts(transactional_db: None, local_media: Path) -> None:
    """A writer inserts lock rows on its own connection during the backup: the dump holds
    exactly the rows the manifest counted."""
    import psycopg

    params = connection.get_connection_params()
    stop, written, failures = threading.Event(), [0], []

    def writer() -> None:
        with psycopg.connect(**{k: v for k, v in params.items() if k != "cursor_factory"}, autocommit=True) as conn:
            while not stop.is_set():
                try:
                    conn.execute(
                        "INSERT INTO core_commandlock (name, holder, acquired_at, expires_at) "
                        "VALUES (%s, 'test', now(), now())",
                        [f"w-{written[0]}"],
                    )
                    written[0] += 1
                except psycopg.Error as error:
                    failures.append(str(error))
                time.sleep(0.002)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        time.sleep(0.3)
        result = b.backup_create()
        during = written[0]
        time.sleep(0.2)
    finally:
        stop.set()
        thread.join()
    assert failures == [] and during > 0 and written[0] > during
    pg_restore, _version = b.pg_tool("pg_restore")
    with tarfile.open(result.path) as tar:
        tar.extract("database.pgdump", local_media.parent / "out", filter="data")
    script = subprocess.run(
        [
            pg_restore,
            "--data-only",
            "--table=core_commandlock",
            "--file=-",
            str(local_media.parent / "out/database.pgdump"),
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    copy_block = script.split("FROM stdin;\n", 1)[1].split("\n\\.\n", 1)[0]
    dumped = len([line for line in copy_block.splitlines() if line])
    assert dumped == result.manifest["tables"]["core_commandlock"] > 0


@pytest.mark.skipif(not POSTGRES, reason="PostgreSQL only (the restore's single transaction)")
def test_it_leaves_postgresql_as_it_was_when_the_restore_cannot_finish(
    transactional_db: None, world: World, local_media: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another session holds a table: the restore's DROP gives up after the lock timeout and the
    transaction rolls back, every row still there, no restore entry."""
    import psycopg

    archive = b.backup_create().path
    f.ContactFactory.create(organisation=world.member_a)
    before = b.row_counts()
    monkeypatch.setattr(b, "PG_LOCK_TIMEOUT", "1s")
    params = {k: v for k, v in connection.get_connection_params().items() if k != "cursor_factory"}
    with psycopg.connect(**params) as holder:
        holder.execute("LOCK TABLE members_contact IN ACCESS SHARE MODE")
        with pytest.raises(b.BackupError, match="la base est restée telle qu'elle était"):
            b.backup_restore(path=archive, force=True)
        holder.rollback()
    assert b.row_counts() == before
    assert not AuditEntry.objects.filter(action=AuditAction.RESTORE).exists()


# -- media on S3, against a local server speaking the protocol -----------------------------------
def _free_port(first: int = 8500, last: int = 8599) -> int:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    start = first + (int(worker[2:]) if worker[2:].isdigit() else 0) * 10
    for port in [*range(start, last + 1), *range(first, start)]:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    pytest.skip("moto_server: no free port in 8500-8599")


@pytest.fixture(scope="module")
def s3_server() -> Iterator[str]:
    executable = BIN / "moto_server"
    if not executable.exists():
        pytest.skip("moto_server absent: install the dev extra (pip install -e '.[dev]')")
    port = _free_port()
    process = subprocess.Popen(
        [str(executable), "-H", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        give_up_at = time.monotonic() + 20
        while True:
            try:
                urllib.request.urlopen(endpoint, timeout=1).close()  # noqa: S310
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > give_up_at:
                    pytest.skip(f"moto_server did not start on port {port}")
                time.sleep(0.2)
        yield f"127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def s3_media(s3_server: str, settings: Any, tmp_path: Path) -> Any:
    import boto3

    bucket_name = f"media-{os.getpid()}-{time.monotonic_ns()}"
    storage = parse_storage_url("STORAGE_URL", f"s3+http://test:secret@{s3_server}/{bucket_name}?region=us-east-1")
    boto3.resource(
        "s3",
        endpoint_url=f"http://{s3_server}",
        aws_access_key_id="test",
        aws_secret_access_key="secret",
        region_name="us-east-1",
    ).create_bucket(Bucket=bucket_name)
    settings.STORAGES = {**settings.STORAGES, "default": storage}
    settings.BACKUP_DIR = tmp_path / "backups"
    assert b.storage_kind(default_storage) == "s3"
    return default_storage.bucket  # type: ignore[attr-defined]


@on_sqlite
def test_it_backs_up_and_restores_media_on_s3(transactional_db: None, world: World, s3_media: Any) -> None:
    fill(world)
    default_storage.save("quality/reports/alpha/2026-01-v1.pdf", ContentFile(b"%PDF-1.7 rapport"))
    before = b.inventory()
    assert len(before["media"]) == 5

    result = b.backup_create()
    assert result.manifest["media"]["storage"] == "s3"

    s3_media.objects.all().delete()
    s3_media.put_object(Key="helpdesk/intrus.txt", Body=b"ajout")
    drop_every_table()

    report = b.backup_restore(path=result.path)

    assert report.ok, report.mismatches
    assert (report.files_written, report.files_deleted) == (5, 1)
    assert sorted(obj.key for obj in s3_media.objects.all()) == sorted(before["media"])
    assert b.media_digests() == before["media"]


def test_it_lists_a_bucket_in_one_flat_listing(db: None, s3_media: Any) -> None:
    for number in range(3):
        default_storage.save(f"helpdesk/T-{number}/a.txt", ContentFile(b"a"))
    assert b.media_names() == ["helpdesk/T-0/a.txt", "helpdesk/T-1/a.txt", "helpdesk/T-2/a.txt"]


# -- the drill on PostgreSQL, on its own database --------------------------------------------------
@pytest.mark.skipif(not POSTGRES, reason="PostgreSQL drill: runs under make test-pg (DATABASE_URL=postgres://…)")
def test_it_runs_the_restore_drill_on_postgresql(s3_server: str, tmp_path: Path) -> None:
    """deploy/restore_drill.py, the script CI runs: migrate, demo data, files on S3, backup,
    database dropped and bucket emptied, restore, every table and file compared."""
    db = connection.settings_dict
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    url = f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/h_backup_drill_{worker}"
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "deploy" / "restore_drill.py"),
            "--database-url",
            url,
            "--storage-url",
            f"s3+http://drill:secret@{s3_server}/drill-{worker}?region=us-east-1",
            "--dir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "OK (postgresql, media s3)" in done.stdout
    assert "12 files identical" not in done.stdout and " 9 files identical" in done.stdout


def test_it_leaves_out_a_file_deleted_while_it_runs(
    transactional_db: None, local_media: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    default_storage.save("helpdesk/T-1/kept.txt", ContentFile(b"kept"))
    listed = b.media_names()
    # listed, then deleted by a request before the backup reads it
    monkeypatch.setattr(b, "media_names", lambda storage=None: [*listed, "helpdesk/T-2/gone.txt"])
    result = b.backup_create()
    assert [entry["path"] for entry in result.manifest["media"]["files"]] == ["helpdesk/T-1/kept.txt"]
    assert b.backup_verify(result.path).files.keys() == {"helpdesk/T-1/kept.txt"}


# -- retention, the last backup, the commands, the settings ---------------------------------------
def test_it_keeps_the_newest_archives(transactional_db: None, local_media: Path, settings: Any) -> None:
    folder = Path(settings.BACKUP_DIR)
    folder.mkdir(parents=True)
    for stamp in ("20260101T000000Z", "20260102T000000Z", "20260103T000000Z"):
        (folder / f"mutualis-{stamp}.tar.gz").write_bytes(b"old")
        (folder / f"mutualis-{stamp}.tar.gz.sha256").write_text("x")
    (folder / "notes.txt").write_text("not an archive")

    result = b.backup_create(keep=2)

    names = sorted(p.name for p in folder.iterdir() if not p.name.startswith("."))
    assert names == sorted(
        ["mutualis-20260103T000000Z.tar.gz", "mutualis-20260103T000000Z.tar.gz.sha256", "notes.txt"]
        + [result.path.name, result.path.name + ".sha256"]
    )
    assert [p.name for p in result.pruned] == ["mutualis-20260101T000000Z.tar.gz", "mutualis-20260102T000000Z.tar.gz"]


def test_it_records_the_last_backup_once_the_archive_is_complete(
    transactional_db: None, local_media: Path, tmp_path: Path
) -> None:
    assert b.last_backup_at() is None
    with pytest.raises(b.BackupError, match="extension"):
        b.backup_create(output=tmp_path / "x.zip")
    assert b.last_backup_at() is None

    result = b.backup_create(output=tmp_path / "elsewhere" / "nightly.tar")

    entry = AuditEntry.objects.get(action=AuditAction.BACKUP)
    assert b.last_backup_at() == entry.created_at
    assert (entry.actor_id, entry.via, entry.object_repr) == (None, "cli", "nightly.tar")
    assert entry.changes["sha256"] == [None, result.sha256]
    assert hashlib.sha256(result.path.read_bytes()).hexdigest() == result.sha256
    assert (result.path.parent / "nightly.tar.sha256").read_text() == f"{result.sha256}  nightly.tar\n"
    assert oct(result.path.stat().st_mode & 0o777) == "0o600"


def test_the_commands_back_up_check_and_refuse_without_force(
    transactional_db: None, world: World, local_media: Path, tmp_path: Path
) -> None:
    out = io.StringIO()
    call_command("backup", "--output", str(tmp_path / "a.tar.gz"), stdout=out)
    assert "sauvegarde : " in out.getvalue() and "a.tar.gz" in out.getvalue()
    out = io.StringIO()
    call_command("restore", str(tmp_path / "a.tar.gz"), "--check", stdout=out)
    assert "archive intègre" in out.getvalue()
    with pytest.raises(CommandError, match="--force"):
        call_command("restore", str(tmp_path / "a.tar.gz"), stdout=io.StringIO())
    with pytest.raises(CommandError, match="existe déjà"):
        call_command("backup", "--output", str(tmp_path / "a.tar.gz"), stdout=io.StringIO())


def test_it_points_pg_tools_at_the_database_without_a_password_on_the_command_line() -> None:
    env = b.pg_environ(
        {
            "NAME": "mutualis",
            "USER": "app",
            "PASSWORD": "s3cret",
            "HOST": "db",
            "PORT": 5433,
            "OPTIONS": {"sslmode": "verify-full"},
        }
    )
    assert (env["PGDATABASE"], env["PGUSER"], env["PGPASSWORD"], env["PGHOST"], env["PGPORT"]) == (
        "mutualis",
        "app",
        "s3cret",
        "db",
        "5433",
    )
    assert env["PGSSLMODE"] == "verify-full"


def test_the_backup_time_setting_is_read_or_refused() -> None:
    assert parse_backup_at("MUTUALIS_BACKUP_AT", "02:30") == (2, 30)
    assert parse_backup_at("MUTUALIS_BACKUP_AT", "off") is None
    assert parse_backup_at("MUTUALIS_BACKUP_AT", "") is None
    with pytest.raises(ConfigError, match="MUTUALIS_BACKUP_AT"):
        parse_backup_at("MUTUALIS_BACKUP_AT", "25:00")


def test_the_scheduler_runs_the_nightly_backup() -> None:
    from mutualis.core import scheduler

    job = scheduler.job_get("backup")
    assert job is not None and job.command == "backup"
    assert job.period == scheduler.Daily(2, 30)
