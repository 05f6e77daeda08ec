"""`mutualis idempotency_keys_purge`: forget the API's idempotency keys older than 24 hours (the scheduler's job)."""

from __future__ import annotations

from typing import Any

from mutualis.core.commands import BatchCommand
from mutualis.core.idempotency import idempotency_keys_purge


class Command(BatchCommand):
    help = "Oublie les clés d'idempotence de l'API de plus de 24 heures."

    limit_help = None

    def run(self, **options: Any) -> str:
        return f"clés d'idempotence oubliées : {idempotency_keys_purge()}"
