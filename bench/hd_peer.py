"""The helpdesk benchmark's peer: django-helpdesk 2.6 from PyPI in its own virtual environment
under a temporary directory, a minimal project generated next to it, its migrations, the same
ticket stream bulk-loaded into its tables, and gunicorn with the same settings as Mutualis's.

Its creation path is its REST API (`POST /api/tickets/`, Django REST framework, which validates
through its TicketForm and saves the ticket and the "ticket opened" followup, mailing the
submitter). DRF's token authentication is switched on in the generated settings — a plain
lookup of the key, no key-stretching — so the peer does not pay for a password hash per request.
Its staff list is the JSON the ticket list page loads (`/datatables_ticket_list/<query>`), its
ticket page `/tickets/<id>/`."""

from __future__ import annotations

import base64
import json
import os
import secrets
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bench import hd_bulk, hd_data

PEER_REQUIREMENT = "django-helpdesk==2.6.*"
GUNICORN = "gunicorn==27.0.1"

SETTINGS = r'''
"""Minimal project around django-helpdesk for the Mutualis benchmark (generated, throwaway)."""
import os
from urllib.parse import urlsplit

BASE_DIR = os.path.dirname(os.path.abspath(__file__))
SECRET_KEY = os.environ["PEER_SECRET_KEY"]
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS = [
    "django.contrib.admin", "django.contrib.auth", "django.contrib.contenttypes", "django.contrib.sessions",
    "django.contrib.messages", "django.contrib.staticfiles", "django.contrib.sites", "django.contrib.humanize",
    "rest_framework", "rest_framework.authtoken", "helpdesk",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
ROOT_URLCONF = "peer_urls"
TEMPLATES = [{
    "BACKEND": "django.template.backends.django.DjangoTemplates", "DIRS": [], "APP_DIRS": True,
    "OPTIONS": {"context_processors": [
        "django.template.context_processors.debug", "django.template.context_processors.request",
        "django.contrib.auth.context_processors.auth", "django.contrib.messages.context_processors.messages",
    ]},
}]
_url = urlsplit(os.environ["PEER_DATABASE_URL"])
if _url.scheme == "sqlite":
    DATABASES = {"default": {
        "ENGINE": "django.db.backends.sqlite3", "NAME": _url.path,
        # The same options as Mutualis's embedded SQLite.
        "OPTIONS": {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", "transaction_mode": "IMMEDIATE",
        },
    }}
else:
    DATABASES = {"default": {
        "ENGINE": "django.db.backends.postgresql", "NAME": _url.path.lstrip("/"), "USER": _url.username or "",
        "PASSWORD": _url.password or "", "HOST": _url.hostname or "", "PORT": _url.port or "",
        "CONN_MAX_AGE": 60,  # as Mutualis's DATABASE_URL parsing
    }}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
LANGUAGE_CODE = "fr"
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
MEDIA_ROOT = os.path.join(BASE_DIR, "media")
SITE_ID = 1
LOGIN_URL = "/login/"
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
DEFAULT_FROM_EMAIL = "helpdesk@localhost"
HELPDESK_TEAMS_MODE_ENABLED = False
REST_FRAMEWORK = {"DEFAULT_AUTHENTICATION_CLASSES": [
    "rest_framework.authentication.TokenAuthentication",
    "rest_framework.authentication.SessionAuthentication",
]}
LOGGING = {"version": 1, "disable_existing_loggers": False,
           "handlers": {"console": {"class": "logging.StreamHandler"}},
           "root": {"handlers": ["console"], "level": "WARNING"}}
'''

URLS = """
from django.urls import include, path
urlpatterns = [path("", include("helpdesk.urls", namespace="helpdesk"))]
"""

WSGI = """
import os
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "peer_settings")
from django.core.wsgi import get_wsgi_application
application = get_wsgi_application()
"""

SETUP = r'''
"""Queues (one per application), staff accounts, a token and a session; the tables' columns."""
import json, sys
import django
django.setup()
from django.contrib.auth import get_user_model
from django.test import Client
from rest_framework.authtoken.models import Token
from helpdesk.models import Queue, Ticket, FollowUp

apps, technicians = json.loads(sys.argv[1])
queues = [
    Queue.objects.create(title=name, slug=f"app-{i:02d}", allow_public_submission=True)
    for i, name in enumerate(apps)
]
User = get_user_model()
staff = []
for t in range(technicians):
    user = User.objects.create_user(f"tech{t}", f"tech{t}@smbe.example", None, is_staff=True)
    staff.append(user)
staff[0].is_superuser = True
staff[0].save()
token = Token.objects.create(user=staff[0])
client = Client()
client.force_login(staff[0])

def columns(model):
    out = []
    for f in model._meta.concrete_fields:
        default = f.default if f.has_default() and not callable(f.default) else None
        out.append({"column": f.column, "attname": f.attname, "null": f.null,
                    "default": default if isinstance(default, (str, int, float, bool, type(None))) else None,
                    "internal": f.get_internal_type()})
    return out

print(json.dumps({
    "queues": [q.pk for q in queues], "staff": [u.pk for u in staff], "token": token.key,
    "session": client.cookies["sessionid"].value,
    "ticket": {"table": Ticket._meta.db_table, "columns": columns(Ticket)},
    "followup": {"table": FollowUp._meta.db_table, "columns": columns(FollowUp)},
}))
'''

STATUS = {"new": 1, "assigned": 1, "in_progress": 1, "pending": 1, "solved": 3, "closed": 4}


@dataclass
class Peer:
    """The peer's environment, database and what the load needs."""

    root: Path
    database_url: str  # sqlite:///path or postgresql://…/peer_bench_hd
    secret_key: str
    version: str = ""
    queues: list[int] | None = None
    token: str = ""
    session: str = ""
    ticket_ids: list[int] | None = None
    tickets: int = 0

    venv: Path | None = None  # an existing environment to reuse (development of the bench)

    @property
    def venv_dir(self) -> Path:
        return self.venv or self.root / "venv"

    @property
    def python(self) -> str:
        return str(self.venv_dir / "bin" / "python")

    @property
    def gunicorn(self) -> str:
        return str(self.venv_dir / "bin" / "gunicorn")

    @property
    def project(self) -> Path:
        return self.root / "project"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_", "PYTHON"))}
        env.update(
            DJANGO_SETTINGS_MODULE="peer_settings",
            PEER_DATABASE_URL=self.database_url,
            PEER_SECRET_KEY=self.secret_key,
            PYTHONPATH=str(self.project),
            VIRTUAL_ENV=str(self.venv_dir),
        )
        return env

    def _run(self, *args: str, timeout: int = 900) -> str:
        completed = subprocess.run(  # noqa: S603 — our own command lines
            list(args), cwd=self.project, env=self.env(), capture_output=True, text=True, timeout=timeout, check=False
        )
        if completed.returncode != 0:
            raise RuntimeError(f"peer: {' '.join(args[:3])}… failed:\n{completed.stderr[-3000:]}")
        return completed.stdout

    def install(self, say: Callable[[str], None]) -> None:
        """A fresh virtual environment with django-helpdesk 2.6 and its own dependencies."""
        self.project.mkdir(parents=True, exist_ok=True)
        if self.venv is None:
            base_python = getattr(sys, "_base_executable", sys.executable)
            subprocess.run([base_python, "-m", "venv", str(self.venv_dir)], check=True)  # noqa: S603
            self._run(self.python, "-m", "pip", "install", "-q", "--disable-pip-version-check",
                      PEER_REQUIREMENT, GUNICORN, "psycopg[binary]")  # fmt: skip
        self.version = self._run(
            self.python,
            "-c",
            "import importlib.metadata as m; print(m.version('django-helpdesk'), m.version('django'))",
        ).strip()
        (self.project / "peer_settings.py").write_text(SETTINGS)
        (self.project / "peer_urls.py").write_text(URLS)
        (self.project / "peer_wsgi.py").write_text(WSGI)
        (self.project / "peer_setup.py").write_text(SETUP)
        say(f"peer: django-helpdesk {self.version.split()[0]} (Django {self.version.split()[1]}) in {self.venv_dir}")

    def migrate_and_load(self, *, tickets: int, seed: int, say: Callable[[str], None]) -> None:
        import time

        started = time.perf_counter()
        self._run(self.python, "-m", "django", "migrate", "--verbosity", "0")
        info = json.loads(
            self._run(
                self.python,
                "peer_setup.py",
                json.dumps([hd_data.SOFTWARE[: hd_data.APPLICATIONS], hd_data.TECHNICIANS]),
            )
        )
        self.queues, self.token, self.session = info["queues"], info["token"], info["session"]
        staff = info["staff"]
        say(f"peer: migrated, {len(self.queues)} queues, {len(staff)} staff in {time.perf_counter() - started:.0f} s")
        shape = hd_data.Shape.build(seed)
        from django.utils import timezone

        now = timezone.now()
        followup_specs: list[hd_data.Spec] = []
        ids: list[int] = []

        def ticket_values(s: hd_data.Spec) -> dict[str, Any]:
            if s.number % hd_data.FOLLOWUP_EVERY == 0:
                followup_specs.append(s)
                if len(ids) < 5000:
                    ids.append(s.number)
            return {
                "id": s.number,
                "title": s.title,
                "queue_id": self.queues[s.application],
                "created": s.opened_at,
                "modified": s.closed_at or s.solved_at or s.taken_at or s.opened_at,
                "submitter_email": f"agent{s.requester}@commune-{s.member:03d}.example",
                "assigned_to_id": staff[s.technician] if s.technician is not None else None,
                "status": STATUS[s.status],
                "on_hold": s.status == "pending",
                "description": s.description,
                "resolution": "Corrigé par l'éditeur." if s.solved_at else "",
                "priority": 6 - s.priority,  # django-helpdesk: 1 is critical
                "due_date": s.ttr_due_at,
                "secret_key": f"{s.number:010x}",
            }

        def followup_values(item: tuple[hd_data.Spec, bool, str, Any]) -> dict[str, Any]:
            s, from_staff, body, at = item
            return {
                "ticket_id": s.number,
                "date": at,
                "title": "Suivi",
                "comment": body,
                "public": True,
                "user_id": staff[s.technician] if from_staff and s.technician is not None else None,
            }

        conn = self._connect()
        try:
            t_columns, t_make = _row_maker(info["ticket"]["columns"], ticket_values)
            with hd_bulk.indexes_deferred(conn, info["ticket"]["table"]):
                count = hd_bulk.insert(
                    conn,
                    info["ticket"]["table"],
                    t_columns,
                    (t_make(s) for s in hd_data.ticket_stream(shape, tickets, now=now)),
                )
            f_columns, f_make = _row_maker(info["followup"]["columns"], followup_values, skip=("id",))
            n_followups = hd_bulk.insert(
                conn, info["followup"]["table"], f_columns,
                (f_make((s, *f)) for s in followup_specs for f in hd_data.followup_texts(s)),
            )  # fmt: skip
            hd_bulk.reset_sequence(conn, info["ticket"]["table"])
            conn.commit()
            hd_bulk.analyze(conn)
            conn.commit()
        finally:
            conn.close()
        self.tickets = count
        self.ticket_ids = ids[:500]
        import random

        random.Random(seed + 2).shuffle(self.ticket_ids)
        say(
            f"peer: {hd_data.thin(count)} tickets, {hd_data.thin(n_followups)} followups loaded in {time.perf_counter() - started:.0f} s"  # noqa: E501
        )

    def _connect(self) -> Any:
        parts = urlsplit(self.database_url)
        if parts.scheme == "sqlite":
            import sqlite3

            conn = sqlite3.connect(parts.path, isolation_level="DEFERRED")
            hd_bulk.speed_up_sqlite(conn)
            return conn
        import psycopg

        return psycopg.connect(self.database_url.replace("postgres://", "postgresql://", 1))

    def count_tickets(self) -> int:
        """While the server runs: a plain connection (no loading pragmas, which need the lock)."""
        parts = urlsplit(self.database_url)
        if parts.scheme == "sqlite":
            import sqlite3

            conn: Any = sqlite3.connect(parts.path, timeout=30)
        else:
            import psycopg

            conn = psycopg.connect(self.database_url.replace("postgres://", "postgresql://", 1))
        try:
            return int(conn.execute("SELECT COUNT(*) FROM helpdesk_ticket").fetchone()[0])
        finally:
            conn.close()

    # --- Requests ---------------------------------------------------------------------------

    def create_requests(self, n: int = 200) -> list[Any]:
        from bench.hd_load import Request

        assert self.queues
        out = []
        for i in range(n):
            body = {
                "queue": self.queues[i % len(self.queues)],
                "title": f"Impossible de valider le bordereau {i}",
                "description": hd_data.SENTENCES[i % len(hd_data.SENTENCES)] + " " + hd_data.SENTENCES[(i + 3) % 10],
                "submitter_email": f"agent{i % 20}@commune-007.example",
                "priority": 3,
            }
            out.append(
                Request(
                    "POST",
                    "/api/tickets/",
                    {"Authorization": f"Token {self.token}", "Content-Type": "application/json"},
                    json.dumps(body),
                )
            )
        return out

    def form_requests(self, n: int = 200) -> list[Any]:
        """Its staff form, `POST /tickets/submit/` with the session, as a person files a ticket
        in django-helpdesk: the path the issue's "about 40 tickets/s over HTTP with a session"
        refers to. The form answers with a redirect to the new ticket. CSRF: the session's
        secret in the cookie and, unmasked, in the form (Django accepts either form)."""
        from urllib.parse import urlencode

        from bench.hd_load import Request

        assert self.queues and self.session
        csrf = secrets.token_hex(16)  # 32 alphanumeric characters, as Django's secret
        headers = {
            "Cookie": f"sessionid={self.session}; csrftoken={csrf}",
            "Content-Type": "application/x-www-form-urlencoded",
        }
        out = []
        for i in range(n):
            body = {
                "csrfmiddlewaretoken": csrf,
                "queue": self.queues[i % len(self.queues)],
                "title": f"Impossible de valider le bordereau {i}",
                "body": hd_data.SENTENCES[i % len(hd_data.SENTENCES)] + " " + hd_data.SENTENCES[(i + 3) % 10],
                "submitter_email": f"agent{i % 20}@commune-007.example",
                "priority": 3,
                "due_date": "",
                "assigned_to": "",
            }
            out.append(Request("POST", "/tickets/submit/", headers, urlencode(body)))
        return out

    def list_requests(self) -> list[Any]:
        """The staff list's data, filtered as the Mutualis queue is: open tickets, by queue, by
        owner, by priority, several pages; sorted by creation, newest first (its default order
        is by creation too)."""
        from bench.hd_load import Request

        assert self.queues
        headers = {"Cookie": f"sessionid={self.session}", "X-Requested-With": "XMLHttpRequest"}
        filters: list[dict[str, Any]] = [{"status__in": [1, 2]}]
        filters += [{"status__in": [1, 2], "queue__id__in": [q]} for q in self.queues[:10]]
        filters += [{"queue__id__in": [q]} for q in self.queues[10:20]]
        filters += [{"status__in": [1, 2], "priority__in": [p]} for p in (1, 2)]
        out = []
        for n, filtering in enumerate(filters):
            query = {"filtering": filtering, "sorting": "created", "sortreverse": True, "search_string": ""}
            encoded = base64.b64encode(json.dumps(query).encode()).decode()
            start = 25 * (n % 3)
            out.append(Request("GET", f"/datatables_ticket_list/{encoded}?draw=1&start={start}&length=25", headers))
        return out

    def page_requests(self) -> list[Any]:
        from bench.hd_load import Request

        assert self.ticket_ids
        return [Request("GET", f"/tickets/{i}/", {"Cookie": f"sessionid={self.session}"}) for i in self.ticket_ids]


def _row_maker(
    columns: list[dict[str, Any]], values: Callable[[Any], dict[str, Any]], skip: tuple[str, ...] = ()
) -> tuple[list[str], Callable[[Any], tuple]]:
    kept = [c for c in columns if c["attname"] not in skip]
    fallback = {"BooleanField": False, "IntegerField": 0, "BigIntegerField": 0, "PositiveIntegerField": 0,
                "SmallIntegerField": 0, "FloatField": 0.0, "DecimalField": 0}  # fmt: skip

    def default(c: dict[str, Any]) -> Any:
        if c["default"] is not None or c["null"]:
            return c["default"]
        return fallback.get(c["internal"], "")

    defaults = {c["attname"]: default(c) for c in kept}

    def make(item: Any) -> tuple:
        given = values(item)
        return tuple(given.get(c["attname"], defaults[c["attname"]]) for c in kept)

    return [c["column"] for c in kept], make
