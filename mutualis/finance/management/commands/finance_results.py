"""Print a budget year's results and their allocation (R001/R002, restes à réaliser, 1068)."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.http import Http404

from mutualis.finance import selectors
from mutualis.finance.computations import FinanceInputError
from mutualis.finance.formatting import euros


class Command(BaseCommand):
    help = "Affiche les résultats d'un exercice et leur affectation (JSON ou texte)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--budget", required=True, help="identifiant du budget (principal, tno…)")
        parser.add_argument("--year", type=int, required=True, help="exercice, par exemple 2022")
        parser.add_argument("--format", choices=["json", "text"], default="text")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            budget = selectors.budget_get(actor=None, slug=options["budget"])
            budget_year = selectors.budget_year_get(budget=budget, year=options["year"])
            document = selectors.results_json(budget_year)
        except (Http404, FinanceInputError) as error:
            raise CommandError(str(error)) from None
        if options["format"] == "json":
            self.stdout.write(json.dumps(document, ensure_ascii=False, indent=2))
            return
        from decimal import Decimal

        for section in ("fonctionnement", "investissement"):
            self.stdout.write(section)
            for key, value in document[section].items():
                self.stdout.write(f"  {key:<20} {euros(Decimal(value)):>20}")
        for key in (
            "besoin_financement_investissement",
            "affectation_1068",
            "report_fonctionnement",
            "resultat_global_net_rar",
        ):
            self.stdout.write(f"{key:<36} {euros(Decimal(document[key])):>20}")
        for warning in document["warnings"]:
            self.stderr.write(f"attention : {warning['message']}")
