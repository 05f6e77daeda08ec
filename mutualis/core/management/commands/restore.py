"""`mutualis restore FILE [--force]`: checks an archive of `mutualis backup`, then puts it back."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from mutualis.core.backup import BackupError, archive_time, backup_restore, backup_verify


class Command(BaseCommand):
    help = _(
        "Restaure une archive de « mutualis backup » : vérifie toutes les empreintes avant de toucher à quoi "
        "que ce soit, remplace la base et les fichiers, puis compare les lignes et les fichiers au manifeste. "
        "Arrêter d'abord les serveurs d'application, les workers et le planificateur."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("archive", type=Path, metavar="FICHIER")
        parser.add_argument(
            "--force",
            action="store_true",
            help=_("remplacer une base qui contient des données sans demander confirmation"),
        )
        parser.add_argument(
            "--check",
            action="store_true",
            help=_("vérifier seulement l'archive (empreintes, manifeste) sans rien restaurer"),
        )

    def confirm(self, question: str) -> bool:
        if not sys.stdin.isatty():
            return False
        self.stdout.write(question)
        return input(_("Taper « oui » pour continuer : ")).strip().lower() == "oui"

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["check"]:
                verified = backup_verify(options["archive"])
                manifest = verified.manifest
                self.stdout.write(
                    self.style.SUCCESS(
                        _("archive intègre : %(name)s, %(engine)s, du %(when)s, %(tables)d tables, %(files)d fichiers")
                        % {
                            "name": verified.path.name,
                            "engine": manifest["engine"],
                            "when": archive_time(manifest),
                            "tables": len(manifest["tables"]),
                            "files": len(verified.files),
                        }
                    )
                )
                return
            report = backup_restore(path=options["archive"], force=options["force"], confirm=self.confirm)
        except BackupError as error:
            raise CommandError(str(error)) from None
        for line in report.mismatches:
            self.stderr.write(line)
        summary = _(
            "restauration de %(name)s (du %(when)s) : %(tables)d tables, %(rows)d lignes ; fichiers : %(written)d "
            "écrits, %(same)d déjà identiques, %(deleted)d supprimés ; %(seconds).1f s"
        ) % {
            "name": report.archive.name,
            "when": archive_time(report.manifest),
            "tables": report.tables_checked,
            "rows": report.rows,
            "written": report.files_written,
            "same": report.files_unchanged,
            "deleted": report.files_deleted,
            "seconds": report.seconds,
        }
        if not report.ok:
            raise CommandError(
                summary
                + "\n"
                + _("%(n)d différences avec le manifeste (ci-dessus) : le site a-t-il écrit pendant la restauration ?")
                % {"n": len(report.mismatches)}
            )
        self.stdout.write(self.style.SUCCESS(summary + " — " + _("lignes et empreintes conformes au manifeste")))
        if report.pending_migrations:
            self.stdout.write(
                _("%(n)d migrations de ce code restent à appliquer : lancer « mutualis migrate »")
                % {"n": report.pending_migrations}
            )
