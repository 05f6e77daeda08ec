"""Name (or remove) a member's payroll manager: the account that sees and uploads its payslips."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from mutualis.accounts.models import User
from mutualis.flows.payslips import payroll_manager_grant, payroll_manager_revoke
from mutualis.members.models import Organisation


class Command(BaseCommand):
    help = "Désigne (ou retire) un gestionnaire de paie d'un adhérent : il voit et dépose ses bulletins de paie."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--member", required=True, help="identifiant (slug) de l'adhérent")
        parser.add_argument("--user", required=True, help="identifiant du compte de l'adhérent")
        parser.add_argument("--revoke", action="store_true", help="retirer le droit au lieu de le donner")

    def handle(self, *args: Any, **options: Any) -> None:
        member = Organisation.objects.filter(slug=options["member"]).first()
        user = User.objects.filter(username=options["user"]).first()
        if member is None or user is None:
            raise CommandError("adhérent ou compte inconnu")
        try:
            if options["revoke"]:
                payroll_manager_revoke(actor=None, member=member, user=user, via="command")
            else:
                payroll_manager_grant(actor=None, member=member, user=user, via="command")
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        done = "n'est plus" if options["revoke"] else "est"
        self.stdout.write(f"{user.username} {done} gestionnaire de paie de {member.name}")
