"""Import a budget's execution by chapter from CSV/XLSX or SCDL budget 0.8.3 (all or nothing)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.http import Http404

from mutualis.finance import selectors, services


class Command(BaseCommand):
    help = "Importe l'exécution par chapitre d'un budget (CSV, XLSX ou SCDL budget 0.8.3)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--budget", required=True, help="identifiant du budget de l'opérateur")
        parser.add_argument("--replace", action="store_true", help="remplacer un exercice déjà chargé")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        try:
            budget = selectors.budget_get(actor=None, slug=options["budget"])
            result = services.execution_import(
                actor=None,
                budget=budget,
                content=path.read_bytes(),
                filename=path.name,
                replace=options["replace"],
                via="cli",
            )
        except FileNotFoundError:
            raise CommandError(f"{path} : fichier introuvable") from None
        except Http404 as error:
            raise CommandError(str(error)) from None
        except ValidationError as error:
            raise CommandError("import refusé, rien n'a été écrit :\n" + "\n".join(error.messages)) from None
        years = ", ".join(str(y) for y in result.years)
        self.stdout.write(f"{budget.slug} : {result.lines} ligne(s) importée(s) ({result.format}) pour {years}")
