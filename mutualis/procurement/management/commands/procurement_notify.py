"""Mail the resources team about contracts 90, 60 and 30 days from a renewal decision or an end
(idempotent: what was sent is recorded, a second run sends nothing new)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import CommandParser

from mutualis.core.commands import BatchCommand
from mutualis.procurement.services import alert_recipients, contract_alerts_send


class Command(BatchCommand):
    help = "Alerte le pôle ressources des reconductions et fins de marchés à 90, 60 et 30 jours."

    limit_help = "au plus N échéances signalées par passage (les suivantes au passage suivant)"

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("--today", type=dt.date.fromisoformat, default=None, help="date de référence (AAAA-MM-JJ)")

    def run(self, **options: Any) -> str:
        if not alert_recipients():
            self.stderr.write("aucun destinataire : ni MUTUALIS_PROCUREMENT_NOTIFY_TO ni compte du pôle ressources")
        sent = contract_alerts_send(today=options["today"], limit=options["limit"])
        return f"alertes marchés : {len(sent)} échéance(s) signalée(s)"
