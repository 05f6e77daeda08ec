"""The scheduler: periods in Paris time, each period once, catch-up after a gap, failures recorded
without stopping the others, a job never overlapping itself, pauses audited, `--once`, `--list`.

The jobs run real management commands through call_command: `shell -c` writes a line to a file
per execution, so a test counts what really ran, not only the rows the scheduler wrote."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.http import Http404
from django.test import Client, override_settings
from pytest_django import DjangoAssertNumQueries

from mutualis.conftest import World
from mutualis.core import scheduler as sched
from mutualis.core.commands import command_lock
from mutualis.core.models import AuditEntry, RunOutcome, ScheduledRun, SchedulerProcess
from mutualis.core.scheduler import CatchUp, Daily, Every, Monthly, Scheduler, dues_between, job_register
from mutualis.quality.schedule import FirstWorkingDay, report_month

PARIS = ZoneInfo("Europe/Paris")


def paris(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, second, tzinfo=PARIS)


@pytest.fixture
def jobs() -> Iterator[None]:
    """An empty registry for the test (the apps' jobs come back after it)."""
    saved = dict(sched._jobs)
    sched._jobs.clear()
    yield
    sched._jobs.clear()
    sched._jobs.update(saved)


def probe(marker: Path, text: str = "x") -> tuple[str, ...]:
    """`shell -c` arguments appending `text` to `marker`: one line per execution."""
    return ("--no-imports", "-c", f"open({str(marker)!r}, 'a').write({text!r} + '\\n')")


def lines(marker: Path) -> list[str]:
    return marker.read_text().splitlines() if marker.exists() else []


class Clock:
    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


# -- periods ---------------------------------------------------------------------------------------
def test_it_aligns_every_n_minutes_on_the_hour() -> None:
    period = Every(15)
    assert period.latest_due(paris(2026, 12, 5, 9, 44, 59)) == paris(2026, 12, 5, 9, 30)
    assert period.latest_due(paris(2026, 12, 5, 9, 45)) == paris(2026, 12, 5, 9, 45)
    assert period.next_due(paris(2026, 12, 5, 9, 44)) == paris(2026, 12, 5, 9, 45)
    with pytest.raises(ValueError):
        Every(0)


def test_it_reads_daily_times_in_paris_time_across_the_clock_changes() -> None:
    period = Daily(7, 0)
    assert period.latest_due(paris(2026, 12, 5, 6, 59)) == paris(2026, 12, 4, 7, 0)
    assert period.latest_due(paris(2026, 12, 5, 7, 0)) == paris(2026, 12, 5, 7, 0)
    # 07:00 in Paris is 06:00 UTC in winter, 05:00 UTC in summer
    assert period.next_due(paris(2026, 3, 28, 8, 0)).astimezone(dt.UTC).hour == 5
    # 02:30 does not exist on 29 March 2026: one instant all the same, and the days still advance
    night = Daily(2, 30)
    spring = night.latest_due(paris(2026, 3, 29, 12, 0))
    assert night.latest_due(paris(2026, 3, 29, 1, 0)) < spring < night.next_due(paris(2026, 3, 29, 12, 0))
    assert dues_between(night, paris(2026, 3, 27, 12, 0), paris(2026, 3, 31, 12, 0), limit=10) == [
        night.latest_due(paris(2026, 3, 28, 12, 0)),
        spring,
        night.latest_due(paris(2026, 3, 30, 12, 0)),
        night.latest_due(paris(2026, 3, 31, 12, 0)),
    ]


def test_it_runs_monthly_on_the_day_or_the_months_last() -> None:
    period = Monthly(day=31, hour=6)
    assert period.latest_due(paris(2027, 3, 15)) == paris(2027, 2, 28, 6, 0)
    assert period.next_due(paris(2027, 3, 15)) == paris(2027, 3, 31, 6, 0)
    assert Monthly(day=1).latest_due(paris(2027, 1, 1, 0, 0)) == paris(2027, 1, 1, 0, 0)
    assert Monthly(day=1).latest_due(paris(2026, 12, 31, 23, 59)) == paris(2026, 12, 1, 0, 0)


def test_it_produces_the_reports_on_the_first_working_day_for_the_month_before() -> None:
    period = FirstWorkingDay(hour=6, minute=30)
    # 1 January 2027 is a holiday, then a weekend: the reports wait for Monday the 4th
    assert period.latest_due(paris(2027, 1, 3, 12, 0)) == paris(2026, 12, 1, 6, 30)
    assert period.latest_due(paris(2027, 1, 4, 7, 0)) == paris(2027, 1, 4, 6, 30)
    assert report_month(paris(2027, 1, 4, 6, 30)) == ["--month", "2026-12"]


# -- running ---------------------------------------------------------------------------------------
@pytest.mark.django_db
def test_it_runs_each_period_once(jobs: None, tmp_path: Path) -> None:
    marker = tmp_path / "runs"
    job_register("probe", command="shell", args=probe(marker), period=Every(5))
    clock = Clock(paris(2026, 12, 5, 9, 7))
    first, second = Scheduler(clock=clock), Scheduler(clock=clock)

    assert [run.outcome for run in first.tick()] == [RunOutcome.SUCCESS]
    assert second.tick() == []
    assert first.tick() == []
    assert lines(marker) == ["x"]
    run = ScheduledRun.objects.get()
    assert (run.job, run.due_at, run.host) == ("probe", paris(2026, 12, 5, 9, 5), first.host)

    clock.now = paris(2026, 12, 5, 9, 10)
    assert [run.due_at for run in second.tick()] == [paris(2026, 12, 5, 9, 10)]
    assert lines(marker) == ["x", "x"]
    assert SchedulerProcess.objects.get(pk=second.holder).last_tick_at == clock.now


@pytest.mark.django_db
def test_it_catches_up_after_a_gap_the_latest_or_each_period(jobs: None, tmp_path: Path) -> None:
    sweeps, months = tmp_path / "sweeps", tmp_path / "months"
    job_register("sweep", command="shell", args=probe(sweeps), period=Every(5))
    job_register(
        "monthly",
        command="shell",
        period=Monthly(day=1, hour=6),
        args_for=lambda due: probe(months, due.astimezone(PARIS).strftime("%Y-%m")),
        catch_up=CatchUp.EACH,
    )
    clock = Clock(paris(2026, 9, 10, 12, 0))
    scheduler = Scheduler(clock=clock)
    scheduler.tick()  # a first start runs the latest period only, not history
    assert (lines(sweeps), lines(months)) == (["x"], ["2026-09"])

    clock.now = paris(2027, 1, 2, 8, 3)  # down from September to January
    runs = scheduler.tick()

    assert lines(sweeps) == ["x", "x"]  # the sweep covers what is due: once, for the latest period
    assert lines(months) == ["2026-09", "2026-10", "2026-11", "2026-12", "2027-01"]  # no month skipped
    assert [run.due_at for run in runs if run.job == "sweep"] == [paris(2027, 1, 2, 8, 0)]
    assert scheduler.tick() == []


@pytest.mark.django_db
def test_it_records_a_failure_and_runs_the_other_jobs(jobs: None, tmp_path: Path) -> None:
    marker = tmp_path / "runs"
    job_register("broken", command="shell", args=("--no-imports", "-c", "raise RuntimeError('boum')"), period=Every(5))
    job_register("misnamed", command="no_such_command", period=Every(5))
    job_register("fine", command="shell", args=probe(marker), period=Every(5))
    clock = Clock(paris(2026, 12, 5, 9, 7))

    runs = {run.job: run for run in Scheduler(clock=clock).tick()}

    assert runs["broken"].outcome == RunOutcome.FAILURE
    assert "RuntimeError: boum" in runs["broken"].error
    assert runs["misnamed"].outcome == RunOutcome.FAILURE
    assert "no_such_command" in runs["misnamed"].error
    assert runs["fine"].outcome == RunOutcome.SUCCESS and lines(marker) == ["x"]
    stored = ScheduledRun.objects.get(job="broken")
    assert stored.outcome == RunOutcome.FAILURE and stored.finished_at == clock.now
    # a failed period is not run again: the next period is
    assert Scheduler(clock=clock).tick() == []


@pytest.mark.django_db(transaction=True)
def test_it_defers_a_period_the_commands_own_lock_refuses(jobs: None) -> None:
    job_register("procurement_notify", command="procurement_notify", period=Daily(7, 0))
    clock = Clock(paris(2026, 12, 5, 9, 0))
    with command_lock("procurement_notify"):  # a run started by hand
        (run,) = Scheduler(clock=clock).tick()
    assert run.outcome == RunOutcome.LOCKED
    assert "une autre exécution est en cours" in run.error

    clock.now += dt.timedelta(seconds=30)
    (again,) = Scheduler(clock=clock).tick()

    assert again.pk == run.pk and again.outcome == RunOutcome.SUCCESS
    assert "alertes marchés" in again.output


@pytest.mark.django_db(transaction=True)
def test_it_leaves_a_job_another_scheduler_is_running(jobs: None, tmp_path: Path) -> None:
    marker = tmp_path / "runs"
    job_register("probe", command="shell", args=probe(marker), period=Every(5))
    clock = Clock(paris(2026, 12, 5, 9, 7))
    with command_lock("scheduler:probe"):  # another scheduler is in the middle of it
        assert Scheduler(clock=clock).tick() == []
    assert lines(marker) == [] and not ScheduledRun.objects.exists()
    assert len(Scheduler(clock=clock).tick()) == 1


@pytest.mark.django_db
def test_it_closes_a_run_a_dead_scheduler_left_running(jobs: None, tmp_path: Path) -> None:
    job_register("probe", command="shell", args=probe(tmp_path / "runs"), period=Every(5))
    stale = ScheduledRun.objects.create(
        job="probe", due_at=paris(2026, 12, 5, 9, 0), started_at=paris(2026, 12, 5, 9, 0), host="lost"
    )
    Scheduler(clock=Clock(paris(2026, 12, 5, 9, 7))).tick()
    stale.refresh_from_db()
    assert stale.outcome == RunOutcome.FAILURE and "interrompue" in stale.error
    assert ScheduledRun.objects.filter(outcome=RunOutcome.SUCCESS).count() == 1


@pytest.mark.django_db
def test_it_skips_a_paused_job_and_audits_the_pause(jobs: None, world: World, tmp_path: Path) -> None:
    marker = tmp_path / "runs"
    job_register("probe", command="shell", args=probe(marker), period=Every(5))
    with pytest.raises(Http404):
        sched.scheduled_job_pause(actor=world.staff, name="probe", paused=True)

    sched.scheduled_job_pause(actor=world.admin, name="probe", paused=True)
    sched.scheduled_job_pause(actor=world.admin, name="probe", paused=True)  # no change, no entry
    assert Scheduler(clock=Clock(paris(2026, 12, 5, 9, 7))).tick() == []
    sched.scheduled_job_pause(actor=world.admin, name="probe", paused=False)
    assert len(Scheduler(clock=Clock(paris(2026, 12, 5, 9, 7))).tick()) == 1

    entries = AuditEntry.objects.filter(object_repr__contains="probe").order_by("id")
    assert [(e.actor_id, e.changes) for e in entries] == [
        (world.admin.pk, {"paused": [False, True]}),
        (world.admin.pk, {"paused": [True, False]}),
    ]


def test_it_registers_the_apps_periodic_commands() -> None:
    names = {job.name for job in sched.registered_jobs()}
    assert {
        "helpdesk_sla_escalate",
        "procurement_notify",
        "quality_monthly_reports",
        "helpdesk_poll_imap",
        "tasks_requeue_stale",
        "clearsessions",
    } <= names
    imap = sched.job_get("helpdesk_poll_imap")
    assert imap is not None
    with override_settings(HELPDESK_IMAP=None):
        assert not imap.is_enabled()
    with override_settings(HELPDESK_IMAP={"host": "127.0.0.1", "port": 993}):
        assert imap.is_enabled()
    reports = sched.job_get("quality_monthly_reports")
    assert reports is not None and reports.catch_up is CatchUp.EACH


# -- the command -----------------------------------------------------------------------------------
@pytest.mark.django_db
def test_it_runs_one_tick_with_once_and_fails_when_a_job_fails(jobs: None, tmp_path: Path) -> None:
    marker = tmp_path / "runs"
    job_register("probe", command="shell", args=probe(marker), period=Every(5))
    out = io.StringIO()
    call_command("scheduler", "--once", stdout=out)
    assert lines(marker) == ["x"]
    assert "planificateur : 1 exécution(s), 0 en échec" in out.getvalue()
    process = SchedulerProcess.objects.get()
    assert process.last_tick_at is not None and process.stopped_at is not None
    assert sched.last_tick() == process.last_tick_at

    job_register("broken", command="shell", args=("--no-imports", "-c", "1/0"), period=Every(5))
    with pytest.raises(CommandError, match="1 en échec"):
        call_command("scheduler", "--once", stdout=io.StringIO(), stderr=io.StringIO())


@pytest.mark.django_db
def test_it_lists_jobs_with_last_run_and_next_due(jobs: None, tmp_path: Path) -> None:
    job_register("probe", command="shell", args=probe(tmp_path / "runs"), period=Every(5))
    job_register("later", command="shell", args=probe(tmp_path / "runs"), period=Daily(7, 0), enabled=lambda: False)
    out = io.StringIO()
    call_command("scheduler", "--list", stdout=out)
    assert "probe" in out.getvalue() and "jamais exécutée" in out.getvalue()
    assert "prochaine : maintenant" in out.getvalue() and "non configurée" in out.getvalue()

    call_command("scheduler", "--once", stdout=io.StringIO())
    out = io.StringIO()
    call_command("scheduler", "--list", stdout=out)
    assert "réussie" in out.getvalue()
    assert "prochaine : maintenant" not in out.getvalue()


# -- the page --------------------------------------------------------------------------------------
def _history(*, per_job: int) -> None:
    start = paris(2026, 12, 5, 9, 0)
    for name in ("probe", "other"):
        for i in range(per_job):
            at = start - dt.timedelta(minutes=5 * i)
            outcome = RunOutcome.FAILURE if i % 2 else RunOutcome.SUCCESS
            ScheduledRun.objects.create(
                job=name, due_at=at, started_at=at, finished_at=at, outcome=outcome, host="a", error="boum" * (i % 2)
            )
    SchedulerProcess.objects.create(
        holder=f"a:{per_job}:x", host="a", pid=per_job, started_at=start, last_tick_at=start
    )


@pytest.mark.django_db
def test_it_shows_the_page_to_operator_admins_only(client: Client, world: World, jobs: None, tmp_path: Path) -> None:
    job_register("probe", command="shell", args=probe(tmp_path / "runs"), period=Every(5), description="sonde")
    _history(per_job=3)
    response = client.get("/systeme/planification/")
    assert response.status_code == 302 and response["Location"].startswith("/comptes/connexion/")
    for user in (world.staff, world.manager_a):
        client.force_login(user)
        assert client.get("/systeme/planification/").status_code == 404
        assert client.post("/systeme/planification/probe/suspendre/", {"paused": "1"}).status_code == 404

    client.force_login(world.admin)
    page = client.get("/systeme/planification/").content.decode()
    assert "Planification des tâches" in page and "Sonde" in page and "toutes les 5 minutes" in page
    assert "Échecs récents" in page and "boum" in page
    response = client.post("/systeme/planification/probe/suspendre/", {"paused": "1"})
    assert response.status_code == 302
    assert "Reprendre" in client.get("/systeme/planification/").content.decode()
    assert client.post("/systeme/planification/nope/suspendre/", {"paused": "1"}).status_code == 404


@pytest.mark.django_db
def test_it_keeps_the_pages_query_count_flat(
    client: Client, world: World, jobs: None, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    job_register("probe", command="shell", period=Every(5))
    job_register("other", command="shell", period=Daily(7, 0))
    client.force_login(world.admin)
    client.get("/systeme/planification/")  # the session and reference data warm up
    _history(per_job=2)
    with CaptureQueriesContext(connection) as small:
        assert client.get("/systeme/planification/").status_code == 200
    ScheduledRun.objects.all().delete()
    _history(per_job=30)
    with django_assert_num_queries(len(small.captured_queries)):
        assert client.get("/systeme/planification/").status_code == 200


@pytest.mark.django_db(transaction=True)
def test_it_keeps_the_job_lock_alive_while_a_long_command_runs(
    jobs: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # With a 0.4 s lock, a command of 1.2 s outlives it three times over: the renewing thread
    # must push the expiry back, or another scheduler would take the job over and overlap it.
    monkeypatch.setattr(sched, "JOB_LOCK_TTL", dt.timedelta(seconds=0.4))
    marker = tmp_path / "expiries"
    code = (
        "import time; from mutualis.core.models import CommandLock\n"
        "read = lambda: CommandLock.objects.get(name='scheduler:probe').expires_at\n"
        "first = read(); time.sleep(1.2); last = read()\n"
        f"open({str(marker)!r}, 'w').write(str((last - first).total_seconds()))"
    )
    job_register("probe", command="shell", args=("--no-imports", "-c", code), period=Every(5))

    (run,) = Scheduler().tick()

    assert run.outcome == RunOutcome.SUCCESS, run.error
    assert float(marker.read_text()) >= 0.6


@pytest.mark.django_db
def test_it_runs_a_failed_month_again_when_an_admin_asks(jobs: None, world: World, tmp_path: Path) -> None:
    months, sweeps = tmp_path / "months", tmp_path / "sweeps"
    broken = tmp_path / "broken"
    broken.write_text("")

    def month_args(due: dt.datetime) -> tuple[str, ...]:
        # the month's command fails while the file `broken` exists
        month = due.astimezone(PARIS).strftime("%Y-%m")
        code = (
            "import os\n"
            f"if os.path.exists({str(broken)!r}): raise RuntimeError('serveur de messagerie absent')\n"
            f"open({str(months)!r}, 'a').write({month!r} + '\\n')"
        )
        return ("--no-imports", "-c", code)

    job_register("monthly", command="shell", period=Monthly(day=1, hour=6), args_for=month_args, catch_up=CatchUp.EACH)
    job_register("sweep", command="shell", args=probe(sweeps), period=Every(5))
    clock = Clock(paris(2026, 11, 2, 12, 0))
    scheduler = Scheduler(clock=clock)
    scheduler.tick()  # November's period fails
    broken.unlink()
    clock.now = paris(2026, 12, 2, 12, 0)
    scheduler.tick()  # December's succeeds; November stays failed
    november = ScheduledRun.objects.get(job="monthly", due_at=paris(2026, 11, 1, 6, 0))
    assert november.outcome == RunOutcome.FAILURE
    old_sweep = ScheduledRun.objects.filter(job="sweep").order_by("due_at").first()
    assert old_sweep is not None
    ScheduledRun.objects.filter(pk=old_sweep.pk).update(outcome=RunOutcome.FAILURE)
    assert scheduler.tick() == []

    # an older sweep is covered by the later one: not offered, refused
    overview = sched.schedule_overview(actor=world.admin, now=clock.now)
    assert overview.retryable == {november.pk}
    with pytest.raises(ValidationError):
        sched.scheduled_run_retry(actor=world.admin, job="sweep", due_at=old_sweep.due_at)
    with pytest.raises(Http404):
        sched.scheduled_run_retry(actor=world.staff, job="monthly", due_at=november.due_at)

    sched.scheduled_run_retry(actor=world.admin, job="monthly", due_at=november.due_at)
    (again,) = scheduler.tick()

    assert (again.pk, again.outcome) == (november.pk, RunOutcome.SUCCESS)
    assert lines(months) == ["2026-12", "2026-11"]
    entry = AuditEntry.objects.get(object_repr__contains="monthly")
    assert (entry.actor_id, entry.changes) == (world.admin.pk, {"outcome": ["failure", "locked"]})
    assert scheduler.tick() == []
