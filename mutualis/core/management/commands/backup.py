"""`mutualis backup [--output FILE]`: one archive of the database and the media, with its manifest."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from mutualis.core.backup import BackupError, backup_create


class Command(BaseCommand):
    help = _(
        "Sauvegarde la base de données et les fichiers (dossier local ou S3) dans une archive avec son "
        "manifeste et ses empreintes ; fonctionne pendant que le site sert."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--output",
            type=Path,
            default=None,
            metavar="FICHIER",
            help=_(
                "archive à écrire (.tar.gz, .tgz, .tar.xz ou .tar) ; défaut : "
                "MUTUALIS_BACKUP_DIR/mutualis-<date>.tar.gz"
            ),
        )
        parser.add_argument(
            "--keep",
            type=int,
            default=None,
            metavar="N",
            help=_("archives gardées dans MUTUALIS_BACKUP_DIR (défaut : MUTUALIS_BACKUP_KEEP)"),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["keep"] is not None and options["keep"] < 1:
            raise CommandError(_("--keep : au moins 1"))
        try:
            result = backup_create(output=options["output"], keep=options["keep"])
        except BackupError as error:
            raise CommandError(str(error)) from None
        manifest = result.manifest
        for path in result.pruned:
            self.stdout.write(_("ancienne archive supprimée : %(name)s") % {"name": path.name})
        self.stdout.write(
            self.style.SUCCESS(
                _(
                    "sauvegarde : %(path)s (%(size)s, %(tables)d tables, %(rows)d lignes, %(files)d fichiers, "
                    "%(seconds).1f s) sha256 %(sha)s"
                )
                % {
                    "path": result.path,
                    "size": filesizeformat(result.size),
                    "tables": len(manifest["tables"]),
                    "rows": sum(manifest["tables"].values()),
                    "files": len(manifest["media"]["files"]),
                    "seconds": result.seconds,
                    "sha": result.sha256,
                }
            )
        )
