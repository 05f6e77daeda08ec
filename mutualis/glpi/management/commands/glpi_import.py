"""Import the helpdesk history from GLPI's database (read-only); run it again to bring in what
changed since (the nightly runs of the switch-over)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser

from mutualis.core.commands import BatchCommand
from mutualis.glpi.importer import Options
from mutualis.glpi.mapping import MappingError, load_mapping
from mutualis.glpi.services import glpi_import
from mutualis.glpi.source import SourceError

BAR = 30


class Command(BatchCommand):
    help = (
        "Reprend l'historique du support depuis la base MariaDB/MySQL de GLPI (lecture seule) ; "
        "relancée, n'importe que ce qui a changé depuis (voir docs/glpi.md)."
    )
    limit_help = None
    lock_ttl = BatchCommand.lock_ttl * 6

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("--url", required=True, help="mysql://utilisateur:mot-de-passe@hôte:port/base")
        parser.add_argument("--mapping", required=True, type=Path, help="fichier de correspondances (TOML)")
        parser.add_argument(
            "--dry-run", action="store_true", help="afficher les correspondances et le rapport, ne rien écrire"
        )
        parser.add_argument(
            "--documents-dir", type=Path, default=None, help="dossier des documents de GLPI (GLPI_DOC_DIR)"
        )
        parser.add_argument(
            "--batch-size", type=int, default=1000, metavar="N", help="tickets par page (une transaction)"
        )

    def check_options(self, **options: Any) -> None:
        if options["batch_size"] < 1:
            raise CommandError("--batch-size : un entier positif est attendu")
        folder = options["documents_dir"]
        if folder is not None and not folder.is_dir():
            raise CommandError(f"--documents-dir : {folder} n'est pas un dossier")
        try:
            self.mapping = load_mapping(options["mapping"])
        except MappingError as error:
            raise CommandError(f"{options['mapping']} : {error}") from None

    def _progress(self, table: str, done: int, total: int) -> None:
        if self.lock is not None:
            self.lock.renew()
        now = time.monotonic()
        if done == 0:
            self.started = now
        rate = done / (now - self.started) if now > self.started else 0
        filled = BAR * done // total if total else BAR
        line = f"\r{table} [{'#' * filled}{'.' * (BAR - filled)}] {done}/{total} ({rate:.0f}/s)"
        if self.stderr.isatty():
            self.stderr.write(line, ending="")
        elif done == total:
            self.stderr.write(line.lstrip("\r"))

    def run(self, **options: Any) -> str:
        self.started = time.monotonic()
        try:
            outcome = glpi_import(
                url=options["url"],
                mapping=self.mapping,
                options=Options(
                    batch_size=options["batch_size"],
                    documents_dir=options["documents_dir"],
                    dry_run=options["dry_run"],
                ),
                progress=self._progress,
            )
        except SourceError as error:
            raise CommandError(str(error)) from None
        if self.stderr.isatty():
            self.stderr.write("")
        if outcome.mapping_text:
            self.stdout.write(outcome.mapping_text)
        self.stdout.write(outcome.report.text())
        counts = outcome.report.counts
        summary = (
            f"{counts['tickets created']} ticket(s) créé(s), {counts['tickets updated']} mis à jour, "
            f"{counts['tickets unchanged']} inchangé(s), "
            f"{len(outcome.report.differences)} délai(s) différent(s) de GLPI"
        )
        if outcome.run is None:
            return summary + " (simulation : rien n'a été écrit)"
        return summary + f" — reprise n° {outcome.run.pk}"
