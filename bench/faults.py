"""Faults, measured: the production set-up (deploy/local_up.py: nginx, two gunicorn app servers)
on a PRIVATE PostgreSQL and a PRIVATE Redis, all on loopback, while clients work through it.

    .venv/bin/python -m bench.faults                  # as root (initdb runs as the postgres user)
    .venv/bin/python -m bench.faults --only 1,3       # some scenarios
    .venv/bin/python -m bench.faults --keep           # leave the folder (logs) behind

1. PostgreSQL restarted (`pg_ctl restart -m fast`) while clients create tickets through the API and
   read pages: failures are 503 with Retry-After, the service is back ≤ 5 s after PostgreSQL,
   tickets in the database = 201 answers (none lost, none doubled).
2. A task worker killed (SIGKILL) in the middle of a batch of queued mails: each mail received
   once by a local SMTP server (aiosmtpd), the reaper giving the dead worker's job back.
3. Redis stopped under load: slower perhaps, 0 errors; latency with and without Redis.
4. The media disk full (a tmpfs of a few MB): uploads refused with a French message, nothing
   half-written (no row without its file, no file without its row, no truncated file).

The machine's own PostgreSQL and Redis are never touched: the bench runs its own on --pg-port and
--redis-port. A benchmark, not a test: it always exits 0 and prints MISSED beside a missed
expectation.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import email
import glob
import json
import os
import pwd
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent
LOCAL_UP = ROOT / "deploy" / "local_up.py"
VENV_BIN = Path(sys.executable).parent
PASSWORD = "Pannes-mesurees-2026"
RECOVERY_TARGET_S = 5.0


def say(message: str) -> None:
    print(f"faults: {message}", file=sys.stderr, flush=True)


# --- Private services ---------------------------------------------------------------------------


def postgres_bin() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    if not found:
        raise RuntimeError("PostgreSQL server binaries absent (/usr/lib/postgresql/*/bin)")
    return Path(found[-1]).parent


class PrivatePostgres:
    """A PostgreSQL cluster of its own in a temporary folder, run as the postgres user."""

    def __init__(self, folder: Path, port: int) -> None:
        self.folder, self.port = folder, port
        self.data = folder / "pgdata"
        self.bin = postgres_bin()
        self.log = folder / "postgres.log"

    def _as_postgres(self, *argv: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["su", "postgres", "-s", "/bin/sh", "-c", shlex.join(argv)], capture_output=True, text=True, timeout=timeout
        )

    def start(self) -> None:
        pwd.getpwnam("postgres")  # KeyError: no postgres user
        self.folder.mkdir(parents=True, exist_ok=True)
        shutil.chown(self.folder, "postgres")
        done = self._as_postgres(str(self.bin / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres")
        if done.returncode:
            raise RuntimeError(f"initdb failed: {done.stderr[-1500:]}")
        self.pg_ctl("start")

    def pg_ctl(self, action: str, *extra: str) -> float:
        """Runs pg_ctl ACTION (waiting for it); returns the seconds it took."""
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1"
        started = time.monotonic()
        done = self._as_postgres(
            str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", *extra, action
        )
        if done.returncode:
            raise RuntimeError(f"pg_ctl {action} failed: {done.stdout[-800:]} {done.stderr[-800:]}")
        return time.monotonic() - started

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/mutualis"

    def create_database(self) -> None:
        import psycopg

        with psycopg.connect(
            host="127.0.0.1", port=self.port, user="postgres", dbname="postgres", autocommit=True
        ) as c:
            c.execute("CREATE DATABASE mutualis")

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            with contextlib.suppress(Exception):
                self.pg_ctl("stop", "-m", "fast")


class PrivateRedis:
    def __init__(self, folder: Path, port: int) -> None:
        self.folder, self.port = folder, port
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server absent (apt-get install -y redis-server)")
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.folder)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if (
                subprocess.run(
                    ["redis-cli", "-p", str(self.port), "ping"], capture_output=True, text=True
                ).stdout.strip()
                == "PONG"
            ):
                return
            time.sleep(0.1)
        raise RuntimeError("the private redis-server did not start")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        self.process = None


class MailSink:
    """A local SMTP server (aiosmtpd) that keeps every message it accepts, slowly if asked."""

    def __init__(self, port: int) -> None:
        from aiosmtpd.controller import Controller

        self.messages: list[tuple[str, tuple[str, ...]]] = []  # (X-Mutualis-Ticket, recipients)
        self.delay = 0.0
        self.lock = threading.Lock()
        sink = self

        class Handler:
            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
                if sink.delay:
                    await asyncio.sleep(sink.delay)
                message = email.message_from_bytes(envelope.content)
                with sink.lock:
                    sink.messages.append((str(message.get("X-Mutualis-Ticket", "")), tuple(envelope.rcpt_tos)))
                return "250 OK"

        self.controller = Controller(Handler(), hostname="127.0.0.1", port=port)

    def __enter__(self) -> MailSink:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()

    def count(self) -> int:
        with self.lock:
            return len(self.messages)


# --- The set-up ---------------------------------------------------------------------------------


@dataclass
class SetUp:
    folder: Path
    base: str = ""
    env: dict[str, str] = field(default_factory=dict)
    token: str = ""
    username: str = "pannes-dsi"
    state: dict[str, Any] = field(default_factory=dict)


def read_env_file(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    for line in path.read_text().splitlines():
        match = re.match(r"^([A-Z][A-Z0-9_]*)=(.*)$", line.strip())
        if match:
            values[match.group(1)] = match.group(2)
    return values


def process_environment(setup: SetUp, **overrides: str) -> dict[str, str]:
    """What a Mutualis process of the set-up gets (its env file), plus overrides."""
    base = {"PATH": os.environ.get("PATH", ""), "LANG": "C.UTF-8", "HOME": os.environ.get("HOME", "/root")}
    return {**base, **setup.env, **overrides}


def setup_django(setup: SetUp) -> None:
    os.environ.update({k: v for k, v in setup.env.items() if k not in {"LOG_LEVEL"}})
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    os.environ["LOG_LEVEL"] = "WARNING"
    import django

    django.setup()


def seed(setup: SetUp) -> None:
    """An operator, a member with its manager (password and API token), the default calendar."""
    from mutualis.accounts.models import Role, User
    from mutualis.accounts.services import api_token_create
    from mutualis.helpdesk import sla
    from mutualis.members.models import Organisation, OrganisationKind

    operator = Organisation.objects.create(name="Syndicat des pannes", slug="operateur", kind=OrganisationKind.OPERATOR)
    member = Organisation.objects.create(
        name="Commune des pannes", slug="pannes", kind=OrganisationKind.COMMUNE, insee_code="69999"
    )
    assert operator.pk and member.pk
    manager = User.objects.create_user(
        username=setup.username, password=PASSWORD, email="dsi@pannes.example", role=Role.MEMBER_MANAGER,
        organisation=member,
    )  # fmt: skip
    _, setup.token = api_token_create(actor=manager, name="bench.faults")
    sla.default_calendar()


@contextlib.contextmanager
def running(args: argparse.Namespace, folder: Path, database_url: str, media: Path) -> Iterator[SetUp]:
    setup = SetUp(folder=folder / "setup")
    command = [
        sys.executable, str(LOCAL_UP), "up", "--dir", str(setup.folder), "--port", str(args.port),
        "--database-url", database_url, "--cache-url", f"redis://127.0.0.1:{args.redis_port}/0",
        "--app-servers", "2", "--workers", "0", "--no-scheduler", "--app-port", str(args.port + 1),
        "--env", f"EMAIL_URL=smtp://127.0.0.1:{args.smtp_port}", "--env", f"MEDIA_ROOT={media}",
        "--env", "MUTUALIS_REQUIRE_2FA=false", "--env", "MUTUALIS_TASKS_STALE_AFTER=4",
        "--env", "MUTUALIS_WEB_WORKERS=3", "--env", "LOG_LEVEL=WARNING",
    ]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "CACHE_URL", "DJANGO_SETTINGS_MODULE"}}
    env["PYTHONPATH"] = str(ROOT)
    started = time.monotonic()
    try:
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
        if done.returncode:
            raise RuntimeError(f"local_up up failed:\n{done.stderr[-3000:]}")
        setup.state = json.loads((setup.folder / "state.json").read_text())
        setup.base = setup.state["base_url"].rstrip("/")
        setup.env = read_env_file(Path(setup.state["env_file"]))
        say(f"up at {setup.base} (nginx → 2 app servers) in {time.monotonic() - started:.0f} s")
        yield setup
    finally:
        subprocess.run(
            [sys.executable, str(LOCAL_UP), "down", "--dir", str(setup.folder)], env=env, capture_output=True,
            timeout=120,
        )  # fmt: skip


# --- Clients ------------------------------------------------------------------------------------


@dataclass
class Call:
    kind: str
    started: float
    ended: float
    status: int  # 0: no answer (connection refused, reset, timed out)
    retry_after: str = ""
    title: str = ""

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


class Load:
    """Threads that call the set-up until stopped: ticket creation through the API (unique
    titles), the API's ticket list, and a page as a signed-in member."""

    def __init__(self, setup: SetUp, *, writers: int, readers: int, run: str) -> None:
        self.setup, self.run = setup, run
        self.calls: list[Call] = []
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.counter = 0
        self.threads = [threading.Thread(target=self.write, daemon=True) for _ in range(writers)]
        # Signed in before the load starts: a login is not what is measured.
        self.threads += [
            threading.Thread(target=self.read, args=(n, signed_in(setup)), daemon=True) for n in range(readers)
        ]

    def __enter__(self) -> Load:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(30)

    def record(self, call: Call) -> None:
        with self.lock:
            self.calls.append(call)

    def next_title(self) -> str:
        with self.lock:
            self.counter += 1
            return f"{self.run}-{self.counter:05d}"

    def timed(self, kind: str, send: Callable[[], requests.Response], title: str = "") -> None:
        started = time.monotonic()
        try:
            response = send()
            status, retry_after = response.status_code, response.headers.get("Retry-After", "")
        except requests.RequestException:
            status, retry_after = 0, ""
        self.record(Call(kind, started, time.monotonic(), status, retry_after, title))

    def write(self) -> None:
        http = requests.Session()
        http.headers["Authorization"] = f"Bearer {self.setup.token}"
        while not self.stop.is_set():
            title = self.next_title()
            payload = {"ticket_type": "incident", "title": title, "description": "Créé par bench.faults."}
            self.timed(
                "api create",
                lambda payload=payload: http.post(f"{self.setup.base}/api/v1/tickets/", json=payload, timeout=15),  # type: ignore[misc]
                title,
            )

    def read(self, number: int, page: requests.Session) -> None:
        api = requests.Session()
        api.headers["Authorization"] = f"Bearer {self.setup.token}"
        while not self.stop.is_set():
            if number % 2:
                self.timed("api list", lambda: api.get(f"{self.setup.base}/api/v1/tickets/", timeout=15))
            else:
                self.timed("page", lambda: page.get(f"{self.setup.base}/assistance/", timeout=15))


def signed_in(setup: SetUp) -> requests.Session:
    http = requests.Session()
    login = f"{setup.base}/comptes/connexion/"
    http.get(login, timeout=15)
    answer = http.post(
        login,
        data={
            "username": setup.username,
            "password": PASSWORD,
            "csrfmiddlewaretoken": http.cookies.get("csrftoken", ""),
        },
        headers={"Referer": login},
        timeout=15,
        allow_redirects=False,
    )
    if answer.status_code != 302:
        raise RuntimeError(f"login refused ({answer.status_code})")
    return http


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


@dataclass
class Row:
    scenario: str
    expectation: str
    measured: str
    ok: bool | None  # None: not measured (skipped)


# --- 1. PostgreSQL restarted --------------------------------------------------------------------


def scenario_postgres(setup: SetUp, postgres: PrivatePostgres, say: Callable[[str], None]) -> list[Row]:
    from django.db import connections

    from mutualis.helpdesk.models import Ticket

    run = f"pg-{uuid.uuid4().hex[:6]}"
    with Load(setup, writers=4, readers=2, run=run) as load:
        time.sleep(4)
        restart_began = time.monotonic()
        took = postgres.pg_ctl("restart", "-m", "fast")
        back = time.monotonic()
        say(f"PostgreSQL restarted in {took:.1f} s")
        time.sleep(8)
    connections.close_all()
    calls = load.calls
    failed = [c for c in calls if not c.ok]
    shaped = [c for c in failed if c.status == 503 and c.retry_after]
    other = [c for c in failed if not (c.status == 503 and c.retry_after)]
    last_failure = max((c.ended for c in failed), default=back)
    recovery = max(0.0, last_failure - back)
    first_failure = min((c.ended for c in failed), default=back)  # answered: a request may hang before
    first_ok_after = min((c.ended for c in calls if c.ok and c.started >= back), default=float("nan")) - back
    refusal_ms = [(c.ended - c.started) * 1000 for c in shaped]
    created = Counter(Ticket.objects.filter(title__startswith=run).values_list("title", flat=True))
    answered_201 = {c.title for c in calls if c.kind == "api create" and c.status == 201}
    lost = [t for t in answered_201 if created[t] == 0]
    doubled = [t for t, n in created.items() if n > 1]
    written_unconfirmed = [c for c in calls if c.kind == "api create" and c.status != 201 and created[c.title]]
    refused_clean = [c for c in calls if c.kind == "api create" and c.status != 201 and not created[c.title]]
    unanswered = [c for c in calls if c.kind == "api create" and c.status == 0]
    statuses = Counter(c.status for c in calls)
    say(f"PostgreSQL: {len(calls)} requests, statuses {dict(sorted(statuses.items()))}")
    return [
        Row(
            "1 PostgreSQL restart",
            "failures are 503 + Retry-After",
            f"{len(calls)} requests, {len(failed)} failed: {len(shaped)} × 503+Retry-After, "
            f"{len(other)} other ({dict(Counter(c.status for c in other))}); 503 answered in p50 "
            f"{percentile(refusal_ms, 0.5):.0f} ms, p95 {percentile(refusal_ms, 0.95):.0f} ms; pg_ctl restart took "
            f"{back - restart_began:.1f} s, failures answered during {max(0.0, last_failure - first_failure):.1f} s",
            not other,
        ),
        Row(
            "1 PostgreSQL restart",
            f"back ≤ {RECOVERY_TARGET_S:g} s after PostgreSQL",
            f"last failure {recovery:.2f} s after PostgreSQL answered again, first success "
            f"{first_ok_after:.2f} s after",
            recovery <= RECOVERY_TARGET_S,
        ),
        Row(
            "1 PostgreSQL restart",
            "tickets in DB = 201 answers",
            f"{sum(created.values())} in DB, {len(answered_201)} × 201; lost {len(lost)}, doubled {len(doubled)}, "
            f"written but answered an error {len(written_unconfirmed)}, refused and not written {len(refused_clean)} "
            f"(no answer at all: {len(unanswered)}, of which written {sum(1 for c in unanswered if created[c.title])})",
            not lost and not doubled and not written_unconfirmed,
        ),
    ]


# --- 2. A worker killed mid-batch ---------------------------------------------------------------


def scenario_worker(setup: SetUp, sink: MailSink, args: argparse.Namespace, say: Callable[[str], None]) -> list[Row]:
    from django.db import connections
    from django_tasks_db.models import DBTaskResult

    from mutualis.helpdesk.outbox_models import Notification, NotificationStatus

    # The batch: the notifications queued so far (no worker runs yet) and more, up to --jobs.
    http = requests.Session()
    http.headers["Authorization"] = f"Bearer {setup.token}"
    run = f"job-{uuid.uuid4().hex[:6]}"
    pending = Notification.objects.filter(status=NotificationStatus.PENDING).count()
    for number in range(max(0, args.jobs - pending)):
        http.post(
            f"{setup.base}/api/v1/tickets/",
            json={"ticket_type": "incident", "title": f"{run}-{number}", "description": "Un courriel par ticket."},
            timeout=15,
        ).raise_for_status()
    # A ticket's creation is mailed to its requester (the member's manager), one message each.
    expected = [
        (reference, (address,))
        for reference, address in Notification.objects.filter(status=NotificationStatus.PENDING).values_list(
            "ticket__reference", "ticket__requester__email"
        )
    ]
    notifications = Notification.objects.filter(status=NotificationStatus.PENDING).count()
    jobs = DBTaskResult.objects.filter(status="READY").count()
    say(f"worker: {notifications} notifications queued ({jobs} jobs), mail server answering in {args.smtp_delay} s")
    sink.messages.clear()
    sink.delay = args.smtp_delay
    env = process_environment(setup, MUTUALIS_TASKS_STALE_AFTER="4")
    logs = setup.folder / "logs"

    def worker(name: str) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [str(VENV_BIN / "mutualis"), "db_worker", "--interval", "1"], env=env, cwd=ROOT,
            stdout=(logs / f"{name}.log").open("ab"), stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip

    first = worker("bench-worker-1")
    kill_at = max(1, notifications // 3)
    deadline = time.monotonic() + 120
    while sink.count() < kill_at and time.monotonic() < deadline and first.poll() is None:
        time.sleep(0.02)
    os.killpg(first.pid, signal.SIGKILL)
    first.wait(10)
    connections.close_all()
    running_at_kill = DBTaskResult.objects.filter(status="RUNNING").count()
    received_at_kill = sink.count()
    say(f"worker 1 killed (SIGKILL) after {received_at_kill} mails, {running_at_kill} job(s) left running")
    second = worker("bench-worker-2")
    started = time.monotonic()
    try:
        while time.monotonic() - started < 120:
            connections.close_all()
            left = DBTaskResult.objects.filter(status__in=["READY", "RUNNING"]).count()
            unsent = Notification.objects.exclude(status=NotificationStatus.SENT).count()
            if not left and not unsent:
                break
            time.sleep(0.5)
        drained = time.monotonic() - started
        time.sleep(1)  # a straggler would show
    finally:
        os.killpg(second.pid, signal.SIGTERM)
        second.wait(30)
    sink.delay = 0
    received = Counter((reference, tuple(sorted(rcpt))) for reference, rcpt in sink.messages)
    wanted = Counter((reference, tuple(sorted(rcpt))) for reference, rcpt in expected)
    duplicates = sum(n - 1 for n in received.values() if n > 1)
    missing = sum(1 for key in wanted if key not in received)
    unexpected = sum(1 for key in received if key not in wanted)
    failed_jobs = DBTaskResult.objects.filter(status="FAILED").count()
    connections.close_all()
    return [
        Row(
            "2 worker killed mid-batch",
            "each mail received once",
            f"{len(expected)} notifications, {sum(received.values())} mails received; killed after "
            f"{received_at_kill} with {running_at_kill} job running; duplicates {duplicates}, missing {missing}, "
            f"unexpected {unexpected}; failed jobs {failed_jobs}; drained {drained:.0f} s after the restart",
            running_at_kill > 0 and duplicates == 0 and missing == 0 and unexpected == 0 and failed_jobs == 0,
        )
    ]


# --- 3. Redis stopped ---------------------------------------------------------------------------


def scenario_redis(
    setup: SetUp, redis: PrivateRedis, args: argparse.Namespace, say: Callable[[str], None]
) -> list[Row]:
    def measure(label: str) -> list[Call]:
        with Load(setup, writers=1, readers=3, run=f"redis-{label}-{uuid.uuid4().hex[:6]}") as load:
            time.sleep(args.redis_seconds)
        return load.calls

    with_redis = measure("up")
    redis.stop()
    say("Redis stopped")
    try:
        without = measure("down")
    finally:
        redis.start()
        say("Redis started again")
    rows = []
    errors = [c for c in without if not c.ok]
    for kind in ("page", "api list", "api create"):
        up = [(c.ended - c.started) * 1000 for c in with_redis if c.kind == kind and c.ok]
        down = [(c.ended - c.started) * 1000 for c in without if c.kind == kind and c.ok]
        rows.append(
            Row(
                "3 Redis stopped",
                f"{kind}: latency (info)",
                f"with Redis p50 {percentile(up, 0.5):.0f} ms p95 {percentile(up, 0.95):.0f} ms; "
                f"without p50 {percentile(down, 0.5):.0f} ms p95 {percentile(down, 0.95):.0f} ms",
                None,
            )
        )
    rows.append(
        Row(
            "3 Redis stopped",
            "0 non-2xx without Redis",
            f"{len(without)} requests, {len(errors)} non-2xx {dict(Counter(c.status for c in errors))} "
            f"(with Redis: {sum(1 for c in with_redis if not c.ok)} of {len(with_redis)})",
            not errors and bool(without),
        )
    )
    return rows


# --- 4. The media disk full ---------------------------------------------------------------------


def scenario_disk(setup: SetUp, media: Path, mounted: bool, say: Callable[[str], None]) -> list[Row]:
    from django.db import connections

    from mutualis.helpdesk.models import Attachment, Followup, Ticket

    expectation = "French message, nothing half-written"
    if not mounted:
        return [Row("4 media disk full", expectation, "skipped: `mount -t tmpfs` refused here", None)]
    http = signed_in(setup)
    api = requests.Session()
    api.headers["Authorization"] = f"Bearer {setup.token}"
    answer = api.post(
        f"{setup.base}/api/v1/tickets/",
        json={"ticket_type": "incident", "title": "Pièces jointes", "description": "Disque plein."},
        timeout=15,
    )
    answer.raise_for_status()
    reference = answer.json()["reference"]
    ticket_page = f"{setup.base}/assistance/tickets/{reference}/"

    def csrf() -> str:
        http.get(ticket_page, timeout=15)
        return http.cookies.get("csrftoken", "")

    def pdf(size: int) -> bytes:
        return b"%PDF-1.4\n" + os.urandom(size - 9)

    accepted = refused_with_message = other = 0
    size = 400 * 1024
    for number in range(40):  # fill the disk one attachment at a time
        response = http.post(
            f"{ticket_page}pieces-jointes/",
            data={"csrfmiddlewaretoken": csrf()},
            files={"attachments": (f"piece-{number}.pdf", pdf(size), "application/pdf")},
            headers={"Referer": ticket_page},
            timeout=30,
        )
        if "plus de place" in response.text:
            refused_with_message += 1
            break
        if response.ok:
            accepted += 1
        else:
            other += 1
    # A followup with two files that cannot both fit.
    body = f"Suivi {uuid.uuid4().hex[:6]} avec deux captures"
    followup = http.post(
        f"{ticket_page}suivi/",
        data={"csrfmiddlewaretoken": csrf(), "body": body},
        files=[("attachments", ("capture-1.pdf", pdf(size), "application/pdf")),
               ("attachments", ("capture-2.pdf", pdf(size), "application/pdf"))],
        headers={"Referer": ticket_page},
        timeout=30,
    )  # fmt: skip
    followup_refused = "plus de place" in followup.text and body in followup.text
    connections.close_all()
    rows = list(Attachment.objects.filter(ticket__reference=reference).values_list("file", "size"))
    missing = [name for name, size_ in rows if not (media / name).is_file() or (media / name).stat().st_size != size_]
    named = {name for name, _ in rows}
    on_disk = [str(p.relative_to(media)) for p in media.rglob("*") if p.is_file()]
    orphans = [name for name in on_disk if name not in named]
    partial = [name for name in on_disk if Path(name).name.startswith(".partial-")]
    followup_written = Followup.objects.filter(body=body).exists()
    tickets_ok = Ticket.objects.filter(reference=reference).count() == 1
    say(f"disk: {accepted} attachments stored, then refused; followup refused: {followup_refused}")
    ok = (
        refused_with_message == 1
        and followup_refused
        and not followup_written
        and not missing
        and not orphans
        and not partial
        and other == 0
        and tickets_ok
    )
    return [
        Row(
            "4 media disk full",
            expectation,
            f"{accepted} × 400 KB stored, the next refused with « plus de place » ({refused_with_message}), "
            f"followup with 2 files refused and form kept: {followup_refused}, written: {followup_written}; "
            f"rows without file {len(missing)}, files without row {len(orphans)}, partial files {len(partial)}, "
            f"other errors {other}",
            ok,
        )
    ]


# --- Main ---------------------------------------------------------------------------------------


def print_rows(rows: list[Row]) -> None:
    """scenario | expectation | result | measured (last: it is long)."""
    table = [("scenario", "expectation", "result", "measured")] + [
        (r.scenario, r.expectation, "n/a" if r.ok is None else ("OK" if r.ok else "MISSED"), r.measured) for r in rows
    ]
    widths = [max(len(row[i]) for row in table) for i in range(3)]
    for number, row in enumerate(table):
        print("  ".join([*(cell.ljust(widths[i]) for i, cell in enumerate(row[:3])), row[3]]))
        if number == 0:
            print("  ".join(["-" * w for w in widths] + ["-" * 8]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=8200, help="nginx; app servers on the next two ports")
    parser.add_argument("--pg-port", type=int, default=5441, help="the private PostgreSQL")
    parser.add_argument("--redis-port", type=int, default=6381, help="the private Redis")
    parser.add_argument("--smtp-port", type=int, default=8230, help="the local SMTP server")
    parser.add_argument("--media-mb", type=int, default=3, help="size of the tmpfs holding the media")
    parser.add_argument("--jobs", type=int, default=60, help="queued mails when the worker is killed")
    parser.add_argument("--smtp-delay", type=float, default=0.05, help="seconds the SMTP server takes per mail")
    parser.add_argument("--redis-seconds", type=float, default=10, help="load with, then without Redis")
    parser.add_argument("--only", default="1,2,3,4", help="scenarios to run, e.g. 1,3")
    parser.add_argument("--keep", action="store_true", help="keep the folder (logs, data) at the end")
    args = parser.parse_args(argv)
    only = {part.strip() for part in args.only.split(",")}
    if not LOCAL_UP.exists():
        print("MISSED: deploy/local_up.py is absent: nothing measured")
        return 0
    if os.geteuid() != 0:
        print("MISSED: run as root (initdb and pg_ctl run as the postgres user, the media go on a tmpfs)")
        return 0
    try:
        postgres_bin()
    except RuntimeError as absent:
        print(f"MISSED: {absent}: nothing measured")
        return 0
    folder = Path(tempfile.mkdtemp(prefix="mutualis-faults-"))
    folder.chmod(0o755)
    postgres = PrivatePostgres(folder / "postgres", args.pg_port)
    redis = PrivateRedis(folder, args.redis_port)
    media = folder / "media"
    media.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={args.media_mb}m", "tmpfs", str(media)], capture_output=True
    ).returncode == 0  # fmt: skip
    rows: list[Row] = []
    try:
        postgres.start()
        postgres.create_database()
        redis.start()
        say(
            f"private PostgreSQL on {args.pg_port}, Redis on {args.redis_port}, "
            f"media on a {args.media_mb} MB tmpfs: {mounted}"
        )
        with MailSink(args.smtp_port) as sink, running(args, folder, postgres.url, media) as setup:
            setup_django(setup)
            seed(setup)
            if "1" in only:
                rows += scenario_postgres(setup, postgres, say)
            if "2" in only:
                rows += scenario_worker(setup, sink, args, say)
            if "3" in only:
                rows += scenario_redis(setup, redis, args, say)
            if "4" in only:
                rows += scenario_disk(setup, media, mounted, say)
    finally:
        from django.db import connections

        with contextlib.suppress(Exception):
            connections.close_all()
        redis.stop()
        postgres.stop()
        if mounted:
            subprocess.run(["umount", str(media)], check=False)
        if args.keep:
            say(f"kept {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)
    print_rows(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
