"""Mail the resources team about contracts 90, 60 and 30 days from a renewal decision or an end
(idempotent: what was sent is recorded, a second run sends nothing new)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from mutualis.procurement.services import alert_recipients, contract_alerts_send


class Command(BaseCommand):
    help = "Alerte le pôle ressources des reconductions et fins de marchés à 90, 60 et 30 jours."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--today", type=dt.date.fromisoformat, default=None, help="date de référence (AAAA-MM-JJ)")

    def handle(self, *args: Any, **options: Any) -> None:
        if not alert_recipients():
            self.stderr.write("aucun destinataire : ni MUTUALIS_PROCUREMENT_NOTIFY_TO ni compte du pôle ressources")
        sent = contract_alerts_send(today=options["today"])
        self.stdout.write(f"alertes marchés : {len(sent)} échéance(s) signalée(s)")
