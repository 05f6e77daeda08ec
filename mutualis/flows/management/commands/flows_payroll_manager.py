"""Name (or remove) a member's payroll manager: `mutualis flows_manager --flow rh-bulletin-salaire`, kept
under its first name."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser

from mutualis.flows.enums import FlowType
from mutualis.flows.management.commands.flows_manager import Command as FlowManagerCommand


class Command(FlowManagerCommand):
    help = "Désigne (ou retire) un gestionnaire de paie d'un adhérent : il voit et dépose ses bulletins de paie."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--member", required=True, help="identifiant (slug) de l'adhérent")
        parser.add_argument("--user", required=True, help="identifiant du compte de l'adhérent")
        parser.add_argument("--revoke", action="store_true", help="retirer le droit au lieu de le donner")

    def handle(self, *args: Any, **options: Any) -> None:
        super().handle(*args, **{**options, "flow": FlowType.PAYSLIP})
