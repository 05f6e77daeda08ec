"""The stale job reaper: a job left running by a dead worker runs again once, then fails."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from mutualis.core.jobs import LOST_WORKER, job_requeue_stale
from mutualis.core.management.commands.db_worker import StaleJobReaper, reap_interval
from mutualis.core.models import AuditEntry


@pytest.fixture(autouse=True)
def database_backend(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
    settings.TASKS_STALE_AFTER = 600


def running_job(*, started_ago: dt.timedelta, workers: int = 1) -> DBTaskResult:
    """A job as a worker leaves it when it dies mid-task: claimed, RUNNING, never finished."""
    from mutualis.quality.tasks import monthly_reports

    job = monthly_reports.enqueue().db_result
    for n in range(workers):
        job.claim(f"worker-{n}")
    DBTaskResult.objects.filter(pk=job.pk).update(started_at=timezone.now() - started_ago)
    job.refresh_from_db()
    return job


def test_it_requeues_a_job_running_longer_than_the_timeout_once(db):
    job = running_job(started_ago=dt.timedelta(minutes=11))

    result = job_requeue_stale()

    assert result.requeued == [str(job.pk)] and result.failed == []
    job.refresh_from_db()
    assert job.status == "READY"
    assert DBTaskResult.objects.ready().filter(pk=job.pk).exists()  # a worker takes it now
    assert job_requeue_stale().requeued == []  # a second reaper finds nothing to do
    entry = AuditEntry.objects.get(object_id=str(job.pk))
    assert (entry.via, entry.changes) == ("worker", {"status": ["RUNNING", "READY"]})


def test_it_leaves_a_job_alone_while_it_may_still_be_running(db):
    job = running_job(started_ago=dt.timedelta(minutes=9))

    assert job_requeue_stale().requeued == []
    job.refresh_from_db()
    assert job.status == "RUNNING"


def test_it_fails_a_job_whose_second_run_was_lost_too_instead_of_looping(db):
    job = running_job(started_ago=dt.timedelta(minutes=11), workers=2)

    result = job_requeue_stale()

    assert result.failed == [str(job.pk)] and result.requeued == []
    job.refresh_from_db()
    assert job.status == "FAILED"
    assert job.exception_class_path == LOST_WORKER
    assert "worker-0, worker-1" in job.traceback


def test_it_does_not_requeue_a_job_claimed_again_since_it_was_read(db, monkeypatch):
    """The UPDATE is conditioned on what the reaper read: a job that changed hands in between
    (another reaper requeued it and a worker took it) is not requeued a second time."""
    job = running_job(started_ago=dt.timedelta(minutes=11))
    stale = list(DBTaskResult.objects.filter(pk=job.pk))
    assert job_requeue_stale().requeued == [str(job.pk)]  # the other reaper
    DBTaskResult.objects.get(pk=job.pk).claim("worker-b")  # and a worker took it back
    DBTaskResult.objects.filter(pk=job.pk).update(started_at=timezone.now() - dt.timedelta(minutes=11))

    real_filter = DBTaskResult.objects.filter

    class StaleRead:
        """This reaper's list was read before the other reaper and the new claim."""

        def only(self, *fields):
            return stale

    calls = []

    def filter_once_stale(*args, **kwargs):
        calls.append(kwargs)
        return StaleRead() if len(calls) == 1 else real_filter(*args, **kwargs)

    monkeypatch.setattr(DBTaskResult.objects, "filter", filter_once_stale)
    result = job_requeue_stale()

    assert result.requeued == [] and result.failed == []
    assert DBTaskResult.objects.get(pk=job.pk).status == "RUNNING"


def test_the_command_prints_a_summary_line(db):
    running_job(started_ago=dt.timedelta(minutes=11))
    running_job(started_ago=dt.timedelta(minutes=11), workers=2)
    out = io.StringIO()
    call_command("tasks_requeue_stale", stdout=out)
    assert out.getvalue().strip() == "tâches abandonnées : 1 remise(s) en file, 1 en échec"


def test_the_worker_command_is_ours():
    from django.core.management import get_commands

    assert get_commands()["db_worker"] == "mutualis.core"


def test_it_checks_every_quarter_of_the_timeout_within_a_minute():
    assert reap_interval(2) == 1
    assert reap_interval(120) == 30
    assert reap_interval(1800) == 60


@pytest.mark.django_db(transaction=True)
def test_a_worker_reaps_periodically_while_idle(monkeypatch):
    import threading

    from mutualis.core.management.commands import db_worker

    job = running_job(started_ago=dt.timedelta(minutes=11))
    requeued = threading.Event()

    def reap_and_tell():
        result = job_requeue_stale()
        if result.requeued:
            requeued.set()
        return result

    # Told by the thread rather than polled: an in-memory SQLite shared between threads
    # answers "table is locked" instead of waiting.
    monkeypatch.setattr(db_worker, "job_requeue_stale", reap_and_tell)
    reaper = StaleJobReaper(0.1)
    reaper.start()
    try:
        assert requeued.wait(20)
    finally:
        reaper.stop()
    assert DBTaskResult.objects.get(pk=job.pk).status == "READY"


def test_operator_admins_see_a_failed_job_and_queue_it_again(world, client):
    from django.urls import reverse

    job = running_job(started_ago=dt.timedelta(minutes=11), workers=2)
    job_requeue_stale()  # lost twice: FAILED
    client.force_login(world.admin)

    body = client.get(reverse("helpdesk:notification_failures")).content.decode()
    assert "mutualis.quality.tasks.monthly_reports" in body
    assert LOST_WORKER in body

    response = client.post(reverse("helpdesk:job_retry", kwargs={"job_id": job.pk}))
    assert response.status_code == 302
    (again,) = DBTaskResult.objects.all()
    assert (again.task_path, again.status) == ("mutualis.quality.tasks.monthly_reports", "READY")
    assert again.pk != job.pk
    entry = AuditEntry.objects.get(object_id=str(job.pk), actor=world.admin)
    assert entry.changes["exception_class_path"] == [LOST_WORKER, None]
    assert "Aucune tâche en échec." in client.get(reverse("helpdesk:notification_failures")).content.decode()


@pytest.mark.parametrize("who", ["staff", "manager_a", "agent_a"])
def test_nobody_else_may_queue_a_failed_job_again(world, client, who):
    from django.urls import reverse

    job = running_job(started_ago=dt.timedelta(minutes=11), workers=2)
    job_requeue_stale()
    client.force_login(getattr(world, who))

    assert client.post(reverse("helpdesk:job_retry", kwargs={"job_id": job.pk})).status_code == 404
    assert DBTaskResult.objects.get().status == "FAILED"


def test_a_failed_job_whose_task_is_gone_stays_listed_with_a_message(world, client):
    from django.urls import reverse

    job = running_job(started_ago=dt.timedelta(minutes=11), workers=2)
    job_requeue_stale()
    DBTaskResult.objects.filter(pk=job.pk).update(task_path="mutualis.quality.tasks.removed_since")
    client.force_login(world.admin)

    response = client.post(reverse("helpdesk:job_retry", kwargs={"job_id": job.pk}), follow=True)

    assert "La tâche mutualis.quality.tasks.removed_since n&#x27;existe plus." in response.content.decode()
    assert DBTaskResult.objects.get().status == "FAILED"


def test_it_stops_at_limit_and_the_next_run_goes_on(db):
    for _ in range(3):
        running_job(started_ago=dt.timedelta(minutes=11))
    out = io.StringIO()
    call_command("tasks_requeue_stale", "--limit", "2", stdout=out)
    call_command("tasks_requeue_stale", "--limit", "2", stdout=out)
    assert out.getvalue().split("\n")[:2] == [
        "tâches abandonnées : 2 remise(s) en file, 0 en échec",
        "tâches abandonnées : 1 remise(s) en file, 0 en échec",
    ]
