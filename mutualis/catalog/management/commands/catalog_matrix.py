"""Print the deployment matrix (every member, every application) as CSV or JSON."""

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from mutualis.accounts.models import Role, User
from mutualis.catalog.exports import matrix_header, matrix_json, matrix_rows
from mutualis.catalog.selectors import deployment_matrix
from mutualis.lib.tabular import PEOPLE, to_csv


class Command(BaseCommand):
    help = "Affiche la matrice des déploiements (applications × adhérents)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--format", choices=["csv", "json"], default="csv")
        parser.add_argument("--status", default="", help="statut compté (défaut : en production ou en déploiement)")

    def handle(self, *args: Any, **options: Any) -> None:
        # The command runs with the operator's view: every member.
        system = User(username="cli", role=Role.OPERATOR_ADMIN)
        matrix = deployment_matrix(actor=system, status=options["status"] or None)
        if options["format"] == "json":
            self.stdout.write(json.dumps(matrix_json(matrix), ensure_ascii=False, indent=2))
        else:
            self.stdout.write(to_csv(matrix_header(matrix), matrix_rows(matrix), dialect=PEOPLE), ending="")
