"""Background jobs left behind by a dead worker: put back in the queue once, then given up.

`django-tasks-db` marks a job RUNNING when a worker claims it and only a living worker ever
moves it on; a worker killed mid-task (`kill -9`, out of memory, a lost machine) leaves it
RUNNING for ever, so its mail never leaves. The reaper gives such a job back to the queue once
it has been running longer than `TASKS_STALE_AFTER` seconds (no task of ours runs that long);
a job whose second run dies too is marked FAILED rather than allowed to kill workers in a loop.
Every task is covered, whatever its app.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from mutualis.core.actors import Actor, Visitor
from mutualis.core.audit import audit_record
from mutualis.core.models import AuditAction
from mutualis.core.tenancy import require_operator_admin

logger = logging.getLogger("mutualis.core.jobs")

# A job is claimed once per run (the worker appends its id to `worker_ids`): a job lost after
# this many claims is not run again.
MAX_CLAIMS = 2
LOST_WORKER = "mutualis.core.jobs.WorkerLost"


class WorkerLost(Exception):
    """The worker running the job stopped without finishing it (recorded, never raised)."""


@dataclass
class ReapResult:
    requeued: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


def job_requeue_stale(
    *, now: dt.datetime | None = None, stale_after: int | None = None, limit: int | None = None
) -> ReapResult:
    """Requeue (READY) the RUNNING jobs claimed more than `stale_after` seconds ago, once each;
    mark FAILED those already run twice. With `limit`, at most that many jobs, the oldest first
    (the others stay RUNNING for the next pass).

    Each row changes through an UPDATE conditioned on the state this pass read (RUNNING, the
    same `started_at`): of two reapers, or a reaper and a worker finishing late, one wins."""
    from django_tasks_db.compat import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    now = now or timezone.now()
    stale_after = settings.TASKS_STALE_AFTER if stale_after is None else stale_after
    cutoff = now - dt.timedelta(seconds=stale_after)
    result = ReapResult()
    stale = DBTaskResult.objects.filter(status=TaskResultStatus.RUNNING, started_at__lt=cutoff).only(
        "id", "started_at", "worker_ids", "task_path"
    )
    if limit is not None:
        stale = stale.order_by("started_at", "pk")[:limit]
    for job in stale:
        seen = DBTaskResult.objects.filter(pk=job.pk, status=TaskResultStatus.RUNNING, started_at=job.started_at)
        with transaction.atomic():
            if len(job.worker_ids) < MAX_CLAIMS:
                won = seen.update(status=TaskResultStatus.READY, run_after=now)
                if won:
                    result.requeued.append(str(job.pk))
                    _audit(job, "requeued", now)
            else:
                won = seen.update(
                    status=TaskResultStatus.FAILED,
                    finished_at=now,
                    exception_class_path=LOST_WORKER,
                    traceback=(
                        f"{LOST_WORKER}: the worker(s) {', '.join(job.worker_ids)} stopped while running "
                        f"this job {len(job.worker_ids)} times; it is not run again."
                    ),
                )
                if won:
                    result.failed.append(str(job.pk))
                    _audit(job, "failed", now)
    for pk in result.requeued:
        logger.warning("job %s: its worker died, put back in the queue", pk)
    for pk in result.failed:
        logger.error("job %s: its workers died %d times, marked failed", pk, MAX_CLAIMS)
    return result


def _audit(job: Any, outcome: str, now: dt.datetime) -> None:
    audit_record(
        actor=None,
        action=AuditAction.UPDATE,
        obj=job,
        object_repr=f"tâche {job.task_path}",
        changes={"status": ["RUNNING", "READY" if outcome == "requeued" else "FAILED"]},
        via="worker",
    )


def job_failed_list(*, actor: Visitor) -> Any:
    """Background jobs that ended FAILED, newest first (operator admins only)."""
    from django_tasks_db.compat import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    require_operator_admin(actor)
    return DBTaskResult.objects.filter(status=TaskResultStatus.FAILED).order_by("-finished_at")


def job_retry(*, actor: Actor, job_id: str) -> Any:
    """« Réessayer »: queue a failed job's task again with the same arguments. The failed row
    goes (the new job replaces it); the audit entry keeps its task, arguments and error."""
    from django.core.exceptions import SuspiciousOperation, ValidationError
    from django.http import Http404
    from django_tasks_db.compat import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    require_operator_admin(actor)
    with transaction.atomic():
        job = DBTaskResult.objects.select_for_update().filter(pk=job_id, status=TaskResultStatus.FAILED).first()
        if job is None:
            raise Http404("tâche introuvable")
        try:
            task = job.task
        except (ImportError, SuspiciousOperation):
            raise ValidationError(_("La tâche %(task)s n'existe plus.") % {"task": job.task_path}) from None
        new = task.using(run_after=None).enqueue(*job.args_kwargs["args"], **job.args_kwargs["kwargs"])
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            obj=job,
            object_repr=f"tâche {job.task_path}",
            changes={
                "status": ["FAILED", "READY"],
                "id": [str(job.pk), str(new.id)],
                "args_kwargs": [job.args_kwargs, None],
                "exception_class_path": [job.exception_class_path, None],
            },
        )
        job.delete()
    return new
