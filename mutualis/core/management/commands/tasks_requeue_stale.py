"""`mutualis tasks_requeue_stale`: requeue, once, the jobs a dead worker left running (the scheduler's job)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser

from mutualis.core.commands import BatchCommand
from mutualis.core.jobs import job_requeue_stale


class Command(BatchCommand):
    help = (
        "Remet en file, une fois, les tâches restées « en cours » plus de MUTUALIS_TASKS_STALE_AFTER "
        "secondes (worker arrêté net) ; marque en échec celles déjà relancées une fois."
    )

    limit_help = "au plus N tâches traitées par passage (les suivantes au passage suivant)"

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument(
            "--stale-after", type=int, default=None, help="délai en secondes (défaut : MUTUALIS_TASKS_STALE_AFTER)"
        )

    def run(self, **options: Any) -> str:
        result = job_requeue_stale(stale_after=options["stale_after"], limit=options["limit"])
        return f"tâches abandonnées : {len(result.requeued)} remise(s) en file, {len(result.failed)} en échec"
