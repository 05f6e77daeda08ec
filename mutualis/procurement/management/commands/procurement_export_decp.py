"""Write a year's contracts as DECP 2.0.3 JSON on standard output (validated before writing)."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from mutualis.lib.periods import parse_year
from mutualis.procurement.decp import schema_errors
from mutualis.procurement.exports_decp import decp_export, decp_threshold


class Command(BaseCommand):
    help = "Écrit les données essentielles (DECP 2.0.3) des marchés notifiés une année donnée."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--year", required=True, help="année de notification, AAAA")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            year = parse_year(options["year"])
        except ValueError as error:
            raise CommandError(str(error)) from None
        export = decp_export(year=year)
        errors = schema_errors(export.document)
        if errors:  # a bug of ours: never publish an invalid file
            raise CommandError("export DECP non conforme au schéma :\n" + "\n".join(errors))
        self.stdout.write(json.dumps(export.document, ensure_ascii=False, indent=2))
        for code, missing in export.skipped.items():
            self.stderr.write(f"{code} non publié, manque : {', '.join(missing)}")
        count = len(export.document["marches"]["marche"])
        self.stderr.write(
            f"DECP {year} : {count} entrée(s) publiée(s), {len(export.skipped)} marché(s) incomplet(s) "
            f"(seuil {decp_threshold()} € HT)"
        )
