"""Import a GLPI-like ticket history (CSV); the file is imported whole or not at all."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from mutualis.helpdesk.importer import ImportRejected, ticket_import


class Command(BaseCommand):
    help = "Importe un historique de tickets (CSV au format décrit dans docs/helpdesk-import.md)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="fichier CSV (UTF-8, séparateur virgule)")
        parser.add_argument("--dry-run", action="store_true", help="valider et résumer sans rien écrire")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        try:
            content = path.read_bytes()
        except OSError as error:
            raise CommandError(f"{path} : lecture impossible ({error.strerror})") from None
        try:
            result = ticket_import(actor=None, content=content, source=path.name, dry_run=options["dry_run"])
        except ImportRejected as rejected:
            for line in rejected.errors:
                self.stderr.write(line)
            raise CommandError(f"{path.name} : rien n'a été importé — {rejected.result.summary()}") from None
        self.stdout.write(self.style.SUCCESS(f"{path.name} : {result.summary()}"))
