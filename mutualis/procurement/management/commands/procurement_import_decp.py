"""Import the contracts (marchés) of a DECP 2.0.3 JSON file; nothing is written if it is invalid."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from mutualis.procurement.services import decp_import


class Command(BaseCommand):
    help = "Importe les marchés d'un fichier DECP 2.0.3 (JSON)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="fichier DECP JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        try:
            content = path.read_bytes()
        except OSError as error:
            raise CommandError(f"{path} : lecture impossible ({error.strerror})") from None
        try:
            result = decp_import(actor=None, content=content, source=path.name)
        except ValidationError as error:
            raise CommandError("rien n'a été importé :\n" + "\n".join(error.messages)) from None
        for item in result.skipped:
            self.stderr.write(f"ignoré : {item}")
        self.stdout.write(
            self.style.SUCCESS(
                f"DECP {path.name} : {len(result.created)} marché(s) créé(s), {len(result.updated)} mis à jour, "
                f"{len(result.skipped)} ignoré(s)"
            )
        )
