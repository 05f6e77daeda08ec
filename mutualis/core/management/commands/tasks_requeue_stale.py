"""`mutualis tasks_requeue_stale`: requeue, once, the jobs a dead worker left running (cron)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from mutualis.core.jobs import job_requeue_stale


class Command(BaseCommand):
    help = (
        "Remet en file, une fois, les tâches restées « en cours » plus de MUTUALIS_TASKS_STALE_AFTER "
        "secondes (worker arrêté net) ; marque en échec celles déjà relancées une fois."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--stale-after", type=int, default=None, help="délai en secondes (défaut : MUTUALIS_TASKS_STALE_AFTER)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        result = job_requeue_stale(stale_after=options["stale_after"])
        self.stdout.write(
            f"tâches abandonnées : {len(result.requeued)} remise(s) en file, {len(result.failed)} en échec"
        )
