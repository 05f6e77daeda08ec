"""A GLPI database to import from: GLPI 10.0's tables (schema.sql) filled with a seeded helpdesk
history of a syndicate's member towns that holds every case that catches importers.

    python -m mutualis.glpi.sample.history --url mysql://glpi_test:glpi_test@127.0.0.1:3306/glpi_demo \\
        --tickets 2000 [--timezones] [--documents-dir DIR]

creates the database if needed, loads the schema (dropping GLPI's tables first) and writes the
history; sample/glpi.toml maps it onto the demo's data (`mutualis load_demo`)."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

import pymysql
import pymysql.connections

SCHEMA_FILE = Path(__file__).with_name("schema.sql")
MAPPING_FILE = Path(__file__).with_name("glpi.toml")


# -- connections ------------------------------------------------------------------------------
def connect(url: str, *, utc: bool = False) -> pymysql.connections.Connection:
    """A connection to the server of `url`, on its database when the URL names one. `utc` sets the
    session's time zone to UTC, so `timestamp` columns take and give UTC instants."""
    parts = urlsplit(url)
    return pymysql.connect(
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 3306,
        user=unquote(parts.username or ""),
        password=unquote(parts.password or ""),
        database=unquote(parts.path.lstrip("/")) or None,
        charset="utf8mb4",
        autocommit=False,
        init_command="SET time_zone = '+00:00'" if utc else None,
    )


def database_url(server_url: str, name: str) -> str:
    """`server_url` (mysql://user:password@host:port/…) with its database replaced by `name`."""
    parts = urlsplit(server_url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", "", ""))


def redacted(url: str) -> str:
    """The URL without its password, for messages."""
    parts = urlsplit(url)
    netloc = parts.netloc.rsplit("@", 1)[-1]
    user = unquote(parts.username or "")
    return urlunsplit((parts.scheme, f"{user}@{netloc}" if user else netloc, parts.path, "", ""))


_NAME = re.compile(r"^[A-Za-z0-9_]{1,64}$")


def create_database(server_url: str, name: str, *, replace: bool = False) -> str:
    """Create the database `name` (utf8mb4, GLPI's collation) on the server; returns its URL."""
    if not _NAME.match(name):
        raise ValueError(f"database name {name!r}: letters, digits and _ only")
    connection = connect(database_url(server_url, ""))
    try:
        with connection.cursor() as cursor:
            if replace:
                cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
            cursor.execute(f"CREATE DATABASE IF NOT EXISTS `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
    finally:
        connection.close()
    return database_url(server_url, name)


def drop_database(server_url: str, name: str) -> None:
    if not _NAME.match(name):
        raise ValueError(f"database name {name!r}: letters, digits and _ only")
    connection = connect(database_url(server_url, ""))
    try:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
    finally:
        connection.close()


def schema_statements() -> list[str]:
    """schema.sql as single statements (PyMySQL runs one statement per call)."""
    lines = [line for line in SCHEMA_FILE.read_text(encoding="utf-8").splitlines() if not line.startswith("--")]
    statements = "\n".join(lines).split(";\n")
    return [statement.strip().rstrip(";") for statement in statements if statement.strip()]


def load_schema(url: str) -> None:
    """(Re)create GLPI's tables in the database of `url`: existing ones are dropped first."""
    connection = connect(url)
    try:
        with connection.cursor() as cursor:
            for statement in schema_statements():
                cursor.execute(statement)
        connection.commit()
    finally:
        connection.close()
