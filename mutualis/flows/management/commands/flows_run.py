"""Advance every flow document whose next try or poll is due (run it every minute, or loop)."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from mutualis.flows import engine


class Command(BaseCommand):
    help = "Fait avancer les documents des flux dont le prochain essai est dû (envois, relevés d'état, reprises)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--limit", type=int, default=500, help="documents au plus par passage")
        parser.add_argument("--loop", type=float, default=0, help="repasser toutes les N secondes (0 : un passage)")

    def handle(self, *args: Any, **options: Any) -> None:
        while True:
            ids = engine.due_documents(now=timezone.now(), limit=options["limit"])
            states: dict[str, int] = {}
            for document_id in ids:
                state = engine.document_advance(document_id)
                states[state] = states.get(state, 0) + 1
            summary = ", ".join(f"{state} {n}" for state, n in sorted(states.items())) or "rien à faire"
            self.stdout.write(f"{len(ids)} document(s) : {summary}")
            if not options["loop"]:
                return
            time.sleep(options["loop"])
