"""Check every member's publication log chain; exit 1 and name the first broken entry when one is."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from mutualis.members.models import Organisation
from mutualis.publication.models import PublicationLogEntry
from mutualis.publication.selectors import verify_chain


class Command(BaseCommand):
    help = "Vérifie le chaînage du journal de publication de chaque adhérent (ou d'un seul)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--member", help="identifiant (slug) d'un adhérent ; tous ceux qui publient sinon")

    def handle(self, *args: Any, **options: Any) -> None:
        members = Organisation.objects.order_by("slug")
        if options["member"]:
            members = members.filter(slug=options["member"])
        else:
            members = members.filter(pk__in=PublicationLogEntry.objects.values("member_id"))
        broken = 0
        for member in members:
            check = verify_chain(member)
            if check.ok:
                self.stdout.write(f"{member.slug} : {check.entries} entrées, chaîne intacte")
            else:
                broken += 1
                self.stdout.write(f"{member.slug} : CHAÎNE ROMPUE à l'entrée {check.broken_seq} — {check.reason}")
        if broken:
            raise CommandError(f"{broken} journal(aux) de publication rompu(s)")
