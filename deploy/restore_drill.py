"""The restore drill: a real sequence of `mutualis` commands on a scratch database — migrate, load
the demo data, attach files to tickets, back up, wipe the database and the media, restore — then
a comparison of every table's row count and every file's SHA-256 before and after.

    python deploy/restore_drill.py --database-url postgres://postgres@127.0.0.1:5432/h_backup_drill
    python deploy/restore_drill.py --database-url sqlite:////tmp/drill/drill.sqlite3 \
        [--storage-url s3+http://KEY:SECRET@127.0.0.1:8500/drill-media] [--dir DIR]

The database is created (PostgreSQL) or deleted (SQLite) first and wiped in the middle, so its
name must contain "drill": the script refuses any other. Exit status 0 when everything matches,
1 otherwise; the last line says which. `.ci/run` runs it on both engines (docs/backups.md)."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
MUTUALIS = [str(Path(sys.executable).with_name("mutualis"))]
if not Path(MUTUALIS[0]).exists():  # a python outside the project's venv: through manage.py
    MUTUALIS = [sys.executable, str(ROOT / "manage.py")]

# Files attached through the helpdesk's service (so through the storage and the audit log): text,
# a binary with every byte value, and an empty file.
ATTACH = """
import json
from django.core.files.uploadedfile import SimpleUploadedFile
from mutualis.accounts.models import User
from mutualis.helpdesk.models import Ticket
from mutualis.helpdesk.services import attachment_add, ticket_create
from mutualis.members.models import Organisation
admin = User.objects.get(username="admin")
towns = list(Organisation.objects.exclude(pk=admin.organisation_id).order_by("slug")[:3])
files = [("compte-rendu.txt", "Réunion du comité : relevé de décisions.\\n".encode() * 200),
         ("octets.bin", bytes(range(256)) * 64), ("vide.txt", b"")]
for number, town in enumerate(towns):
    ticket = ticket_create(actor=admin, collectivity=town, requester=None, ticket_type="incident",
                           title=f"Exercice de restauration {number}", description="Pièces jointes de l'exercice")
    for name, content in files:
        attachment_add(actor=admin, ticket=ticket, upload=SimpleUploadedFile(name, content))
"""
INVENTORY = "import json; from mutualis.core.backup import inventory; print(json.dumps(inventory()))"


def say(message: str) -> None:
    print(f"restore drill: {message}", flush=True)


def run(args: list[str], env: dict[str, str], *, quiet: bool = True) -> str:
    started = time.monotonic()
    result = subprocess.run([*MUTUALIS, *args], env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        sys.stderr.write(result.stdout[-4000:] + result.stderr[-4000:])
        raise SystemExit(f"restore drill: `mutualis {' '.join(args[:2])}` failed ({result.returncode})")
    if not quiet:
        for line in result.stdout.strip().splitlines():
            say(f"  {line}")
    shown = " ".join(arg if len(arg) < 40 else arg[:37] + "…" for arg in args[:2])
    say(f"mutualis {shown} ({time.monotonic() - started:.1f} s)")
    return result.stdout


def inventory(env: dict[str, str]) -> dict[str, Any]:
    return json.loads(run(["shell", "-c", INVENTORY], env).strip().splitlines()[-1])


# -- the scratch database and media ------------------------------------------------------------
def _pg_admin_url(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    return urlunsplit(parts._replace(path="/postgres")), name


def wipe_database(url: str) -> None:
    """Drop and create the PostgreSQL database, or delete the SQLite file."""
    if url.startswith("sqlite"):
        path = Path(urlsplit(url).path)
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        path.parent.mkdir(parents=True, exist_ok=True)
        return
    import psycopg

    admin_url, name = _pg_admin_url(url)
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def drop_database(url: str) -> None:
    if url.startswith("sqlite"):
        return
    import psycopg

    admin_url, name = _pg_admin_url(url)
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _bucket(storage_url: str) -> Any:
    import boto3

    parts = urlsplit(storage_url)
    secure = parts.scheme != "s3+http"
    port = f":{parts.port}" if parts.port else ""
    s3 = boto3.resource(
        "s3",
        endpoint_url=f"{'https' if secure else 'http'}://{parts.hostname}{port}",
        aws_access_key_id=parts.username,
        aws_secret_access_key=parts.password,
        region_name="us-east-1",
    )
    bucket = s3.Bucket(parts.path.strip("/"))
    if bucket.creation_date is None:
        bucket.create()
    return bucket


def wipe_media(storage_url: str, media_root: Path) -> None:
    if storage_url:
        _bucket(storage_url).objects.all().delete()
    else:
        shutil.rmtree(media_root, ignore_errors=True)


def compare(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """Every table and file the same, but one more audit entry: the restore's own, written after."""
    problems = []
    expected = dict(before["tables"])
    expected["core_auditentry"] = expected.get("core_auditentry", 0) + 1
    for table in sorted(set(expected) | set(after["tables"])):
        if expected.get(table) != after["tables"].get(table):
            problems.append(f"table {table}: {expected.get(table)} rows expected, {after['tables'].get(table)} found")
    for name in sorted(set(before["media"]) | set(after["media"])):
        if before["media"].get(name) != after["media"].get(name):
            problems.append(f"file {name}: {before['media'].get(name)} expected, {after['media'].get(name)} found")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--storage-url", default="", help="s3://… for media on S3 (default: a local folder)")
    parser.add_argument("--dir", type=Path, default=None, help="working folder (default: a temporary one)")
    parser.add_argument("--keep", action="store_true", help="keep the database and the folder afterwards")
    options = parser.parse_args()
    url = options.database_url
    name = Path(urlsplit(url).path).name
    if "drill" not in name:
        parser.error(f"the database name must contain 'drill' (it is wiped): {name!r}")
    work = options.dir or Path(tempfile.mkdtemp(prefix="mutualis-drill-"))
    work.mkdir(parents=True, exist_ok=True)
    media_root = work / "media"
    env = {key: value for key, value in os.environ.items() if key not in {"STORAGE_URL", "MEDIA_ROOT"}}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DATABASE_URL=url,
        SECRET_KEY="restore-drill-secret-key-0123456789-abcdefghij",
        MUTUALIS_VAR_DIR=str(work / "var"),
        MUTUALIS_BACKUP_DIR=str(work / "backups"),
        MEDIA_ROOT=str(media_root),
        MUTUALIS_TASKS_BACKEND="immediate",
        EMAIL_URL="memory://",
        LOG_LEVEL="WARNING",
    )
    if options.storage_url:
        env["STORAGE_URL"] = options.storage_url
    engine = "sqlite" if url.startswith("sqlite") else "postgresql"
    media = "s3" if options.storage_url else "local"
    started = time.monotonic()
    say(f"{engine}, media {media}, in {work}")
    wipe_database(url)
    wipe_media(options.storage_url, media_root)
    try:
        run(["migrate", "--no-input", "-v0"], env)
        run(["load_demo"], env)
        run(["shell", "-c", ATTACH], env)
        before = inventory(env)
        archive = work / "drill.tar.gz"
        run(["backup", "--output", str(archive)], env, quiet=False)
        wipe_database(url)
        wipe_media(options.storage_url, media_root)
        say("database and media wiped")
        emptied = inventory(env)
        if sum(emptied["tables"].values()) or emptied["media"]:
            raise SystemExit("restore drill: the wipe left data behind")
        run(["restore", str(archive)], env, quiet=False)
        after = inventory(env)
    finally:
        if not options.keep:
            drop_database(url)
    problems = compare(before, after)
    rows, files = sum(before["tables"].values()), len(before["media"])
    for problem in problems:
        say(problem)
    if not options.keep and options.dir is None:
        shutil.rmtree(work, ignore_errors=True)
    elapsed = time.monotonic() - started
    if problems or not files:
        say(f"FAILED ({engine}, media {media}): {len(problems)} differences, {files} files, {elapsed:.0f} s")
        return 1
    say(
        f"OK ({engine}, media {media}): {len(before['tables'])} tables, {rows} rows and {files} files "
        f"identical after backup, wipe and restore ({elapsed:.0f} s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
