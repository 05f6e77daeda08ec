"""The scheduler of periodic commands: each app registers its jobs from AppConfig.ready, and
`mutualis scheduler` runs each period of each job once, whatever the number of schedulers.

A job is a management command run through `call_command` by name (core never imports the apps
above it), with a period in Europe/Paris time: every N minutes, daily at HH:MM, monthly on day D.
Two barriers keep a period from running twice or a job from overlapping itself, on SQLite and
PostgreSQL alike:
- the job's lock (`core.commands.command_lock`, name `scheduler:<job>`), held while a scheduler
  claims and runs the job's periods and renewed by a thread while a command runs: a second
  scheduler finds it held and passes, so a run longer than its period never overlaps itself;
- the period's row (`ScheduledRun`, unique on job and due time): of two schedulers inserting
  the same period (a lock taken over from a process that stalled past its expiry), one gets an
  IntegrityError and does not run it.
docs/scheduler.md says why this loop and not APScheduler or systemd timers."""

from __future__ import annotations

import calendar
import datetime as dt
import enum
import io
import logging
import os
import socket
import threading
import traceback
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, close_old_connections, connection, transaction
from django.db.models import Max, Q
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _

from mutualis.core.actors import Actor, Visitor
from mutualis.core.audit import audit_record
from mutualis.core.commands import LOCKED_EXIT, CommandLocked, HeldLock, command_lock
from mutualis.core.models import AuditAction, RunOutcome, ScheduledJobState, ScheduledRun, SchedulerProcess
from mutualis.core.tenancy import require_operator_admin
from mutualis.core.timefmt import local_datetime

logger = logging.getLogger("mutualis.scheduler")

# How long a job's lock outlives a scheduler that stopped renewing it (killed, machine lost):
# the job's periods wait at most this long for another scheduler to take over.
JOB_LOCK_TTL = dt.timedelta(minutes=5)
# What a run keeps of the command's output and of its error: the end, where the summary is.
OUTPUT_KEEP = 4000
# A job that catches up each missed period runs at most this many at once (2 years of months).
MAX_CATCH_UP = 24
# Runs older than this are deleted after the job's next run.
HISTORY_DAYS = 90


def local_zone() -> dt.tzinfo:
    """Periods are read in the site's time zone, Europe/Paris (settings.TIME_ZONE)."""
    return timezone.get_default_timezone()


def _at(day: dt.date, hour: int, minute: int) -> dt.datetime:
    # A wall time that does not exist (02:30 on the spring change) or exists twice (02:30 on the
    # autumn change) resolves as zoneinfo does with fold=0: one instant, the same on every machine,
    # so the period's row is the same for every scheduler.
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=local_zone())


# -- periods ---------------------------------------------------------------------------------------
class Period(Protocol):
    """When a job is due. `latest_due(now)` is the last due instant at or before `now`,
    `next_due(now)` the first after it; `label` says it in French."""

    @property
    def label(self) -> str: ...

    def latest_due(self, now: dt.datetime) -> dt.datetime: ...

    def next_due(self, now: dt.datetime) -> dt.datetime: ...


@dataclass(frozen=True)
class Every:
    """Every N minutes, aligned on the hour when N divides 60 (every 15 minutes: :00, :15, …)."""

    minutes: int

    def __post_init__(self) -> None:
        if not 1 <= self.minutes <= 24 * 60:
            raise ValueError(f"period of {self.minutes} minutes: between 1 and 1440")

    @property
    def label(self) -> str:
        return _("toutes les %(n)d minutes") % {"n": self.minutes} if self.minutes > 1 else _("chaque minute")

    def latest_due(self, now: dt.datetime) -> dt.datetime:
        step = self.minutes * 60
        # aligned on the Unix epoch, in whole seconds: the same instants on every machine
        return dt.datetime.fromtimestamp(int(now.timestamp()) // step * step, tz=dt.UTC)

    def next_due(self, now: dt.datetime) -> dt.datetime:
        return self.latest_due(now) + dt.timedelta(minutes=self.minutes)


@dataclass(frozen=True)
class Daily:
    """Every day at HH:MM, Paris time."""

    hour: int
    minute: int = 0

    def __post_init__(self) -> None:
        dt.time(self.hour, self.minute)  # ValueError on 25:00

    @property
    def label(self) -> str:
        return _("chaque jour à %(time)s") % {"time": f"{self.hour:02d}:{self.minute:02d}"}

    def latest_due(self, now: dt.datetime) -> dt.datetime:
        today = now.astimezone(local_zone()).date()
        due = _at(today, self.hour, self.minute)
        return due if due <= now else _at(today - dt.timedelta(days=1), self.hour, self.minute)

    def next_due(self, now: dt.datetime) -> dt.datetime:
        latest = self.latest_due(now).astimezone(local_zone()).date()
        return _at(latest + dt.timedelta(days=1), self.hour, self.minute)


@dataclass(frozen=True)
class Monthly:
    """Every month on day D at HH:MM, Paris time; D past the month's end is its last day.
    A subclass may move the day within each month (`day_in`): the quality app's reports run on
    the first working day."""

    day: int = 1
    hour: int = 0
    minute: int = 0

    def __post_init__(self) -> None:
        dt.time(self.hour, self.minute)
        if not 1 <= self.day <= 31:
            raise ValueError(f"day {self.day} of the month: between 1 and 31")

    @property
    def label(self) -> str:
        return _("chaque mois, le %(day)d à %(time)s") % {
            "day": self.day,
            "time": f"{self.hour:02d}:{self.minute:02d}",
        }

    def day_in(self, year: int, month: int) -> dt.date:
        return dt.date(year, month, min(self.day, calendar.monthrange(year, month)[1]))

    def _due_in(self, year: int, month: int) -> dt.datetime:
        return _at(self.day_in(year, month), self.hour, self.minute)

    def latest_due(self, now: dt.datetime) -> dt.datetime:
        local = now.astimezone(local_zone())
        due = self._due_in(local.year, local.month)
        if due <= now:
            return due
        year, month = (local.year, local.month - 1) if local.month > 1 else (local.year - 1, 12)
        return self._due_in(year, month)

    def next_due(self, now: dt.datetime) -> dt.datetime:
        local = self.latest_due(now).astimezone(local_zone())
        year, month = (local.year, local.month + 1) if local.month < 12 else (local.year + 1, 1)
        return self._due_in(year, month)


def dues_between(period: Period, after: dt.datetime, now: dt.datetime, *, limit: int) -> list[dt.datetime]:
    """The due instants in (after, now], oldest first; the latest `limit` of them."""
    dues: list[dt.datetime] = []
    due = period.latest_due(now)
    while due > after and len(dues) < limit:
        dues.append(due)
        due = period.latest_due(due - dt.timedelta(microseconds=1))
    return dues[::-1]


# -- the registry ----------------------------------------------------------------------------------
class CatchUp(enum.Enum):
    """After downtime, what runs of the periods missed."""

    LATEST = "latest"  # only the latest: the command itself covers what is due (sweeps, polling)
    EACH = "each"  # each one, oldest first: the period is an argument (a month's reports)


@dataclass(frozen=True)
class Job:
    """A periodic command. `name` is stable: runs are recorded under it."""

    name: str
    command: str
    period: Period
    description: str | Promise = ""
    args: tuple[str, ...] = ()
    # arguments computed from the period's due instant (`--month` of a report), after `args`
    args_for: Callable[[dt.datetime], Sequence[str]] | None = None
    catch_up: CatchUp = CatchUp.LATEST
    # checked at each tick: a job whose integration is not configured is not run (nor listed as late)
    enabled: Callable[[], bool] | None = None

    def arguments(self, due: dt.datetime) -> list[str]:
        return [*self.args, *(self.args_for(due) if self.args_for else ())]

    def is_enabled(self) -> bool:
        return self.enabled is None or self.enabled()

    @property
    def command_line(self) -> str:
        return " ".join([self.command, *self.args, *(["…"] if self.args_for else [])])


_jobs: dict[str, Job] = {}


def job_register(
    name: str,
    *,
    command: str,
    period: Period,
    description: str | Promise = "",
    args: Sequence[str] = (),
    args_for: Callable[[dt.datetime], Sequence[str]] | None = None,
    catch_up: CatchUp = CatchUp.LATEST,
    enabled: Callable[[], bool] | None = None,
) -> Job:
    """Register a periodic job; called from an AppConfig.ready. Registering a name again replaces it."""
    job = Job(
        name=name,
        command=command,
        period=period,
        description=description,
        args=tuple(args),
        args_for=args_for,
        catch_up=catch_up,
        enabled=enabled,
    )
    _jobs[name] = job
    return job


def job_unregister(name: str) -> None:
    _jobs.pop(name, None)


def registered_jobs() -> list[Job]:
    """The jobs in registration order (the order a tick runs them)."""
    return list(_jobs.values())


def job_get(name: str) -> Job | None:
    return _jobs.get(name)


# -- reads -----------------------------------------------------------------------------------------
def last_tick() -> dt.datetime | None:
    """When a scheduler last completed a tick (any process, any machine); None if never."""
    return SchedulerProcess.objects.aggregate(last=Max("last_tick_at"))["last"]


def last_runs(names: Sequence[str]) -> dict[str, ScheduledRun]:
    """Each job's latest run (the latest period claimed), in two queries whatever the history."""
    latest = (
        ScheduledRun.objects.filter(job__in=names).values("job").annotate(last=Max("due_at")).values_list("job", "last")
    )
    pairs = list(latest)
    if not pairs:
        return {}
    # the unique (job, due_at) pair names one row; an OR of pairs stays one query
    query = Q()
    for job, due in pairs:
        query |= Q(job=job, due_at=due)
    return {run.job: run for run in ScheduledRun.objects.filter(query)}


def paused_jobs() -> set[str]:
    return set(ScheduledJobState.objects.filter(paused=True).values_list("job", flat=True))


def due_periods(job: Job, *, now: dt.datetime, last_due: dt.datetime | None) -> list[dt.datetime]:
    """The periods of `job` to run at `now`, given the latest period already claimed.

    Never run before (a new job, a new installation): its latest period only, so a first start
    does not replay history. Then LATEST jobs run the latest period if it is not claimed yet,
    EACH jobs every period since the last claimed, oldest first (at most MAX_CATCH_UP)."""
    latest = job.period.latest_due(now)
    if last_due is None:
        return [latest]
    if latest <= last_due:
        return []
    if job.catch_up is CatchUp.LATEST:
        return [latest]
    return dues_between(job.period, last_due, now, limit=MAX_CATCH_UP)


def pending_periods(
    job: Job, *, now: dt.datetime, last_due: dt.datetime | None, deferred: Iterable[dt.datetime] = ()
) -> list[dt.datetime]:
    """`due_periods`, plus, for a job that catches up each period, its deferred periods (refused by
    the command's own lock, or a failure an admin asked to run again), oldest first. A deferred
    period of a job that catches up the latest only is superseded by the latest period."""
    dues = due_periods(job, now=now, last_due=last_due)
    if job.catch_up is CatchUp.EACH:
        dues = sorted(set(dues) | {due for due in deferred if due <= now})
    return dues


def next_due(
    job: Job, *, now: dt.datetime, last_due: dt.datetime | None, deferred: Iterable[dt.datetime] = ()
) -> dt.datetime:
    """When the job runs next: now if a period is waiting, else its next period."""
    pending = pending_periods(job, now=now, last_due=last_due, deferred=deferred)
    return pending[0] if pending else job.period.next_due(now)


def deferred_periods() -> dict[str, list[dt.datetime]]:
    """The periods waiting to run again, by job (one query; few rows: a deferral lasts a tick)."""
    deferred: dict[str, list[dt.datetime]] = {}
    for job, due in ScheduledRun.objects.filter(outcome=RunOutcome.LOCKED).values_list("job", "due_at"):
        deferred.setdefault(job, []).append(due)
    return deferred


def may_retry(job: Job | None, run: ScheduledRun, *, last_run: ScheduledRun | None) -> bool:
    """Whether a failed run is worth running again: any period of a job that catches up each one
    (a month's reports), only the latest of a job whose next period covers what this one missed."""
    if job is None or run.outcome != RunOutcome.FAILURE:
        return False
    return job.catch_up is CatchUp.EACH or (last_run is not None and last_run.pk == run.pk)


@dataclass(frozen=True)
class JobRow:
    """A job as the page and `--list` show it."""

    job: Job
    state: str  # "active", "paused" or "disabled" (its integration is not configured)
    last_run: ScheduledRun | None
    next_due: dt.datetime | None  # None when it does not run (paused, not configured)
    late: bool  # a period has been waiting longer than a tick or two: is a scheduler running?


@dataclass(frozen=True)
class Overview:
    rows: list[JobRow]
    failures: list[ScheduledRun]
    retryable: set[int]  # the failures offered « Relancer »
    processes: list[SchedulerProcess]
    last_tick: dt.datetime | None


# A period waiting longer than this tells that no scheduler is running (they tick every 30 s).
LATE_AFTER = dt.timedelta(minutes=2)


def job_rows(*, now: dt.datetime) -> list[JobRow]:
    """Every registered job with its latest run and when it runs next, in five queries."""
    jobs = registered_jobs()
    runs = last_runs([job.name for job in jobs])
    paused = paused_jobs()
    deferred = deferred_periods()
    dues = last_dues()
    rows = []
    for job in jobs:
        run = runs.get(job.name)
        state = "paused" if job.name in paused else "active" if job.is_enabled() else "disabled"
        due = (
            next_due(job, now=now, last_due=dues.get(job.name), deferred=deferred.get(job.name, ()))
            if state == "active"
            else None
        )
        running = run is not None and run.outcome == RunOutcome.RUNNING
        late = due is not None and not running and due < now - LATE_AFTER
        rows.append(JobRow(job=job, state=state, last_run=run, next_due=due, late=late))
    return rows


def schedule_overview(*, actor: Visitor, now: dt.datetime | None = None, failures: int = 20) -> Overview:
    """The scheduler page (operator admins): each job, the recent failures, the processes."""
    require_operator_admin(actor)
    now = now or timezone.now()
    recent = now - dt.timedelta(days=7)
    rows = job_rows(now=now)
    last = {row.job.name: row.last_run for row in rows}
    failed = list(ScheduledRun.objects.filter(outcome=RunOutcome.FAILURE).order_by("-started_at")[:failures])
    return Overview(
        rows=rows,
        failures=failed,
        retryable={run.pk for run in failed if may_retry(job_get(run.job), run, last_run=last.get(run.job))},
        processes=list(
            SchedulerProcess.objects.filter(Q(last_tick_at__gte=recent) | Q(started_at__gte=recent)).order_by(
                "-last_tick_at", "-started_at"
            )[:20]
        ),
        last_tick=last_tick(),
    )


# -- admin changes ---------------------------------------------------------------------------------
def scheduled_job_pause(*, actor: Actor, name: str, paused: bool) -> ScheduledJobState:
    """Suspend or resume a job (operator admins); audited. A resumed job catches up as after
    downtime: its latest period, or each missed one for a job that catches up each."""
    require_operator_admin(actor)
    if name not in _jobs:
        raise ValueError(f"unknown job {name}")
    with transaction.atomic():
        state, _created = ScheduledJobState.objects.select_for_update().get_or_create(job=name)
        if state.paused != paused:
            before = state.paused
            state.paused = paused
            state.save(update_fields=["paused", "changed_at"])
            audit_record(
                actor=actor,
                action=AuditAction.UPDATE,
                obj=state,
                changes={"paused": [before, paused]},
                object_repr=_("tâche planifiée %(name)s") % {"name": name},
            )
    return state


def scheduled_run_retry(*, actor: Actor, job: str, due_at: dt.datetime) -> ScheduledRun:
    """Run a failed period again at the next tick (operator admins); audited. The run becomes
    « différée », which the next tick claims again like a period the command's lock deferred."""
    require_operator_admin(actor)
    with transaction.atomic():
        run = ScheduledRun.objects.select_for_update().filter(job=job, due_at=due_at).first()
        if run is None:
            raise ScheduledRun.DoesNotExist(f"no run of {job} due {due_at}")
        latest = ScheduledRun.objects.filter(job=job).order_by("-due_at").first()
        if not may_retry(job_get(job), run, last_run=latest):
            raise ValidationError(
                _(
                    "Cette exécution ne se relance pas : elle n'est pas en échec, "
                    "ou une période plus récente l'a couverte."
                )
            )
        run.outcome = RunOutcome.LOCKED
        run.save(update_fields=["outcome"])
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            obj=run,
            changes={"outcome": [RunOutcome.FAILURE.value, RunOutcome.LOCKED.value]},
            object_repr=_("exécution planifiée %(run)s") % {"run": run},
        )
    return run


# -- running ---------------------------------------------------------------------------------------
def _holder() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"[:200]


class _Renewer(threading.Thread):
    """Pushes the job lock's expiry back while a command runs, from its own connection."""

    def __init__(self, lock: HeldLock) -> None:
        super().__init__(name=f"scheduler-renew-{lock.name}", daemon=True)
        self.lock = lock
        self.done = threading.Event()

    def run(self) -> None:
        try:
            while not self.done.wait(self.lock.ttl.total_seconds() / 4):
                try:
                    self.lock.renew(force=True)
                except Exception:  # the database is away: the next renewal tries again
                    logger.warning("scheduler: renewing %s failed", self.lock.name, exc_info=True)
        finally:
            connection.close()


def _excerpt(text: str) -> str:
    return text if len(text) <= OUTPUT_KEEP else "…" + text[-OUTPUT_KEEP:]


def last_dues() -> dict[str, dt.datetime]:
    """Each job's latest claimed period (a deferred one does not count: it is tried again)."""
    rows = (
        ScheduledRun.objects.exclude(outcome=RunOutcome.LOCKED)
        .values("job")
        .annotate(last=Max("due_at"))
        .values_list("job", "last")
    )
    return dict(rows)


@dataclass
class Scheduler:
    """One scheduler process. `tick()` starts what is due; `run_forever()` ticks until `stop()`.

    With `concurrent`, each due job runs in its own thread and the tick returns without waiting:
    a long job (a month's reports, a backup) delays neither the other jobs nor the next tick, and
    a job still running in this process is not started again. Without it (`--once`, tests), the
    tick runs the jobs one after another and returns their runs. `clock` is injected by tests
    (catch-up after a gap); runs record its instants."""

    clock: Callable[[], dt.datetime] = timezone.now
    holder: str = field(default_factory=_holder)
    concurrent: bool = False
    stopping: threading.Event = field(default_factory=threading.Event)
    process: SchedulerProcess | None = None
    threads: dict[str, threading.Thread] = field(default_factory=dict)

    @property
    def host(self) -> str:
        return self.holder.rsplit(":", 2)[0]

    def start(self) -> None:
        now = self.clock()
        self.process = SchedulerProcess.objects.create(
            holder=self.holder, host=self.host, pid=os.getpid(), started_at=now
        )
        # processes gone for a month leave the page
        SchedulerProcess.objects.filter(started_at__lt=now - dt.timedelta(days=30)).exclude(
            last_tick_at__gte=now - dt.timedelta(days=30)
        ).delete()

    def stop(self) -> None:
        """Start nothing more; the jobs in progress finish (a signal handler calls this)."""
        self.stopping.set()

    def wait(self) -> None:
        """Wait for the jobs this process is running."""
        for thread in list(self.threads.values()):
            thread.join()

    def finish(self) -> None:
        self.wait()
        if self.process is not None:
            SchedulerProcess.objects.filter(pk=self.holder).update(stopped_at=self.clock())

    def due_jobs(self, now: dt.datetime) -> list[Job]:
        """The jobs with a period to run at `now`: active, configured, not paused (four queries)."""
        paused = paused_jobs()
        dues = last_dues()
        deferred = deferred_periods()
        return [
            job
            for job in registered_jobs()
            if job.name not in paused
            and job.is_enabled()
            and pending_periods(job, now=now, last_due=dues.get(job.name), deferred=deferred.get(job.name, ()))
        ]

    def tick(self) -> list[ScheduledRun]:
        """Run (or, concurrent, start) every job with a period due; a failing job does not stop
        the others. Records the tick as completed."""
        if self.process is None:
            self.start()
        now = self.clock()
        runs: list[ScheduledRun] = []
        for job in self.due_jobs(now):
            if self.stopping.is_set():
                break
            if not self.concurrent:
                runs += self.run_job(job, now=now)
                continue
            running = self.threads.get(job.name)
            if running is not None and running.is_alive():
                continue  # still at it: its lock would refuse us anyway
            thread = threading.Thread(target=self._run_in_thread, args=(job, now), name=f"scheduler-{job.name}")
            self.threads[job.name] = thread
            thread.start()
        SchedulerProcess.objects.filter(pk=self.holder).update(last_tick_at=self.clock())
        return runs

    def _run_in_thread(self, job: Job, now: dt.datetime) -> None:
        try:
            self.run_job(job, now=now)
        except Exception:  # the database went away mid-job: the next tick tries again
            logger.exception("scheduler: %s could not be run", job.name)
        finally:
            connection.close()

    def run_job(self, job: Job, *, now: dt.datetime) -> list[ScheduledRun]:
        """Claim and run the job's due periods, unless another scheduler is running the job."""
        runs: list[ScheduledRun] = []
        try:
            with command_lock(f"scheduler:{job.name}", ttl=JOB_LOCK_TTL) as held:
                self._close_interrupted(job)
                runs_of_job = ScheduledRun.objects.filter(job=job.name)
                last_due = runs_of_job.exclude(outcome=RunOutcome.LOCKED).aggregate(last=Max("due_at"))["last"]
                deferred = runs_of_job.filter(outcome=RunOutcome.LOCKED).values_list("due_at", flat=True)
                for due in pending_periods(job, now=now, last_due=last_due, deferred=list(deferred)):
                    run = self._claim(job, due)
                    if run is None:
                        continue
                    self._execute(job, run, held)
                    runs.append(run)
                    if run.outcome == RunOutcome.LOCKED or self.stopping.is_set():
                        break
                if runs:
                    ScheduledRun.objects.filter(job=job.name, due_at__lt=now - dt.timedelta(days=HISTORY_DAYS)).delete()
        except CommandLocked:
            logger.debug("scheduler: %s is running elsewhere", job.name)
        return runs

    def _close_interrupted(self, job: Job) -> None:
        # Holding the job's lock, a run still marked running belongs to a scheduler that died
        # mid-command (its lock expired): say so rather than show it running forever.
        ScheduledRun.objects.filter(job=job.name, outcome=RunOutcome.RUNNING).update(
            outcome=RunOutcome.FAILURE,
            error=_("interrompue : le planificateur s'est arrêté pendant l'exécution"),
        )

    def _claim(self, job: Job, due: dt.datetime) -> ScheduledRun | None:
        started = self.clock()
        try:
            with transaction.atomic():
                return ScheduledRun.objects.create(job=job.name, due_at=due, started_at=started, host=self.host)
        except IntegrityError:
            # A period the command's own lock deferred is tried again: taken back through an
            # UPDATE conditioned on its outcome, so of two schedulers one wins.
            taken = ScheduledRun.objects.filter(job=job.name, due_at=due, outcome=RunOutcome.LOCKED).update(
                outcome=RunOutcome.RUNNING, started_at=started, finished_at=None, host=self.host, output="", error=""
            )
            return ScheduledRun.objects.get(job=job.name, due_at=due) if taken else None

    def _execute(self, job: Job, run: ScheduledRun, held: HeldLock) -> None:
        output = io.StringIO()
        renewer = _Renewer(held)
        renewer.start()
        try:
            call_command(job.command, *job.arguments(run.due_at), stdout=output, stderr=output)
            run.outcome = RunOutcome.SUCCESS
        except CommandError as error:
            if error.returncode == LOCKED_EXIT:
                run.outcome = RunOutcome.LOCKED
            else:
                run.outcome = RunOutcome.FAILURE
            run.error = _excerpt(str(error))
        except Exception as error:
            logger.exception("scheduler: %s failed", job.name)
            run.outcome = RunOutcome.FAILURE
            run.error = _excerpt(f"{error.__class__.__name__}: {error}\n\n{traceback.format_exc()}")
        finally:
            renewer.done.set()
            renewer.join()
        run.finished_at = self.clock()
        run.output = _excerpt(output.getvalue())
        run.save(update_fields=["outcome", "error", "output", "finished_at"])
        log = logger.info if run.outcome != RunOutcome.FAILURE else logger.error
        log(
            "scheduler: %s (%s) %s in %.1f s",
            job.name,
            local_datetime(run.due_at),
            run.outcome,
            (run.finished_at - run.started_at).total_seconds(),
        )

    def run_forever(self, *, interval: float = 30) -> None:
        """Tick every `interval` seconds until `stop()`, then wait for the jobs in progress; a
        tick that fails (database away) is logged and the next one tries again."""
        self.concurrent = True
        try:
            while not self.stopping.is_set():
                began = timezone.now()
                # as around a request: a connection past MUTUALIS_DB_CONN_MAX_AGE or broken (a
                # restarted PostgreSQL) is replaced rather than failing every tick
                close_old_connections()
                try:
                    self.tick()
                except Exception:
                    logger.exception("scheduler: tick failed")
                close_old_connections()
                elapsed = (timezone.now() - began).total_seconds()
                self.stopping.wait(max(1.0, interval - elapsed))
        finally:
            try:
                self.finish()
            except Exception:
                logger.warning("scheduler: could not record the stop", exc_info=True)
