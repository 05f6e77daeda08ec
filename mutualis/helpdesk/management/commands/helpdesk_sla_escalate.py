"""Service-level sweep: tell each open ticket's group at 50/75/100 % of a clock's budget and mark
breaches (idempotent: each level is told once). Run it every few minutes (cron or a timer)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from mutualis.helpdesk.services import sla_escalate


class Command(BaseCommand):
    help = "Alerte les groupes des demandes dont les délais atteignent 50, 75 ou 100 % et marque les dépassements."

    def handle(self, *args: Any, **options: Any) -> None:
        events = sla_escalate()
        self.stdout.write(f"niveaux de service : {events} alerte(s) enregistrée(s)")
