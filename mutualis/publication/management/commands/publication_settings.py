"""Set which natures of acts a member publishes and the author named on them."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from mutualis.members.models import Organisation
from mutualis.publication.services import publication_settings_update, settings_of


class Command(BaseCommand):
    help = (
        "Règle la publication des actes d'un adhérent : les natures publiées (1 délibérations, 2 actes "
        "réglementaires, 5 budgétaires par défaut) et l'auteur nommé sur chaque acte (nom, prénom, qualité)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--member", required=True, help="identifiant (slug) de l'adhérent")
        parser.add_argument("--natures", help="natures publiées, séparées par des virgules : 1,2,5")
        parser.add_argument("--author-name", help="nom et prénom de l'auteur : « Claire Martin »")
        parser.add_argument("--author-title", help="qualité de l'auteur : « maire »")

    def handle(self, *args: Any, **options: Any) -> None:
        member = Organisation.objects.filter(slug=options["member"]).first()
        if member is None:
            raise CommandError("adhérent inconnu")
        current = settings_of(member)
        try:
            natures = (
                [int(n) for n in options["natures"].split(",") if n.strip()]
                if options["natures"] is not None
                else current.natures
            )
            row = publication_settings_update(
                actor=None,
                member=member,
                natures=natures,
                author_name=options["author_name"] if options["author_name"] is not None else current.author_name,
                author_title=options["author_title"] if options["author_title"] is not None else current.author_title,
                via="command",
            )
        except (ValueError, ValidationError) as error:
            raise CommandError(f"réglage refusé : {error}") from None
        natures_text = ", ".join(str(n) for n in row.natures) or "aucune"
        self.stdout.write(
            f"{member.slug} : natures publiées {natures_text} ; auteur {row.author_name}, {row.author_title}"
        )
