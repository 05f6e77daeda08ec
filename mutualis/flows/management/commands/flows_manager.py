"""Name (or remove) a manager of one of a member's flows (flows/rights.py says what the right gives)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from mutualis.accounts.models import User
from mutualis.flows.enums import FlowType
from mutualis.flows.rights import flow_manager_grant, flow_manager_revoke
from mutualis.members.models import Organisation


class Command(BaseCommand):
    help = (
        "Désigne (ou retire) un gestionnaire d'un flux d'un adhérent : seul à voir les bulletins de paie et "
        "les fichiers PES de l'adhérent, seul à déposer dans un flux qui a des gestionnaires."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--member", required=True, help="identifiant (slug) de l'adhérent")
        parser.add_argument("--flow", required=True, choices=FlowType.values, help="le flux")
        parser.add_argument("--user", required=True, help="identifiant du compte de l'adhérent")
        parser.add_argument("--revoke", action="store_true", help="retirer le droit au lieu de le donner")

    def handle(self, *args: Any, **options: Any) -> None:
        member = Organisation.objects.filter(slug=options["member"]).first()
        user = User.objects.filter(username=options["user"]).first()
        if member is None or user is None:
            raise CommandError("adhérent ou compte inconnu")
        flow = FlowType(options["flow"])
        try:
            if options["revoke"]:
                removed = flow_manager_revoke(actor=None, member=member, flow=flow, user=user, via="command")
            else:
                flow_manager_grant(actor=None, member=member, flow=flow, user=user, via="command")
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        if not options["revoke"]:
            self.stdout.write(f"{user.username} est gestionnaire du flux « {flow.label} » de {member.name}")
        elif removed:
            self.stdout.write(f"{user.username} n'est plus gestionnaire du flux « {flow.label} » de {member.name}")
        else:
            self.stdout.write(f"{user.username} n'était pas gestionnaire du flux « {flow.label} » de {member.name}")
