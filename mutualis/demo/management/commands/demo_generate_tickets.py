"""Write (or rewrite) the demo's helpdesk history: months of tickets calibrated on the reference operator."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from mutualis.demo.generator import generate


class Command(BaseCommand):
    help = (
        "Génère l'historique de démonstration de l'assistance (environ 335 tickets par mois, pic vers 436), "
        "en remplaçant celui d'une exécution précédente ; les vrais tickets ne sont pas touchés."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--months", type=int, default=24, help="nombre de mois, jusqu'au mois courant (défaut : 24)"
        )
        parser.add_argument("--seed", type=int, default=42, help="graine : même graine, même historique (défaut : 42)")

    def handle(self, *args: Any, **options: Any) -> None:
        start = time.perf_counter()
        try:
            result = generate(months=options["months"], seed=options["seed"])
        except ValueError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(f"{result.summary()} ({time.perf_counter() - start:.1f} s)")
