"""`BatchCommand`: one run at a time (on SQLite and PostgreSQL alike), --limit, a summary line."""

from __future__ import annotations

import datetime as dt
import io
import logging
import threading
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.utils import timezone

from mutualis.core import commands
from mutualis.core.commands import LOCKED_EXIT, BatchCommand, CommandLocked, command_lock
from mutualis.core.models import CommandLock


class Probe(BatchCommand):
    """A batch command whose work the test decides."""

    def __init__(self, work: Any = None) -> None:
        super().__init__(stdout=io.StringIO(), stderr=io.StringIO())
        self.work = work or (lambda: "sonde : 3 élément(s) traité(s)")

    @property
    def command_name(self) -> str:
        return "probe"

    def run(self, **options: Any) -> str:
        return self.work()


def test_it_prints_the_summary_line_and_logs_it_with_the_duration(db, caplog):
    out = io.StringIO()
    with caplog.at_level(logging.INFO, logger="mutualis.commands"):
        call_command(Probe(), stdout=out)
    assert out.getvalue().strip() == "sonde : 3 élément(s) traité(s)"
    assert any(r.getMessage().startswith("probe: sonde : 3 élément(s) traité(s) (") for r in caplog.records)
    assert not CommandLock.objects.exists()  # released


def test_it_refuses_a_second_run_while_the_first_holds_the_lock(db):
    out = io.StringIO()
    with command_lock("helpdesk_sla_escalate"):
        with pytest.raises(CommandError, match="une autre exécution est en cours") as refused:
            call_command("helpdesk_sla_escalate", stdout=out)
        assert CommandLock.objects.get().name == "helpdesk_sla_escalate"  # the first run's lock stays
    assert refused.value.returncode == LOCKED_EXIT
    assert "rien n'a été fait" in str(refused.value)
    assert out.getvalue() == ""
    call_command("helpdesk_sla_escalate", stdout=out)  # once the first run is over
    assert "niveaux de service" in out.getvalue()


def test_a_refused_run_exits_with_a_non_zero_status_from_the_command_line(db, capsys, monkeypatch):
    from django.core.management import base

    from mutualis.core.management.commands.tasks_requeue_stale import Command

    monkeypatch.setattr(base.connections, "close_all", lambda: None)  # keep the test's connection

    with command_lock("tasks_requeue_stale"), pytest.raises(SystemExit) as exit_:
        Command().run_from_argv(["mutualis", "tasks_requeue_stale"])
    assert exit_.value.code == LOCKED_EXIT == 75
    assert "une autre exécution est en cours" in capsys.readouterr().err


def test_it_waits_for_the_other_run_with_wait(db, monkeypatch):
    held = command_lock("probe")
    held.__enter__()
    waited = []

    def sleep(seconds: float) -> None:  # the other run finishes while this one waits
        waited.append(seconds)
        held.__exit__(None, None, None)

    monkeypatch.setattr(commands.time, "sleep", sleep)
    out = io.StringIO()
    call_command(Probe(), "--wait", "5", stdout=out)
    assert waited and "sonde" in out.getvalue()


def test_it_gives_up_waiting_after_wait_seconds(db, monkeypatch):
    clock = [0.0]
    monkeypatch.setattr(commands.time, "monotonic", lambda: clock[0])
    monkeypatch.setattr(commands.time, "sleep", lambda seconds: clock.__setitem__(0, clock[0] + seconds))
    with command_lock("probe"), pytest.raises(CommandError, match="une autre exécution"):
        call_command(Probe(), "--wait", "3")
    assert clock[0] == 3.0


def test_it_takes_over_the_lock_of_a_run_that_died(db):
    past = timezone.now() - dt.timedelta(hours=2)
    CommandLock.objects.create(name="probe", holder="old:1", acquired_at=past, expires_at=past + dt.timedelta(hours=1))
    out = io.StringIO()
    call_command(Probe(), stdout=out)
    assert "sonde" in out.getvalue()
    assert not CommandLock.objects.exists()


def test_it_releases_the_lock_when_the_run_fails(db):
    def fail() -> str:
        raise CommandError("relève impossible")

    with pytest.raises(CommandError, match="relève impossible"):
        call_command(Probe(fail))
    assert not CommandLock.objects.exists()


def test_progress_keeps_a_long_run_alive(db, monkeypatch):
    clock = [0.0]
    monkeypatch.setattr(commands.time, "monotonic", lambda: clock[0])
    probe = Probe()

    def work() -> str:
        before = CommandLock.objects.get().expires_at
        clock[0] += probe.lock_ttl.total_seconds() / 2  # half the lock's life later
        probe.progress(10, 20)
        assert CommandLock.objects.get().expires_at > before
        return "sonde : fini"

    probe.work = work
    call_command(probe)


def test_directory_syncs_of_two_collectivities_do_not_wait_for_each_other(world, tmp_path):
    path = tmp_path / "rh.csv"
    path.write_text("matricule;civilite;nom;prenom;courriel;emploi;service;responsable;entree;sortie\n")
    out = io.StringIO()
    with command_lock("directory_sync:bravo"):
        call_command("directory_sync", str(path), "--dry-run", "--collectivity", "alpha", stdout=out)
        with pytest.raises(CommandError, match="une autre exécution"):
            call_command("directory_sync", str(path), "--dry-run", "--collectivity", "bravo")
    assert out.getvalue().startswith("annuaire Alpha")


def test_it_refuses_a_limit_below_one(db):
    with pytest.raises(CommandError):
        call_command("tasks_requeue_stale", "--limit", "0")


@pytest.mark.django_db(transaction=True)
def test_a_run_in_another_connection_is_refused_while_the_lock_is_held():
    """Two real runs: the lock is committed by one thread (its own connection), the other is refused."""
    if connection.vendor == "sqlite" and connection.settings_dict["NAME"] == ":memory:":
        pytest.skip("an in-memory SQLite database is not shared between connections")
    taken, release, done = threading.Event(), threading.Event(), threading.Event()

    def first_run() -> None:
        try:
            with command_lock("probe"):
                taken.set()
                release.wait(10)
        finally:
            connection.close()
            done.set()

    thread = threading.Thread(target=first_run)
    thread.start()
    try:
        assert taken.wait(10)
        with pytest.raises(CommandLocked), command_lock("probe"):
            pass
    finally:
        release.set()
        thread.join(10)
    with command_lock("probe"):  # the first run is over
        assert CommandLock.objects.count() == 1
