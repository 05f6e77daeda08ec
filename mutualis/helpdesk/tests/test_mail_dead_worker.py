"""A worker killed (`kill -9`) while it sends a mail: the next worker runs the job once more and
the mail leaves once. Real worker processes, a real SMTP server, the suite's own database (a
SQLite file, or PostgreSQL when DATABASE_URL says so)."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from django.conf import settings as django_settings
from django.db import connection
from django_tasks_db.models import DBTaskResult

from mutualis.helpdesk.models import Notification
from mutualis.helpdesk.tests.mailservers import Inbox, free_port
from mutualis.helpdesk.tests.test_mail_notifications import open_ticket

STALE_AFTER = 2  # seconds


class StallingInbox(Inbox):
    """Holds the first message's DATA, never accepting it (the worker dies meanwhile), then
    accepts the rest."""

    def __init__(self) -> None:
        super().__init__()
        self.stalled = threading.Event()
        self.release = threading.Event()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        if not self.stalled.is_set():
            self.stalled.set()
            while not self.release.is_set():
                await asyncio.sleep(0.05)
            return "451 4.3.0 Not kept"
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def people(world):
    world.agent_a.email = "agent.a@alpha.test"
    world.agent_a.save(update_fields=["email"])
    world.staff.email = "staff@mutualis.test"
    world.staff.save(update_fields=["email"])
    return world


class SharedDatabase:
    """The test database as a URL another process can open. PostgreSQL: the same database.
    SQLite: pytest-django's in-memory database is copied to a file for the workers, and back."""

    def __init__(self, folder: Path) -> None:
        self.file = folder / "shared.sqlite3"

    def url(self) -> str:
        db = connection.settings_dict
        if connection.vendor == "sqlite":
            connection.ensure_connection()
            with sqlite3.connect(self.file) as target:
                connection.connection.backup(target)
            return f"sqlite:///{self.file}"
        credentials = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
        return f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"

    def read_back(self) -> None:
        if connection.vendor == "sqlite":
            with sqlite3.connect(self.file) as source:
                source.backup(connection.connection)


def worker(*extra: str) -> list[str]:
    return [
        sys.executable,
        str(Path(django_settings.BASE_DIR) / "manage.py"),
        "db_worker",
        "--no-startup-delay",
        *extra,
    ]


@pytest.mark.django_db(transaction=True)
def test_a_job_whose_worker_was_killed_runs_once_more_and_its_mail_leaves_once(people, settings, tmp_path):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
    inbox = StallingInbox()
    port = free_port()
    smtp = Controller(inbox, hostname="127.0.0.1", port=port)
    smtp.start()
    database = SharedDatabase(tmp_path)
    try:
        ticket = open_ticket(people)  # commits the ticket, its notification and the job
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "SECRET_KEY": "dead-worker-test-key-0123456789-abcdefghijklmnop",
            "DATABASE_URL": database.url(),
            "EMAIL_URL": f"smtp://127.0.0.1:{port}",
            "DEFAULT_FROM_EMAIL": "assistance@mutualis.test",
            "MUTUALIS_TASKS_BACKEND": "database",
            "MUTUALIS_TASKS_STALE_AFTER": str(STALE_AFTER),
            "MUTUALIS_VAR_DIR": str(tmp_path / "var"),
        }
        first = subprocess.Popen(
            worker("--interval", "0.1"), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        try:
            assert inbox.stalled.wait(90), "the first worker never reached the SMTP server"
        finally:
            first.send_signal(signal.SIGKILL)  # dies in the middle of the job, as with kill -9
            first.wait(30)
        inbox.release.set()
        time.sleep(STALE_AFTER + 0.5)  # the job is now older than the timeout

        # The next worker reaps at start, runs the job, and (--batch) exits when the queue is empty.
        second = subprocess.run(
            worker("--batch", "--interval", "0"), env=env, capture_output=True, text=True, timeout=180
        )
        assert second.returncode == 0, second.stderr[-3000:]

        database.read_back()
        (sent,) = inbox.messages  # the mail left, once
        assert sent.subject.startswith(f"[{ticket.reference}] Demande enregistrée")
        assert sorted(sent.rcpt_tos) == ["agent.a@alpha.test", "staff@mutualis.test"]
        job = DBTaskResult.objects.get()
        assert job.status == "SUCCESSFUL"
        assert len(job.worker_ids) == 2  # the killed run and the one that finished: once more, no more
        assert Notification.objects.get(ticket=ticket).status == "sent"
    finally:
        inbox.release.set()
        smtp.stop()
