"""What `/sante/` checks and `/metriques/` reports about the platform itself: the database, the
cache, the background-job queue, the scheduler and the last backup (`jobs_metrics`,
`scheduler_metrics`, `backup_metrics`: core's collectors, registered in CoreConfig.ready). A
handful of queries, each aggregated in the database, none reading tenant data."""

from __future__ import annotations

import datetime as dt
import math
import os
import secrets
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Case, Count, F, Min, Q, When
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric

OK = "ok"
WARN = "warn"
DOWN = "down"
SKIPPED = "skipped"

# A load balancer waits a few seconds for an answer: a database that does not say `1` within this
# is as good as down for it.
STATEMENT_TIMEOUT_MS = 2000


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)


def _statement_timeout() -> None:
    """Bound every statement of the current transaction (PostgreSQL; SQLite is a local file)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # A literal: SET takes no bound parameter when the driver binds on the server side.
            cursor.execute(f"SET LOCAL statement_timeout = {int(STATEMENT_TIMEOUT_MS)}")


def check_database() -> dict[str, Any]:
    """`SELECT 1` within STATEMENT_TIMEOUT_MS. The error is named by its class only: this answer
    is public and a driver's message may name hosts and accounts."""
    started = time.perf_counter()
    try:
        with transaction.atomic():
            _statement_timeout()
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
                cursor.fetchone()
    except Exception as error:
        return {"status": DOWN, "error": type(error).__name__, "ms": _ms(started)}
    return {"status": OK, "ms": _ms(started)}


def check_cache() -> dict[str, Any]:
    """Write a key and read it back. Redis down is a slower site (every cached value is computed
    again), not a broken one: WARN, never DOWN. The key is this process's own, so two servers
    checking at once do not read each other's value."""
    started = time.perf_counter()
    key = f"mutualis:sante:{socket.gethostname()}:{os.getpid()}"
    value = secrets.token_hex(8)
    try:
        cache.set(key, value, 30)
        read = cache.get(key)
    except Exception as error:
        return {"status": WARN, "error": type(error).__name__, "ms": _ms(started)}
    if read != value:
        # CACHE_URL's cache turns Redis errors into misses (core.cache): Redis away reads as this.
        return {"status": WARN, "error": "not-read-back", "ms": _ms(started)}
    return {"status": OK, "ms": _ms(started)}


@dataclass(frozen=True)
class JobFigures:
    ready: int  # waiting for a worker, due now or later
    due: int  # of those, due now
    running: int
    failed: int  # given up (rows in FAILED state, until retried or pruned)
    oldest_due_since: dt.datetime | None  # since when the oldest due job waits


def _waiting_since() -> Case:
    """When a READY job became due: `run_after` when it was deferred (a retry, a requeue by the
    reaper), else when it was enqueued (django-tasks-db stores "no run_after" as the greatest date)."""
    from django_tasks_db.models import get_date_max

    return Case(When(run_after=get_date_max(), then=F("enqueued_at")), default=F("run_after"))


def _due(now: dt.datetime) -> Q:
    from django_tasks_db.compat import TaskResultStatus
    from django_tasks_db.models import get_date_max

    return Q(status=TaskResultStatus.READY) & (Q(run_after=get_date_max()) | Q(run_after__lte=now))


def job_figures(*, now: dt.datetime, states: bool = True) -> JobFigures:
    """The queue in one aggregate query. With `states=False`, only the READY rows are read
    (through django-tasks-db's partial index on them): what the load balancer's check needs;
    RUNNING and FAILED are then left at 0. With it, the rows of every unfinished or failed state
    are counted, in the same single query."""
    from django_tasks_db.compat import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    wanted = [TaskResultStatus.READY]
    if states:
        wanted += [TaskResultStatus.RUNNING, TaskResultStatus.FAILED]
    row = DBTaskResult.objects.filter(status__in=wanted).aggregate(
        ready=Count("pk", filter=Q(status=TaskResultStatus.READY)),
        due=Count("pk", filter=_due(now)),
        running=Count("pk", filter=Q(status=TaskResultStatus.RUNNING)),
        failed=Count("pk", filter=Q(status=TaskResultStatus.FAILED)),
        oldest=Min(_waiting_since(), filter=_due(now)),
    )
    return JobFigures(
        ready=row["ready"],
        due=row["due"],
        running=row["running"],
        failed=row["failed"],
        oldest_due_since=row["oldest"],
    )


def _age(since: dt.datetime | None, now: dt.datetime) -> float | None:
    return None if since is None else max(0.0, round((now - since).total_seconds(), 1))


def check_jobs(*, now: dt.datetime, full: bool = False) -> dict[str, Any]:
    """The oldest job waiting for a worker: older than HEALTH_JOB_AGE_WARN seconds means no worker
    takes jobs, or not fast enough (mail waits). WARN only: the web pages still work."""
    started = time.perf_counter()
    figures = job_figures(now=now, states=full)
    age = _age(figures.oldest_due_since, now)
    limit = settings.HEALTH_JOB_AGE_WARN
    answer: dict[str, Any] = {
        "status": WARN if age is not None and age > limit else OK,
        "due": figures.due,
        "oldest_due_seconds": age,
        "warn_after_seconds": limit,
    }
    if full:
        answer.update(ready=figures.ready, running=figures.running, failed=figures.failed)
    answer["ms"] = _ms(started)
    return answer


def check_scheduler(*, now: dt.datetime) -> dict[str, Any]:
    """The last completed tick of `mutualis scheduler`, any machine: none, or older than
    HEALTH_SCHEDULER_AGE_WARN seconds, means the periodic commands (service-level sweep, IMAP
    polling, the job reaper…) are not running."""
    from mutualis.core.scheduler import last_tick

    started = time.perf_counter()
    tick = last_tick()
    age = _age(tick, now)
    limit = settings.HEALTH_SCHEDULER_AGE_WARN
    return {
        "status": WARN if age is None or age > limit else OK,
        "last_tick": tick.isoformat() if tick else None,
        "age_seconds": age,
        "warn_after_seconds": limit,
        "ms": _ms(started),
    }


def _queue_and_scheduler(*, now: dt.datetime, full: bool) -> dict[str, dict[str, Any]]:
    """The queue and scheduler checks in one transaction bounded by STATEMENT_TIMEOUT_MS. After a
    failure (a timeout) PostgreSQL refuses the rest of the transaction: the check that failed and
    those after it say so, those already read keep their answer."""
    done: dict[str, dict[str, Any]] = {}
    try:
        with transaction.atomic():
            _statement_timeout()
            done["jobs"] = check_jobs(now=now, full=full)
            done["scheduler"] = check_scheduler(now=now)
    except Exception as error:
        for name in ("jobs", "scheduler"):
            done.setdefault(name, {"status": WARN, "error": type(error).__name__})
    return done


def health_report(*, full: bool = False, now: dt.datetime | None = None) -> tuple[int, dict[str, Any]]:
    """The HTTP status and the JSON of `/sante/`.

    503 only when the database does not answer: this server cannot serve a page then, and a load
    balancer should send its traffic elsewhere. A cache down, a queue late or a silent scheduler
    is "degraded" with 200: every server shares them, so pulling servers out would only take the
    whole site down with them."""
    now = now or timezone.now()
    checks: dict[str, Any] = {"database": check_database(), "cache": check_cache()}
    if checks["database"]["status"] == DOWN:
        checks.update(jobs={"status": SKIPPED}, scheduler={"status": SKIPPED})
        status, code = "down", 503
    else:
        checks.update(_queue_and_scheduler(now=now, full=full))
        degraded = any(check["status"] != OK for check in checks.values())
        status, code = ("degraded" if degraded else "ok"), 200
    report: dict[str, Any] = {"status": status, "checks": checks}
    if full:
        report["server"] = {"host": socket.gethostname(), "pid": os.getpid(), "time": now.isoformat()}
        report["checks"]["cache"]["backend"] = settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1]
    return code, report


def jobs_metrics() -> Iterator[Metric]:
    """The queue for Prometheus, in one query (`job_figures`)."""
    now = timezone.now()
    figures = job_figures(now=now)
    states = GaugeMetricFamily(
        "mutualis_jobs", "Background jobs by state (ready: waiting for a worker).", labels=["state"]
    )
    states.add_metric(["ready"], figures.ready)
    states.add_metric(["running"], figures.running)
    states.add_metric(["failed"], figures.failed)
    yield states
    yield GaugeMetricFamily("mutualis_jobs_due", "Ready jobs whose time has come.", value=figures.due)
    yield GaugeMetricFamily(
        "mutualis_jobs_oldest_due_age_seconds",
        "How long the oldest due job has waited for a worker (0: none waits).",
        value=_age(figures.oldest_due_since, now) or 0.0,
    )


def scheduler_metrics() -> Iterator[Metric]:
    """The scheduler's last completed tick, in one query; +Inf before the first one, so an alert on
    the age fires for a scheduler that never ran too."""
    from mutualis.core.scheduler import last_tick

    age = _age(last_tick(), timezone.now())
    yield GaugeMetricFamily(
        "mutualis_scheduler_last_tick_age_seconds",
        "Seconds since a scheduler last completed a tick (+Inf: never).",
        value=math.inf if age is None else age,
    )


def backup_metrics() -> Iterator[Metric]:
    """The last completed `mutualis backup` (its audit entry), in one indexed read; +Inf before the
    first, so an alert on the age fires for an installation never backed up too."""
    from mutualis.core.backup import last_backup_at

    age = _age(last_backup_at(), timezone.now())
    yield GaugeMetricFamily(
        "mutualis_backup_last_age_seconds",
        "Seconds since the last backup that completed (+Inf: never).",
        value=math.inf if age is None else age,
    )
