"""`mutualis db_worker`: django-tasks-db's worker, which also requeues the jobs of dead workers."""

from __future__ import annotations

import logging
import threading
from typing import Any

from django.conf import settings
from django.db import connections
from django_tasks_db.management.commands.db_worker import Command as LibraryWorkerCommand

from mutualis.core.jobs import job_requeue_stale

logger = logging.getLogger("mutualis.core.jobs")


class StaleJobReaper:
    """Runs `job_requeue_stale` in a thread beside the worker loop, every `interval` seconds,
    so a job lost by another worker comes back even while this one sits idle."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="stale-job-reaper", daemon=True)

    def reap(self) -> None:
        try:
            job_requeue_stale()
        except Exception:  # a reaper pass that fails (database away) must not stop the worker
            logger.exception("stale job reaper: this pass failed, the next one retries")

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _loop(self) -> None:
        try:
            while not self._stop.wait(self.interval):
                self.reap()
                # The thread's own connections: closed so none is held open between passes.
                connections.close_all()
        finally:
            connections.close_all()


def reap_interval(stale_after: int) -> float:
    """A quarter of the timeout, within [1 s, 60 s]: a lost job waits at most 1.25 × the timeout."""
    return float(min(60, max(1, stale_after // 4)))


class Command(LibraryWorkerCommand):
    help = (
        "Runs background tasks (django-tasks-db's worker). At start, then every few seconds, puts "
        "back in the queue, once, the jobs a dead worker left running for more than "
        "MUTUALIS_TASKS_STALE_AFTER seconds."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        reaper = StaleJobReaper(reap_interval(settings.TASKS_STALE_AFTER))
        reaper.reap()  # a worker (re)started after a crash picks up what the crash left behind
        reaper.start()
        try:
            super().handle(*args, **options)
        finally:
            reaper.stop()
