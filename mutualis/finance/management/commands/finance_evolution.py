"""Print the five-year table's totals and evolutions per section and side."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.http import Http404

from mutualis.finance import selectors


class Command(BaseCommand):
    help = "Affiche, par section et sens, les totaux annuels et leurs évolutions (en %, à une décimale)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--budget", required=True, help="identifiant du budget (principal, tno…)")
        parser.add_argument("--from", dest="first", type=int, required=True, help="première année")
        parser.add_argument("--to", dest="last", type=int, required=True, help="dernière année")
        parser.add_argument("--format", choices=["json", "text"], default="text")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            budget = selectors.budget_get(actor=None, slug=options["budget"])
            document = selectors.evolution_json(budget, first=options["first"], last=options["last"])
        except (Http404, ValueError) as error:
            raise CommandError(str(error)) from None
        if options["format"] == "json":
            self.stdout.write(json.dumps(document, ensure_ascii=False, indent=2))
            return
        for key, table in document.items():
            if not isinstance(table, dict):
                continue
            self.stdout.write(key)
            for year, total in table["totals"].items():
                rate = table["yearly_evolution_pct"].get(year)
                self.stdout.write(f"  {year} {total:>16} {'' if rate is None else rate + ' %':>9}")
            self.stdout.write(
                f"  évolution {options['first']}-{options['last']} : {table['first_to_last_evolution_pct']} % ; "
                f"moyenne annuelle : {table['average_yearly_evolution_pct']} %"
            )
