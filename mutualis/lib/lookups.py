"""`field__in_literal=(...)`: an IN whose values are written into the SQL instead of bound.

SQLite uses a partial index only when the query repeats the index's condition literally; with
bound parameters (`status IN (?, ?, ?, ?)`) it cannot prove the condition and falls back to a
worse index. Register it on the fields whose partial indexes matter, and give it constants only
(enum values), never input: they are quoted here, but they are not parameters."""

from __future__ import annotations

from typing import Any

from django.db.models import Lookup


class InLiteral(Lookup):  # type: ignore[type-arg]
    lookup_name = "in_literal"
    prepare_rhs = False

    def as_sql(self, compiler: Any, connection: Any) -> Any:
        lhs, params = self.process_lhs(compiler, connection)
        values = list(self.rhs)
        if not values or not all(isinstance(v, str) for v in values):
            raise ValueError("in_literal takes a non-empty sequence of constant strings")
        quoted = ", ".join("'" + value.replace("'", "''") + "'" for value in values)
        return f"{lhs} IN ({quoted})", tuple(params)
