"""Inserting many rows at once without the ORM's per-value work: COPY on PostgreSQL, one prepared
statement on SQLite. For measured bulk paths only (a 30,000-agent directory sync); the rows' values
must already be adapted for the database."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from django.db import connection, models


def insert_rows(model: type[models.Model], names: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
    """INSERT `rows` (values in `names` order, already adapted for the database).

    bulk_create costs ~0.3 ms per 15-column row, spent preparing each value through the field
    API: 85 % of a 30,000-agent sync. Here the caller adapts the few values that need it (dates,
    JSON) and the rows go as one COPY on PostgreSQL (a multi-row INSERT there spends seconds
    quoting parameters client-side), as one prepared statement run on SQLite."""
    if not rows:
        return
    quote = connection.ops.quote_name
    opts = model._meta
    fields = [cast(models.Field, opts.get_field(name)) for name in names]  # concrete fields, not relations
    table, columns = quote(opts.db_table), ", ".join(quote(str(field.column)) for field in fields)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            placeholders = ", ".join(["%s"] * len(names))
            cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({placeholders})", rows)  # noqa: S608
