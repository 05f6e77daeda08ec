"""Write a budget year's execution as SCDL budget 0.8.3 CSV (validated against the schema)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.http import Http404

from mutualis.finance import exports, selectors


class Command(BaseCommand):
    help = "Écrit l'exécution d'un exercice au format SCDL budget 0.8.3 (CSV) sur la sortie standard."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--budget", required=True)
        parser.add_argument("--year", type=int, required=True)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            budget = selectors.budget_get(actor=None, slug=options["budget"])
            budget_year = selectors.budget_year_get(budget=budget, year=options["year"])
            text = exports.scdl_csv(budget_year)
        except Http404 as error:
            raise CommandError(str(error)) from None
        except ValidationError as error:
            raise CommandError("\n".join(error.messages)) from None
        self.stdout.write(text, ending="")
