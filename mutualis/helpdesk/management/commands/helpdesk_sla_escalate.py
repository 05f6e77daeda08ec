"""Service-level sweep: tell each open ticket's group at 50/75/100 % of a clock's budget and mark
breaches (idempotent: each level is told once). `mutualis scheduler` runs it every 5 minutes."""

from __future__ import annotations

from typing import Any

from mutualis.core.commands import BatchCommand
from mutualis.helpdesk.services import sla_escalate


class Command(BatchCommand):
    help = "Alerte les groupes des demandes dont les délais atteignent 50, 75 ou 100 % et marque les dépassements."

    # Every open ticket stays a candidate after a pass: a run cut at N tickets would starve the
    # others, so no --limit (the sweep already commits by batches of ESCALATION_BATCH).
    limit_help = None

    def run(self, **options: Any) -> str:
        events = sla_escalate(progress=self.progress)
        return f"niveaux de service : {events} alerte(s) enregistrée(s)"
