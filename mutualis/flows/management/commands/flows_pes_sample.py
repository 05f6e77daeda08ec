"""Write a small PES Aller for a member, to try its Hélios flow on the local S²low or a test platform."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from mutualis.flows.formats.pes import sample_pes_aller
from mutualis.members.models import Organisation


class Command(BaseCommand):
    help = (
        "Écrit un fichier PES Aller d'essai (un bordereau de dépense) au SIRET d'un adhérent, pour essayer "
        "son flux Hélios sur le S²low local ou une plate-forme de test ; jamais pour un vrai comptable."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("member", help="identifiant (slug) de l'adhérent")
        parser.add_argument(
            "--number", type=int, default=1, help="numéro du bordereau (un fichier différent par numéro)"
        )
        parser.add_argument(
            "--output", "-o", help="fichier à écrire (par défaut : le nom du PES dans le dossier courant)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        member = Organisation.objects.filter(slug=options["member"]).first()
        if member is None:
            raise CommandError(f"adhérent inconnu : {options['member']}")
        if len(member.siren) != 9:
            raise CommandError(f"{member.name} n'a pas de SIREN : renseignez-le sur sa fiche")
        content = sample_pes_aller(
            siret=member.siren + "00017", label=member.name.upper(), day=timezone.localdate(), number=options["number"]
        )
        path = Path(options["output"] or f"PES_{member.slug}_{options['number']:04d}.xml")
        path.write_bytes(content)
        self.stdout.write(f"{path} ({len(content)} octets) : à déposer sur « Déposer un fichier PES » de {member.name}")
