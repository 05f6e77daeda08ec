"""Backups: one archive (tar, optionally compressed) holding the database, the media files and a
manifest with their checksums; `backup_create` writes it while the site serves, `backup_restore`
checks every checksum before it touches anything, then puts the database and the media back and
compares them with the manifest.

The archive, in this order (docs/backups.md):
- `database.pgdump` (PostgreSQL, `pg_dump --format=custom`) or `database.sqlite3` (SQLite, through
  its online backup API: a consistent copy while other connections write);
- `media/<name>` for every file of the default storage (a local folder or an S3 bucket);
- `manifest.json`: format, Mutualis version, engine, when, the migrations applied per app, the row
  count of every table and the size and SHA-256 of the dump and of every file;
- `SHA256SUMS`: the same digests (and the manifest's) in `sha256sum -c` format.

On PostgreSQL the row counts and the migrations are read in the very snapshot pg_dump dumps
(`pg_export_snapshot`), so they describe the dump exactly even while the site writes."""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import importlib.metadata
import io
import json
import logging
import lzma
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import tarfile
import tempfile
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Protocol

from django.conf import settings
from django.core.files import File
from django.core.files.storage import FileSystemStorage, Storage, default_storage
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.utils import timezone
from django.utils.translation import gettext as _

from mutualis.core.audit import audit_record
from mutualis.core.models import AuditAction, AuditEntry
from mutualis.core.timefmt import local_datetime, utc_stamp

logger = logging.getLogger("mutualis.backup")

FORMAT = 1
MANIFEST = "manifest.json"
SUMS = "SHA256SUMS"
MEDIA = "media/"
DUMP_NAMES = {"postgresql": "database.pgdump", "sqlite": "database.sqlite3"}
ARCHIVE_PREFIX = "mutualis-"
# Archive name suffix -> tarfile write mode. A custom-format dump is compressed already; gzip is
# the default because the media (mostly text and office files) gain from it.
COMPRESSIONS = {".tar.gz": "w:gz", ".tgz": "w:gz", ".tar.xz": "w:xz", ".tar": "w"}
CHUNK = 1024 * 1024
# Each media file is held here while it is hashed, in memory up to this size, on disk above.
SPOOL_BYTES = 16 * 1024 * 1024
# How long the restore's DROP waits for a table another session holds before it gives up,
# leaving everything as it was.
PG_LOCK_TIMEOUT = "30s"


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says why, in French, for the operator."""


# -- small helpers -----------------------------------------------------------------------------
class _Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


def _sha256_stream(stream: _Readable, sink: IO[bytes] | None = None) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    while chunk := stream.read(CHUNK):
        digest.update(chunk)
        size += len(chunk)
        if sink is not None:
            sink.write(chunk)
    return digest.hexdigest(), size


def _sha256_file(path: Path) -> tuple[str, int]:
    with path.open("rb") as stream:
        return _sha256_stream(stream)


def _sums_line(digest: str, name: str) -> str:
    # GNU sha256sum's format, with its escape for a name holding a backslash or a newline.
    if "\\" in name or "\n" in name:
        return "\\" + digest + "  " + name.replace("\\", "\\\\").replace("\n", "\\n") + "\n"
    return f"{digest}  {name}\n"


def _parse_sums(text: str) -> dict[str, str]:
    sums: dict[str, str] = {}
    for line in text.splitlines():
        escaped = line.startswith("\\")
        if escaped:
            line = line[1:]
        digest, sep, name = line.partition("  ")
        if not sep or not re.fullmatch(r"[0-9a-f]{64}", digest):
            raise BackupError(_("%(file)s illisible : %(line)r") % {"file": SUMS, "line": line[:80]})
        if escaped:
            name = re.sub(r"\\(.)", lambda m: "\n" if m.group(1) == "n" else m.group(1), name)
        sums[name] = digest
    return sums


def _safe_media_name(name: str) -> bool:
    """A storage name that cannot leave the media folder once joined to it."""
    parts = name.split("/")
    return bool(name) and not name.startswith("/") and all(part not in {"", ".", ".."} for part in parts)


def engine() -> str:
    vendor = connection.vendor
    if vendor not in DUMP_NAMES:
        raise BackupError(_("base de données %(vendor)s non prise en charge") % {"vendor": vendor})
    return vendor


def mutualis_version() -> str:
    try:
        return importlib.metadata.version("mutualis")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - the project is installed
        return "inconnue"


def archive_time(manifest: dict[str, Any]) -> str:
    """When the archive was made, in Paris time, for messages."""
    try:
        return local_datetime(dt.datetime.fromisoformat(manifest["created_at"]), "d/m/Y H:i:s")
    except (KeyError, TypeError, ValueError):
        return str(manifest.get("created_at", "?"))


def backup_dir() -> Path:
    return Path(settings.BACKUP_DIR)


@contextlib.contextmanager
def _directory_lock(directory: Path) -> Iterator[None]:
    """One backup at a time per directory, held by the kernel (released if the process dies).
    Not a CommandLock row: the dump would carry the row, and a restore bring it back."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    with (directory / ".lock").open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BackupError(
                _("une autre sauvegarde écrit dans %(dir)s ; rien n'a été fait") % {"dir": directory}
            ) from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


# -- what the database holds -------------------------------------------------------------------
def _sqlite_tables(conn: sqlite3.Connection) -> list[str]:
    rows = conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name"
    )
    return [row[0] for row in rows]


def _sqlite_counts(conn: sqlite3.Connection) -> dict[str, int]:
    return {
        table: conn.execute(f'SELECT COUNT(*) FROM "{table.replace(chr(34), chr(34) * 2)}"').fetchone()[0]  # noqa: S608
        for table in _sqlite_tables(conn)
    }


def _migrations_from(rows: list[tuple[str, str]]) -> dict[str, list[str]]:
    applied: dict[str, list[str]] = {}
    for app, name in sorted(rows):
        applied.setdefault(app, []).append(name)
    return applied


def row_counts() -> dict[str, int]:
    """The row count of every table of the live database (Django's connection)."""
    with connection.cursor() as cursor:
        tables = sorted(connection.introspection.table_names(cursor))
        counts = {}
        for table in tables:
            if table.startswith("sqlite_"):
                continue
            cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(table)}")  # noqa: S608
            counts[table] = cursor.fetchone()[0]
    return counts


def database_has_data() -> bool:
    """True when the database holds more than `migrate` puts there: an account, an organisation
    or an audit entry (every write through a service leaves one)."""
    with connection.cursor() as cursor:
        tables = set(connection.introspection.table_names(cursor))
        for table in ("accounts_user", "members_organisation", AuditEntry._meta.db_table):
            if table in tables:
                cursor.execute(f"SELECT 1 FROM {connection.ops.quote_name(table)} LIMIT 1")  # noqa: S608
                if cursor.fetchone() is not None:
                    return True
    return False


def unknown_migrations(applied: dict[str, list[str]]) -> list[str]:
    """Migrations an archive's database had applied that this code does not have: it comes from a
    newer Mutualis (or Django), and this code cannot run on it."""
    known = set(MigrationLoader(None, ignore_no_migrations=True).disk_migrations)
    return [f"{app}.{name}" for app, names in sorted(applied.items()) for name in names if (app, name) not in known]


def pending_migrations(applied: dict[str, list[str]]) -> int:
    """Migrations of this code that the archive's database had not applied yet."""
    done = {(app, name) for app, names in applied.items() for name in names}
    loader = MigrationLoader(None, ignore_no_migrations=True)
    return sum(1 for key in loader.graph.nodes if key not in done)


# -- PostgreSQL's client tools -------------------------------------------------------------------
def _tool_major(path: str) -> int:
    output = subprocess.run([path, "--version"], capture_output=True, text=True, check=True).stdout  # noqa: S603
    match = re.search(r"\(PostgreSQL\)\s+(\d+)", output)
    if match is None:
        raise BackupError(_("version de %(tool)s illisible : %(out)r") % {"tool": path, "out": output.strip()})
    return int(match.group(1))


def pg_tool(name: str) -> tuple[str, str]:
    """The path and `--version` line of a PostgreSQL client tool at least as new as the server
    (pg_dump refuses a newer server): MUTUALIS_PG_BIN_DIR, else Debian's directory for the
    server's major version, else the PATH."""
    connection.ensure_connection()
    server_major = connection.pg_version // 10000  # type: ignore[attr-defined]
    if settings.PG_BIN_DIR:
        candidates = [str(Path(settings.PG_BIN_DIR) / name)]
    else:
        candidates = [f"/usr/lib/postgresql/{server_major}/bin/{name}", shutil.which(name) or ""]
    for candidate in candidates:
        if candidate and os.access(candidate, os.X_OK):
            major = _tool_major(candidate)
            if major < server_major:
                raise BackupError(
                    _(
                        "%(tool)s est en version %(tool_v)d, le serveur en %(server_v)d : "
                        "installer le client %(server_v)d"
                    )
                    % {"tool": candidate, "tool_v": major, "server_v": server_major}
                )
            version = subprocess.run([candidate, "--version"], capture_output=True, text=True, check=True)  # noqa: S603
            return candidate, version.stdout.strip()
    raise BackupError(
        _("%(tool)s introuvable : installer le client PostgreSQL %(v)d ou régler MUTUALIS_PG_BIN_DIR")
        % {"tool": name, "v": server_major}
    )


# libpq reads these; the password never appears on a command line (ps would show it)
_PG_OPTION_ENV = {
    "sslmode": "PGSSLMODE",
    "sslrootcert": "PGSSLROOTCERT",
    "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY",
    "sslpassword": "PGSSLPASSWORD",
    "service": "PGSERVICE",
    "passfile": "PGPASSFILE",
    "connect_timeout": "PGCONNECT_TIMEOUT",
    "target_session_attrs": "PGTARGETSESSIONATTRS",
}


def pg_environ(settings_dict: dict[str, Any] | None = None) -> dict[str, str]:
    """The environment that points libpq's tools at the database Django uses."""
    db = settings_dict or connection.settings_dict
    env = {key: value for key, value in os.environ.items() if not key.startswith("PG")}
    for key, variable in (("HOST", "PGHOST"), ("PORT", "PGPORT"), ("USER", "PGUSER"), ("PASSWORD", "PGPASSWORD")):
        if db.get(key):
            env[variable] = str(db[key])
    env["PGDATABASE"] = str(db["NAME"])
    for option, variable in _PG_OPTION_ENV.items():
        if db.get("OPTIONS", {}).get(option) not in (None, ""):
            env[variable] = str(db["OPTIONS"][option])
    env["PGAPPNAME"] = "mutualis-backup"
    return env


def _run(command: list[str], *, env: dict[str, str], what: str) -> None:
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        raise BackupError(f"{what} : {result.stderr.strip()[-2000:] or result.returncode}")


# -- the database's side of a backup -----------------------------------------------------------
@dataclass
class DatabaseCopy:
    path: Path
    tables: dict[str, int]
    migrations: dict[str, list[str]]
    server_version: str
    tool: str = ""


def _dump_postgresql(dest: Path) -> DatabaseCopy:
    """pg_dump in the snapshot of a read-only transaction that counts the rows and reads the
    migrations: the three describe the same instant while the site goes on writing."""
    pg_dump, version = pg_tool("pg_dump")
    raw = connection.get_new_connection(connection.get_connection_params())
    try:
        raw.autocommit = True
        with raw.cursor() as cursor:
            cursor.execute("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            cursor.execute("SELECT pg_export_snapshot(), current_setting('server_version')")
            snapshot, server_version = cursor.fetchone()
            cursor.execute(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name"
            )
            tables = [row[0] for row in cursor.fetchall()]
            counts = {}
            for table in tables:
                cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(table)}")  # noqa: S608
                counts[table] = cursor.fetchone()[0]
            migrations: list[tuple[str, str]] = []
            if "django_migrations" in tables:
                cursor.execute("SELECT app, name FROM django_migrations")
                migrations = list(cursor.fetchall())
            _run(
                [pg_dump, "--format=custom", f"--snapshot={snapshot}", f"--file={dest}"],
                env=pg_environ(),
                what="pg_dump",
            )
            cursor.execute("COMMIT")
    finally:
        raw.close()
    return DatabaseCopy(dest, counts, _migrations_from(migrations), server_version, version)


def _copy_sqlite(dest: Path) -> DatabaseCopy:
    """SQLite's online backup API, in one step: a read transaction on the live database while the
    pages are copied, so the copy is one consistent state and writers are never blocked (WAL)."""
    if connection.in_atomic_block:
        # the copy would wait for ever on this connection's own write lock
        raise BackupError(_("une sauvegarde SQLite ne se lance pas dans une transaction"))
    connection.ensure_connection()
    live: sqlite3.Connection = connection.connection
    copy = sqlite3.connect(dest)
    try:
        live.backup(copy)
        # self-contained: no -wal file beside it
        copy.execute("PRAGMA journal_mode=DELETE")
        counts = _sqlite_counts(copy)
        rows: list[tuple[str, str]] = []
        if "django_migrations" in counts:
            rows = list(copy.execute("SELECT app, name FROM django_migrations"))
    finally:
        copy.close()
    return DatabaseCopy(dest, counts, _migrations_from(rows), sqlite3.sqlite_version)


# -- media -------------------------------------------------------------------------------------
def _s3_storage_class() -> type | None:
    try:
        from storages.backends.s3 import S3Storage
    except ImportError:  # pragma: no cover - django-storages[s3] is a dependency
        return None
    return S3Storage


def storage_kind(storage: Storage) -> str:
    s3 = _s3_storage_class()
    if s3 is not None and isinstance(storage, s3):
        return "s3"
    return "local" if isinstance(storage, FileSystemStorage) else type(storage).__name__


def media_names(storage: Storage | None = None) -> list[str]:
    """Every file name of the storage, sorted: a walk of the folder, or one flat listing of the
    bucket (a listing per "directory" would cost a request per ticket with attachments)."""
    storage = storage or default_storage
    names: list[str] = []
    if isinstance(storage, FileSystemStorage):
        root = Path(storage.location)
        if root.is_dir():
            for folder, _dirs, files in os.walk(root):
                for file in files:
                    names.append((Path(folder) / file).relative_to(root).as_posix())
    elif storage_kind(storage) == "s3":
        location = getattr(storage, "location", "").strip("/")
        prefix = f"{location}/" if location else ""
        for obj in storage.bucket.objects.filter(Prefix=prefix):  # type: ignore[attr-defined]
            if not obj.key.endswith("/"):
                names.append(obj.key[len(prefix) :])
    else:  # any other storage: its own listing, one directory at a time
        pending = [""]
        while pending:
            folder = pending.pop()
            dirs, files = storage.listdir(folder)
            names.extend(f"{folder}{file}" for file in files)
            pending.extend(f"{folder}{sub}/" for sub in dirs)
    return sorted(names)


def media_digests(storage: Storage | None = None) -> dict[str, str]:
    """{name: SHA-256} of every file of the storage, read through the storage API."""
    storage = storage or default_storage
    digests = {}
    for name in media_names(storage):
        with storage.open(name, "rb") as stream:
            digests[name] = _sha256_stream(stream)[0]
    return digests


# -- backup --------------------------------------------------------------------------------------
@dataclass
class BackupResult:
    path: Path
    manifest: dict[str, Any]
    sha256: str
    size: int
    seconds: float
    pruned: list[Path] = field(default_factory=list)


def default_archive_path(now: dt.datetime | None = None) -> Path:
    stamp = utc_stamp(now or timezone.now())
    return backup_dir() / f"{ARCHIVE_PREFIX}{stamp}.tar.gz"


def _tar_mode(path: Path) -> str:
    for suffix, mode in COMPRESSIONS.items():
        if path.name.endswith(suffix):
            return mode
    raise BackupError(
        _("extension d'archive inconnue : %(name)s (attendu : %(list)s)")
        % {"name": path.name, "list": ", ".join(COMPRESSIONS)}
    )


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes, mtime: float) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = len(data), int(mtime), 0o600
    tar.addfile(info, io.BytesIO(data))


def backup_create(*, output: Path | None = None, keep: int | None = None) -> BackupResult:
    """Write one archive of the database and the media while the site serves, then record the
    backup in the audit log (as the system). The archive appears under its name only once
    complete (written beside it, then renamed). In the backup directory, only the `keep` newest
    archives stay (MUTUALIS_BACKUP_KEEP by default)."""
    started = time.monotonic()
    kind = engine()
    path = Path(output) if output else default_archive_path()
    path = path.resolve()
    mode = _tar_mode(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        raise BackupError(_("%(path)s existe déjà ; rien n'a été fait") % {"path": path})
    storage = default_storage
    with _directory_lock(path.parent), tempfile.TemporaryDirectory(prefix=".backup-", dir=path.parent) as work:
        partial = path.with_name(f".{path.name}.partial")
        dump_name = DUMP_NAMES[kind]
        copy = (_dump_postgresql if kind == "postgresql" else _copy_sqlite)(Path(work) / dump_name)
        dump_sha, dump_size = _sha256_file(copy.path)
        now = time.time()
        files: list[dict[str, Any]] = []
        sums = _sums_line(dump_sha, dump_name)
        try:
            partial.touch(mode=0o600)  # the archive holds password hashes and personal data
            with tarfile.open(partial, mode) as tar:  # type: ignore[call-overload]
                tar.add(copy.path, arcname=dump_name, recursive=False)
                for name in media_names(storage):
                    if not _safe_media_name(name):
                        raise BackupError(_("nom de fichier refusé dans le stockage : %(name)r") % {"name": name})
                    try:
                        stream = storage.open(name, "rb")
                    except FileNotFoundError:
                        # deleted since the listing: the site goes on serving during a backup
                        logger.warning("backup: %s deleted during the backup, left out", name)
                        continue
                    with stream, tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES, dir=str(work)) as spool:
                        digest, size = _sha256_stream(stream, spool)
                        spool.seek(0)
                        info = tarfile.TarInfo(MEDIA + name)
                        info.size, info.mtime, info.mode = size, int(now), 0o600
                        tar.addfile(info, spool)
                    files.append({"path": name, "size": size, "sha256": digest})
                    sums += _sums_line(digest, MEDIA + name)
                manifest = {
                    "format": FORMAT,
                    "mutualis_version": mutualis_version(),
                    "created_at": timezone.now().astimezone(dt.UTC).isoformat(),
                    "host": socket.gethostname(),
                    "engine": kind,
                    "server_version": copy.server_version,
                    "dump_tool": copy.tool,
                    "database": {"path": dump_name, "size": dump_size, "sha256": dump_sha},
                    "migrations": copy.migrations,
                    "tables": copy.tables,
                    "media": {"storage": storage_kind(storage), "files": files},
                }
                manifest_bytes = json.dumps(manifest, indent=1, ensure_ascii=False, sort_keys=True).encode()
                _add_bytes(tar, MANIFEST, manifest_bytes, now)
                sums += _sums_line(hashlib.sha256(manifest_bytes).hexdigest(), MANIFEST)
                _add_bytes(tar, SUMS, sums.encode(), now)
            with partial.open("rb") as written:
                os.fsync(written.fileno())
            archive_sha, archive_size = _sha256_file(partial)
            partial.rename(path)
        finally:
            partial.unlink(missing_ok=True)
    # beside the archive, for whoever checks a copy elsewhere: sha256sum -c NAME.sha256
    path.with_name(path.name + ".sha256").write_text(_sums_line(archive_sha, path.name))
    pruned = backup_prune(keep=keep or settings.BACKUP_KEEP) if path.parent == backup_dir() else []
    audit_record(
        actor=None,
        action=AuditAction.BACKUP,
        object_repr=path.name,
        changes={
            "archive": [None, str(path)],
            "sha256": [None, archive_sha],
            "size": [None, archive_size],
            "rows": [None, sum(copy.tables.values())],
            "files": [None, len(files)],
        },
        via="cli",
    )
    seconds = time.monotonic() - started
    logger.info(
        "backup %s: %d bytes, %d tables, %d files, %.1f s", path, archive_size, len(copy.tables), len(files), seconds
    )
    return BackupResult(path, manifest, archive_sha, archive_size, seconds, pruned)


def archives(directory: Path | None = None) -> list[Path]:
    """The archives `backup_create` named in the directory, oldest first (the name is the time)."""
    directory = directory or backup_dir()
    if not directory.is_dir():
        return []
    suffixes = tuple(COMPRESSIONS)
    return sorted(
        p
        for p in directory.iterdir()
        if p.is_file() and p.name.startswith(ARCHIVE_PREFIX) and p.name.endswith(suffixes)
    )


def backup_prune(*, keep: int, directory: Path | None = None) -> list[Path]:
    """Delete all but the `keep` newest archives of the backup directory (and their .sha256)."""
    if keep < 1:
        raise ValueError("keep at least one archive")
    doomed = archives(directory)[:-keep]
    for path in doomed:
        path.unlink(missing_ok=True)
        path.with_name(path.name + ".sha256").unlink(missing_ok=True)
    return doomed


def last_backup_at() -> dt.datetime | None:
    """When the last backup that completed was made (its audit entry, written once the archive
    is complete); None if never. One indexed read, for /sante/ and the metrics."""
    return (
        AuditEntry.objects.filter(action=AuditAction.BACKUP)
        .order_by("-created_at")
        .values_list("created_at", flat=True)
        .first()
    )


# -- verification --------------------------------------------------------------------------------
@dataclass
class Verified:
    """An archive whose every member matched its checksums."""

    path: Path
    manifest: dict[str, Any]

    @property
    def dump_name(self) -> str:
        return str(self.manifest["database"]["path"])

    @property
    def files(self) -> dict[str, dict[str, Any]]:
        return {entry["path"]: entry for entry in self.manifest["media"]["files"]}


_READ_ERRORS = (tarfile.TarError, EOFError, OSError, zlib.error, lzma.LZMAError)


def _unreadable(error: BaseException) -> BackupError:
    return BackupError(_("archive illisible : %(error)s ; rien n'a été modifié") % {"error": error})


class _MemberStream:
    """A member's content; a damaged archive (cut, corrupt compression) is a BackupError."""

    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream

    def read(self, size: int = -1) -> bytes:
        try:
            return self._stream.read(size)
        except _READ_ERRORS as error:
            raise _unreadable(error) from None


def _members(path: Path) -> Iterator[tuple[tarfile.TarInfo, _MemberStream | None]]:
    try:
        with tarfile.open(path, "r|*") as tar:
            for info in tar:
                stream = tar.extractfile(info) if info.isfile() else None
                yield info, _MemberStream(stream) if stream is not None else None
    except _READ_ERRORS as error:
        raise _unreadable(error) from None


def backup_verify(path: Path) -> Verified:
    """Read the whole archive and check every member against the manifest and SHA256SUMS (size
    and digest); touch nothing. Raises BackupError listing what does not match."""
    path = Path(path)
    if not path.is_file():
        raise BackupError(_("archive introuvable : %(path)s") % {"path": path})
    digests: dict[str, tuple[str, int]] = {}
    manifest_bytes = sums_text = None
    problems: list[str] = []
    for info, stream in _members(path):
        if stream is None:
            problems.append(_("élément inattendu (pas un fichier) : %(name)s") % {"name": info.name})
            continue
        if info.name in digests:
            problems.append(_("élément en double : %(name)s") % {"name": info.name})
        if info.name in {MANIFEST, SUMS}:
            data = stream.read()
            digests[info.name] = (hashlib.sha256(data).hexdigest(), len(data))
            if info.name == MANIFEST:
                manifest_bytes = data
            else:
                sums_text = data.decode("utf-8", "replace")
        else:
            digests[info.name] = _sha256_stream(stream)
    if manifest_bytes is None or sums_text is None:
        raise BackupError(
            _("archive incomplète : %(name)s manquant") % {"name": MANIFEST if manifest_bytes is None else SUMS}
        )
    try:
        manifest = json.loads(manifest_bytes)
        if manifest.get("format") != FORMAT:
            raise BackupError(
                _("format d'archive %(found)r inconnu de cette version (attendu : %(expected)d)")
                % {"found": manifest.get("format"), "expected": FORMAT}
            )
        expected: dict[str, tuple[str, int]] = {
            manifest["database"]["path"]: (manifest["database"]["sha256"], manifest["database"]["size"])
        }
        for entry in manifest["media"]["files"]:
            if not _safe_media_name(entry["path"]):
                problems.append(_("nom de fichier refusé : %(name)r") % {"name": entry["path"]})
            expected[MEDIA + entry["path"]] = (entry["sha256"], entry["size"])
    except (ValueError, KeyError, TypeError) as error:
        raise BackupError(_("manifeste illisible : %(error)s") % {"error": error}) from None
    if manifest["database"]["path"] not in DUMP_NAMES.values():
        problems.append(_("vidage inconnu : %(name)r") % {"name": manifest["database"]["path"]})
    sums = _parse_sums(sums_text)
    if sums.get(MANIFEST) != digests[MANIFEST][0]:
        problems.append(_("%(name)s : empreinte différente de %(sums)s") % {"name": MANIFEST, "sums": SUMS})
    for name, (digest, size) in expected.items():
        found = digests.get(name)
        if found is None:
            problems.append(_("%(name)s : absent de l'archive") % {"name": name})
        elif found[1] != size:
            problems.append(
                _("%(name)s : %(found)d octets au lieu de %(size)d") % {"name": name, "found": found[1], "size": size}
            )
        elif found[0] != digest or sums.get(name) != digest:
            problems.append(_("%(name)s : empreinte SHA-256 différente") % {"name": name})
    for name in sorted(set(digests) - set(expected) - {MANIFEST, SUMS}):
        problems.append(_("%(name)s : absent du manifeste") % {"name": name})
    if problems:
        raise BackupError(
            _("archive refusée, rien n'a été modifié :\n- %(list)s")
            % {"list": "\n- ".join(problems[:20]) + ("\n- …" if len(problems) > 20 else "")}
        )
    return Verified(path, manifest)


# -- restore -------------------------------------------------------------------------------------
@dataclass
class RestoreReport:
    archive: Path
    manifest: dict[str, Any]
    tables_checked: int = 0
    rows: int = 0
    files_written: int = 0
    files_unchanged: int = 0
    files_deleted: int = 0
    mismatches: list[str] = field(default_factory=list)
    pending_migrations: int = 0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.mismatches


def _extract_to(verified: Verified, member: str, dest: IO[bytes]) -> None:
    for info, stream in _members(verified.path):
        if info.name == member and stream is not None:
            digest, _size = _sha256_stream(stream, dest)
            if digest != verified.manifest["database"]["sha256"]:
                raise BackupError(
                    _("%(name)s a changé depuis la vérification ; rien n'a été modifié") % {"name": member}
                )
            return
    raise BackupError(_("%(name)s : absent de l'archive") % {"name": member})  # pragma: no cover - verified


def _restore_postgresql(dump: Path) -> None:
    """One transaction through psql: drop every table of the schema, then pg_restore's script
    (--clean --if-exists --no-owner), then COMMIT, written only once pg_restore has succeeded. An
    error anywhere, or pg_restore failing half-way, leaves the database as it was."""
    pg_restore, _version = pg_tool("pg_restore")
    psql, _version = pg_tool("psql")
    with connection.cursor() as cursor:
        tables = connection.introspection.table_names(cursor)
    connection.close()
    env = pg_environ()
    drop = ", ".join(connection.ops.quote_name(table) for table in tables)
    header = f"BEGIN;\nSET LOCAL lock_timeout = '{PG_LOCK_TIMEOUT}';\n"
    if drop:
        header += f"DROP TABLE IF EXISTS {drop} CASCADE;\n"
    restore = subprocess.Popen(  # noqa: S603
        [pg_restore, "--clean", "--if-exists", "--no-owner", "--file=-", str(dump)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    apply = subprocess.Popen(  # noqa: S603
        [psql, "--no-psqlrc", "--quiet", "-v", "ON_ERROR_STOP=1", "--output=/dev/null"],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    assert restore.stdout is not None and restore.stderr is not None
    assert apply.stdin is not None and apply.stderr is not None
    errors: dict[str, bytes] = {}

    def drain(name: str, stream: IO[bytes]) -> None:
        errors[name] = stream.read()

    drains = [
        threading.Thread(target=drain, args=("pg_restore", restore.stderr), daemon=True),
        threading.Thread(target=drain, args=("psql", apply.stderr), daemon=True),
    ]
    for thread in drains:
        thread.start()
    try:
        apply.stdin.write(header.encode())
        shutil.copyfileobj(restore.stdout, apply.stdin, CHUNK)
        restore.stdout.close()
        if restore.wait() == 0:
            apply.stdin.write(b"COMMIT;\n")
        # else: psql reaches the end of its input inside the transaction, which is rolled back
    except BrokenPipeError:  # psql stopped on an error: its own message says which
        pass
    finally:
        restore.stdout.close()
        with contextlib.suppress(BrokenPipeError):
            apply.stdin.close()
        restore.wait()
        apply.wait()
        for thread in drains:
            thread.join()
    if restore.returncode != 0:
        raise BackupError(
            _("pg_restore : %(error)s — la transaction est annulée, la base est restée telle qu'elle était")
            % {"error": errors.get("pg_restore", b"").decode(errors="replace").strip()[-2000:]}
        )
    if apply.returncode != 0:
        raise BackupError(
            _("psql : %(error)s — la transaction est annulée, la base est restée telle qu'elle était")
            % {"error": errors.get("psql", b"").decode(errors="replace").strip()[-2000:]}
        )


def _restore_sqlite(copy: Path) -> None:
    """The archive's file copied page by page into the live database through the backup API (the
    destination is replaced in one write transaction; open connections see the new content)."""
    connection.ensure_connection()
    live: sqlite3.Connection = connection.connection
    source = sqlite3.connect(copy)
    try:
        source.backup(live)
    finally:
        source.close()
    connection.close()


def _restore_media(verified: Verified, storage: Storage, work: Path, report: RestoreReport) -> None:
    """Make the storage hold exactly the archive's files: write those missing or different, delete
    the others (no database row of the restored state points to them)."""
    wanted = verified.files
    present = set(media_names(storage))
    for info, stream in _members(verified.path):
        if stream is None or not info.name.startswith(MEDIA):
            continue
        name = info.name[len(MEDIA) :]
        entry = wanted[name]
        if name in present:
            with storage.open(name, "rb") as current:
                if _sha256_stream(current)[0] == entry["sha256"]:
                    report.files_unchanged += 1
                    continue
            storage.delete(name)
        with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES, dir=str(work)) as spool:
            digest, _size = _sha256_stream(stream, spool)
            if digest != entry["sha256"]:
                raise BackupError(_("%(name)s a changé depuis la vérification") % {"name": info.name})
            spool.seek(0)
            saved = storage.save(name, File(spool, name=name))
        if saved != name:
            raise BackupError(
                _("le stockage a enregistré %(saved)r au lieu de %(name)r") % {"saved": saved, "name": name}
            )
        report.files_written += 1
    for name in sorted(present - set(wanted)):
        storage.delete(name)
        report.files_deleted += 1


def _compare(verified: Verified, report: RestoreReport) -> None:
    expected_tables: dict[str, int] = verified.manifest["tables"]
    counts = row_counts()
    for table, rows in sorted(expected_tables.items()):
        if counts.get(table) != rows:
            report.mismatches.append(
                _("table %(table)s : %(found)s lignes au lieu de %(rows)d")
                % {"table": table, "found": counts.get(table, "—"), "rows": rows}
            )
    for table in sorted(set(counts) - set(expected_tables)):
        report.mismatches.append(_("table %(table)s : absente de l'archive") % {"table": table})
    report.tables_checked, report.rows = len(expected_tables), sum(expected_tables.values())
    expected_files = {name: entry["sha256"] for name, entry in verified.files.items()}
    found_files = media_digests()
    for name in sorted(set(expected_files) | set(found_files)):
        if expected_files.get(name) != found_files.get(name):
            report.mismatches.append(_("fichier %(name)s : empreinte différente ou fichier absent") % {"name": name})


def backup_restore(*, path: Path, force: bool = False, confirm: Callable[[str], bool] | None = None) -> RestoreReport:
    """Put an archive back: verify every checksum, refuse an archive of another engine or whose
    migrations this code does not know, ask before wiping a database that holds data (`force`, or
    `confirm(question)` answering True), restore the database then the media, compare the row
    counts and the files' digests with the manifest, and only then write the audit entry (the
    restore replaced the log). Stop the app servers, workers and scheduler first."""
    started = time.monotonic()
    verified = backup_verify(Path(path).resolve())
    manifest = verified.manifest
    kind = engine()
    if manifest["engine"] != kind:
        raise BackupError(
            _("archive %(archive)s, base %(current)s : une restauration ne change pas de moteur ; rien n'a été modifié")
            % {"archive": manifest["engine"], "current": kind}
        )
    newer = unknown_migrations(manifest["migrations"])
    if newer:
        raise BackupError(
            _(
                "l'archive vient d'une version plus récente (migrations inconnues de ce code : %(list)s) ; "
                "installer cette version d'abord ; rien n'a été modifié"
            )
            % {"list": ", ".join(newer[:10]) + (" …" if len(newer) > 10 else "")}
        )
    if database_has_data() and not force:
        question = _(
            "La base %(name)s contient des données : elles seront remplacées par celles de l'archive du %(when)s."
        ) % {"name": connection.settings_dict["NAME"], "when": archive_time(manifest)}
        if confirm is None or not confirm(question):
            raise BackupError(question + " " + _("Relancer avec --force pour confirmer ; rien n'a été modifié."))
    report = RestoreReport(verified.path, manifest)
    work_parent = backup_dir()
    work_parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".restore-", dir=work_parent) as work:
        dump = Path(work) / verified.dump_name
        with dump.open("wb") as sink:
            _extract_to(verified, verified.dump_name, sink)
        (_restore_postgresql if kind == "postgresql" else _restore_sqlite)(dump)
        _restore_media(verified, default_storage, Path(work), report)
    _compare(verified, report)
    report.pending_migrations = pending_migrations(manifest["migrations"])
    report.seconds = time.monotonic() - started
    audit_record(
        actor=None,
        action=AuditAction.RESTORE,
        object_repr=verified.path.name,
        changes={
            "archive": [None, str(verified.path)],
            "created_at": [None, manifest["created_at"]],
            "rows": [None, report.rows],
            "files": [None, len(verified.files)],
            "mismatches": [None, len(report.mismatches)],
        },
        via="cli",
    )
    logger.info(
        "restore %s: %d tables, %d files, %d mismatches, %.1f s",
        verified.path,
        report.tables_checked,
        len(verified.files),
        len(report.mismatches),
        report.seconds,
    )
    return report


def inventory() -> dict[str, Any]:
    """The live state a drill compares before and after: every table's row count and every
    media file's digest."""
    return {"tables": row_counts(), "media": media_digests()}
