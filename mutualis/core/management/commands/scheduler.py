"""`mutualis scheduler`: run the periodic jobs the apps registered, each period once across machines."""

from __future__ import annotations

import signal
from types import FrameType
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from mutualis.core.models import RunOutcome
from mutualis.core.scheduler import Scheduler, job_rows, registered_jobs
from mutualis.core.timefmt import local_datetime


class Command(BaseCommand):
    help = (
        "Planificateur des tâches périodiques : un passage toutes les 30 secondes, chaque période "
        "de chaque tâche exécutée une seule fois même avec plusieurs planificateurs ; SIGTERM arrête "
        "proprement après la tâche en cours."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument("--once", action="store_true", help="un seul passage, puis sortir (1 si une tâche échoue)")
        mode.add_argument(
            "--list", action="store_true", help="affiche les tâches, leur dernière exécution et la suivante"
        )
        parser.add_argument(
            "--interval", type=float, default=30, metavar="SECONDES", help="délai entre deux passages (défaut : 30)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["list"]:
            self.list_jobs()
            return
        scheduler = Scheduler()
        if options["once"]:
            runs = scheduler.tick()
            scheduler.finish()
            for run in runs:
                self.stdout.write(f"{run.job} ({local_datetime(run.due_at)}) : {run.get_outcome_display()}")
                if run.error.strip():
                    self.stderr.write(f"  {run.error.strip().splitlines()[-1]}")
            failed = sum(run.outcome == RunOutcome.FAILURE for run in runs)
            summary = f"planificateur : {len(runs)} exécution(s), {failed} en échec"
            if failed:
                raise CommandError(summary)
            self.stdout.write(self.style.SUCCESS(summary))
            return

        def on_signal(signum: int, frame: FrameType | None) -> None:
            self.stderr.write(f"planificateur : signal {signum}, arrêt après la tâche en cours")
            scheduler.stop()

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
        self.stdout.write(
            f"planificateur {scheduler.holder} : {len(registered_jobs())} tâche(s), "
            f"un passage toutes les {options['interval']:g} s"
        )
        self.stdout.flush()
        scheduler.run_forever(interval=options["interval"])
        self.stdout.write("planificateur arrêté")

    def list_jobs(self) -> None:
        now = timezone.now()
        states = {"active": "active", "paused": "suspendue", "disabled": "non configurée"}
        for row in job_rows(now=now):
            run = row.last_run
            if run is None:
                last = "jamais exécutée"
            else:
                duration = f", {run.duration.total_seconds():.1f} s" if run.duration else ""
                last = f"{local_datetime(run.started_at)} {run.get_outcome_display()}{duration} ({run.host})"
                if run.error.strip():
                    last += f" : {run.error.strip().splitlines()[-1]}"
            if row.next_due is None:
                upcoming = "—"
            else:
                upcoming = local_datetime(row.next_due) if row.next_due > now else "maintenant"
            self.stdout.write(
                f"{row.job.name}\n  {row.job.command_line} — {row.job.period.label} — {states[row.state]}\n"
                f"  dernière : {last}\n  prochaine : {upcoming}{' (en retard)' if row.late else ''}"
            )
