"""Load the reference operator's public data set and the demo accounts (idempotent)."""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from mutualis.demo.loader import DEFAULT_FILE, DemoFileError, demo_accounts_text, load_demo, read


class Command(BaseCommand):
    help = "Charge les données publiques de l'opérateur de référence et les comptes de démonstration."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--file", type=Path, default=DEFAULT_FILE, help="fichier JSON à charger")
        parser.add_argument(
            "--accounts", action="store_true", help="affiche seulement les comptes de démonstration, sans rien charger"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["accounts"]:
                self.stdout.write(demo_accounts_text(read(options["file"])))
                return
            counts = load_demo(path=options["file"])
            accounts = demo_accounts_text(read(options["file"]))
        except DemoFileError as error:
            raise CommandError(f"demo data not loaded, nothing written:\n{error}") from None
        summary = ", ".join(f"{name} {value}" for name, value in counts.items())
        self.stdout.write(self.style.SUCCESS(f"demo loaded: {summary}"))
        self.stdout.write(accounts)
