"""Reading GLPI's database, and only reading: a read-only session in one consistent snapshot,
big tables streamed by keyset pages, dates turned into aware datetimes whichever way GLPI
stores them (PHP's zone when its time zones are off, UTC `timestamp` columns when on)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo

import pymysql
import pymysql.cursors

Row = dict[str, Any]
UTC = dt.UTC


class SourceError(Exception):
    """GLPI's database cannot be read; the message says why."""


@dataclass(frozen=True)
class Location:
    host: str
    port: int
    user: str
    password: str
    database: str

    @property
    def label(self) -> str:
        """The URL without its password, for reports and the audit log."""
        return f"mysql://{self.user}@{self.host}:{self.port}/{self.database}"


def parse_url(url: str) -> Location:
    parts = urlsplit(url)
    if parts.scheme not in {"mysql", "mariadb"}:
        raise SourceError(
            f"« {parts.scheme}:// » : une adresse mysql://utilisateur:mot-de-passe@hôte:port/base est attendue"
        )
    database = parts.path.lstrip("/")
    if not database:
        raise SourceError("l'adresse ne nomme pas la base GLPI (mysql://…/base)")
    return Location(
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 3306,
        user=unquote(parts.username or ""),
        password=unquote(parts.password or ""),
        database=unquote(database),
    )


class Source:
    """One read-only connection to GLPI in a consistent snapshot: every page of a run sees GLPI
    as it was when the run started, whatever GLPI writes meanwhile."""

    def __init__(self, url: str, *, php_timezone: str) -> None:
        self.location = parse_url(url)
        try:
            self.connection = pymysql.connect(
                host=self.location.host,
                port=self.location.port,
                user=self.location.user,
                password=self.location.password,
                database=self.location.database,
                charset="utf8mb4",
                cursorclass=pymysql.cursors.DictCursor,
                autocommit=True,
            )
        except pymysql.MySQLError as error:
            raise SourceError(f"{self.location.label} : connexion impossible ({error.args[-1]})") from None
        self.timezones = self._timezones_on()
        # Time zones on: `timestamp` columns, read as UTC instants. Off: naive local times of PHP's zone.
        self.zone = UTC if self.timezones else ZoneInfo(php_timezone)
        with self.connection.cursor() as cursor:
            if self.timezones:
                cursor.execute("SET time_zone = '+00:00'")
            cursor.execute("SET SESSION TRANSACTION READ ONLY")
            cursor.execute("START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY")
        self.version = self.scalar("SELECT value FROM glpi_configs WHERE context = 'core' AND name = 'version'") or ""

    def close(self) -> None:
        try:
            self.connection.rollback()
        finally:
            self.connection.close()

    def _timezones_on(self) -> bool:
        with self.connection.cursor() as cursor:
            cursor.execute(
                "SELECT DATA_TYPE AS type FROM information_schema.COLUMNS"
                " WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'glpi_tickets' AND COLUMN_NAME = 'date'"
            )
            row = cursor.fetchone()
        if row is None:
            raise SourceError(f"{self.location.label} : pas de table glpi_tickets (est-ce bien la base de GLPI ?)")
        return str(row["type"]).lower() == "timestamp"

    def aware(self, value: dt.datetime | None) -> dt.datetime | None:
        """A GLPI date as an aware datetime (None stays None; GLPI's zero date too)."""
        if value is None or not isinstance(value, dt.datetime):
            return None
        return value.replace(tzinfo=self.zone)

    def scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        with self.connection.cursor() as cursor:
            cursor.execute(sql, params)
            row = cursor.fetchone()
        return next(iter(row.values())) if row else None

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        with self.connection.cursor() as cursor:
            cursor.execute(sql, params)
            return list(cursor.fetchall())

    def rows_in(self, sql: str, ids: Sequence[int], *, chunk: int = 5000) -> list[Row]:
        """`sql` with `IN %s` run over `ids` in chunks (a page's tickets)."""
        out: list[Row] = []
        for start in range(0, len(ids), chunk):
            out.extend(self.rows(sql, (tuple(ids[start : start + chunk]),)))
        return out

    @staticmethod
    def _after(position: tuple[dt.datetime | None, int]) -> tuple[str, tuple[Any, ...]]:
        """The keyset condition after `position` in (date_mod, id) order, NULL dates first (as
        MariaDB sorts them): two forms, each an indexed range read."""
        date_mod, last_id = position
        if date_mod is None:
            return "(date_mod IS NULL AND id > %s) OR date_mod IS NOT NULL", (last_id,)
        return "date_mod > %s OR (date_mod = %s AND id > %s)", (date_mod, date_mod, last_id)

    def pages(
        self, table: str, columns: str, *, after: tuple[dt.datetime | None, int], size: int
    ) -> Iterator[list[Row]]:
        """The table's rows in (date_mod, id) order after `after`, `size` at a time (keyset: each
        page is one range read on GLPI's date_mod index, however far the run is)."""
        position = after
        while True:
            condition, params = self._after(position)
            # Identifiers are the importer's constants; values are parameters.
            sql = f"SELECT {columns} FROM {table} WHERE {condition} ORDER BY date_mod, id LIMIT %s"  # noqa: S608
            page = self.rows(sql, (*params, size))
            if not page:
                return
            yield page
            position = (page[-1]["date_mod"], int(page[-1]["id"]))

    def count_after(self, table: str, *, after: tuple[dt.datetime | None, int]) -> int:
        condition, params = self._after(after)
        return int(self.scalar(f"SELECT COUNT(*) FROM {table} WHERE {condition}", params))  # noqa: S608
