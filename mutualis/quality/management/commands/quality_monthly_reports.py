"""Monthly service reports: run it every day from cron; from the first working day of the month on
(or for --month), it archives each member's report for the previous month and mails it, once: a
missed day is caught up by the next run."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from mutualis.quality.kpis import Month
from mutualis.quality.reports import monthly_reports_run


class Command(BaseCommand):
    help = (
        "Produit, archive et envoie le rapport de service mensuel de chaque adhérent "
        "(le premier jour ouvré du mois, pour le mois précédent)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--month", help="mois du rapport, AAAA-MM (sinon : le mois précédent, le premier jour ouvré)"
        )
        parser.add_argument(
            "--force", action="store_true", help="produire une nouvelle version même si le rapport existe"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            month = Month.parse(options["month"]) if options["month"] else None
        except ValueError as error:
            raise CommandError(str(error)) from None
        summary = monthly_reports_run(month=month, force=options["force"])
        if summary.month is None:
            self.stdout.write("rapports mensuels : avant le premier jour ouvré du mois, rien à faire")
            return
        for report in summary.created:
            self.stdout.write(f"  {report.collectivity.slug} {report.month} v{report.version} {report.sha256[:12]}")
        self.stdout.write(
            f"rapports mensuels {summary.month} : {len(summary.created)} produit(s), {summary.skipped} déjà archivé(s)"
        )
