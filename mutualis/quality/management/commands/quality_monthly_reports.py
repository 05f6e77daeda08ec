"""Monthly service reports: from the first working day of the month on (or for --month), it
archives each member's report for the previous month and mails it, once. `mutualis scheduler`
runs it on each month's first working day with --month, catching up every month missed."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser

from mutualis.core.commands import BatchCommand
from mutualis.quality.kpis import Month
from mutualis.quality.reports import monthly_reports_run


class Command(BatchCommand):
    help = (
        "Produit, archive et envoie le rapport de service mensuel de chaque adhérent "
        "(le premier jour ouvré du mois, pour le mois précédent)."
    )

    limit_help = "au plus N rapports produits par passage (les suivants au passage suivant)"

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument(
            "--month", help="mois du rapport, AAAA-MM (sinon : le mois précédent, le premier jour ouvré)"
        )
        parser.add_argument(
            "--force", action="store_true", help="produire une nouvelle version même si le rapport existe"
        )

    def run(self, **options: Any) -> str:
        try:
            month = Month.parse(options["month"]) if options["month"] else None
        except ValueError as error:
            raise CommandError(str(error)) from None
        summary = monthly_reports_run(
            month=month, force=options["force"], limit=options["limit"], progress=self.progress
        )
        if summary.month is None:
            return "rapports mensuels : avant le premier jour ouvré du mois, rien à faire"
        for report in summary.created:
            self.stdout.write(f"  {report.collectivity.slug} {report.month} v{report.version} {report.sha256[:12]}")
        return (
            f"rapports mensuels {summary.month} : {len(summary.created)} produit(s), {summary.skipped} déjà archivé(s)"
        )
