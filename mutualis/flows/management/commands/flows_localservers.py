"""Start every local flow server (S²low, i-Parapheur 5 and 4, As@lae, Pastell) on its demo port, until Ctrl-C."""

from __future__ import annotations

import threading
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from mutualis.flows.localservers.launcher import DEMO_PORTS, start_all, stop_all


class Command(BaseCommand):
    help = "Démarre les serveurs locaux des flux (S²low, i-Parapheur 5 et 4, As@lae, Pastell) pour la démonstration."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--auto-after", type=int, default=2, help="le service distant répond de lui-même après N relevés d'état"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        running = start_all(DEMO_PORTS, auto_after=options["auto_after"])
        for item in running:
            self.stdout.write(f"{item.name} : {item.url}")
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass
        finally:
            stop_all(running)
