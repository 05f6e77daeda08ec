"""Synchronise a collectivity's agents directory from its HR export (CSV or XLSX), idempotently."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser

from mutualis.core.commands import BatchCommand
from mutualis.identity.hr_files import UNIT_COLUMNS, HRFileError, read_mapping, read_rows
from mutualis.identity.services import DirectorySyncRefused, directory_sync
from mutualis.members.models import Organisation


class Command(BatchCommand):
    help = "Synchronise l'annuaire des agents d'une collectivité depuis son export RH (CSV ou XLSX)."

    # A partial file would deactivate the agents it leaves out: no --limit.
    limit_help = None

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("file", type=Path, help="export RH (.csv ou .xlsx)")
        parser.add_argument("--collectivity", required=True, help="identifiant (slug) de la collectivité")
        parser.add_argument("--mapping", type=Path, help="correspondance JSON des en-têtes d'un autre logiciel RH")
        parser.add_argument("--units", type=Path, help="services de la collectivité (code, libelle, parent)")
        parser.add_argument("--encoding", default="utf-8", help="encodage d'un fichier CSV (défaut : utf-8)")
        parser.add_argument("--dry-run", action="store_true", help="simule : affiche le bilan sans rien écrire")
        parser.add_argument("--force", action="store_true", help="accepte un fichier désactivant beaucoup d'agents")

    def lock_name(self, options: dict[str, Any]) -> str:
        # two collectivities' syncs are independent; two of the same one must not interleave
        return f"{self.command_name}:{options['collectivity']}"

    def run(self, **options: Any) -> str:
        slug = options["collectivity"]
        collectivity = Organisation.objects.filter(slug=slug).first()
        if collectivity is None:
            raise CommandError(f"collectivité inconnue : {slug}")
        try:
            mapping = read_mapping(options["mapping"]) if options["mapping"] else None
            units = (
                read_rows(options["units"], encoding=options["encoding"], required=("code",), columns=UNIT_COLUMNS)
                if options["units"]
                else None
            )
            rows = read_rows(options["file"], mapping=mapping, encoding=options["encoding"])
            result = directory_sync(
                actor=None,
                collectivity=collectivity,
                rows=rows,
                units=units,
                dry_run=options["dry_run"],
                force=options["force"],
            )
        except (HRFileError, DirectorySyncRefused) as error:
            raise CommandError(f"rien n'a été écrit : {error}") from None
        for rejection in result.rejected:
            self.stderr.write(f"rejeté : {rejection}")
        return f"annuaire {collectivity.label} : {result.summary()}"
