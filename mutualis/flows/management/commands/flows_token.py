"""Create (or revoke) an API token for a business application: one member, one flow, one service account."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from mutualis.accounts.models import User
from mutualis.flows.enums import FlowType
from mutualis.flows.services import flow_token_create, flow_token_revoke
from mutualis.members.models import Organisation


class Command(BaseCommand):
    help = "Crée un jeton d'API de flux (affiché une seule fois) pour le compte de service d'un adhérent."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--member", help="identifiant (slug) de l'adhérent")
        parser.add_argument("--flow", choices=FlowType.values)
        parser.add_argument("--user", help="identifiant du compte de service de l'adhérent")
        parser.add_argument("--name", help="nom du jeton (l'application qui l'utilise)")
        parser.add_argument("--revoke", metavar="DÉBUT_DU_JETON", help="révoquer le jeton qui commence ainsi")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["revoke"]:
            try:
                count = flow_token_revoke(actor=None, prefix=options["revoke"])
            except ValidationError as error:
                raise CommandError(" ".join(error.messages)) from None
            self.stdout.write(f"{count} jeton(s) révoqué(s)")
            return
        if not all(options[name] for name in ("member", "flow", "user", "name")):
            raise CommandError("--member, --flow, --user et --name sont requis pour créer un jeton")
        member = Organisation.objects.filter(slug=options["member"]).first()
        user = User.objects.filter(username=options["user"]).first()
        if member is None or user is None:
            raise CommandError("adhérent ou compte inconnu")
        try:
            token, secret = flow_token_create(
                actor=None, user=user, member=member, flow=options["flow"], name=options["name"]
            )
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        self.stdout.write(f"Jeton « {token.name} » créé ; il ne sera plus affiché :")
        self.stdout.write(secret)
