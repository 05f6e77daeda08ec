"""/sante/ for load balancers and /metriques/ for Prometheus: what each answers, to whom, and at
what cost."""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from prometheus_client.parser import text_string_to_metric_families

from mutualis.core import metrics
from mutualis.core.models import SchedulerProcess

ROOT = Path(__file__).resolve().parents[3]
TOKEN = "t" * 24 + "0123456789abcdef"
# Ports of this test module (8600-8699): nothing listens on them, so a connection is refused.
CLOSED_PORT = 8601
SILENT_PORT = 8602


@pytest.fixture(autouse=True)
def database_backend(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}


def tick(ago: dt.timedelta) -> None:
    now = timezone.now()
    SchedulerProcess.objects.create(
        holder=f"h:{ago.total_seconds()}", host="h", pid=1, started_at=now - ago, last_tick_at=now - ago
    )


def enqueue(count: int = 1, *, waited: dt.timedelta = dt.timedelta(0), run_after: dt.datetime | None = None) -> None:
    from mutualis.quality.tasks import monthly_reports

    task = monthly_reports.using(run_after=run_after) if run_after else monthly_reports
    ids = [task.enqueue().db_result.pk for _ in range(count)]
    DBTaskResult.objects.filter(pk__in=ids).update(enqueued_at=timezone.now() - waited)


def sante(client, query: str = "") -> tuple[int, dict]:
    response = client.get(f"/sante/{query}")
    assert response["Content-Type"] == "application/json"
    assert response["Cache-Control"] == "no-store"
    return response.status_code, response.json()


def scrape(client) -> dict[str, dict]:
    """The families of /metriques/ as prometheus_client's own parser reads them:
    {family: {(sample name, sorted labels): value}}."""
    response = client.get("/metriques/", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain")
    families: dict[str, dict] = {}
    for family in text_string_to_metric_families(response.content.decode()):
        families[family.name] = {
            (sample.name, tuple(sorted(sample.labels.items()))): sample.value for sample in family.samples
        }
    return families


def statements(queries: CaptureQueriesContext) -> int:
    """Statements sent, less the savepoints the test's own transaction turns `atomic` into."""
    return sum(1 for query in queries.captured_queries if "SAVEPOINT" not in query["sql"])


# --- /sante/ ----------------------------------------------------------------------------------


def test_it_answers_ok_when_every_check_passes(db, client):
    tick(dt.timedelta(seconds=20))

    code, body = sante(client)

    assert code == 200
    assert body["status"] == "ok"
    assert {name: check["status"] for name, check in body["checks"].items()} == {
        "database": "ok",
        "cache": "ok",
        "jobs": "ok",
        "scheduler": "ok",
    }
    assert 15 <= body["checks"]["scheduler"]["age_seconds"] < 120
    assert body["checks"]["jobs"]["oldest_due_seconds"] is None
    assert "server" not in body


def test_it_answers_head_for_load_balancers_that_send_it(db, client):
    tick(dt.timedelta(seconds=1))
    response = client.head("/sante/")
    assert response.status_code == 200
    assert client.post("/sante/").status_code == 405


def test_it_needs_no_login_and_no_second_factor(db, client, world, settings):
    settings.REQUIRE_2FA_FOR_STAFF = True
    client.force_login(world.staff)  # operator staff who has not passed the second factor

    assert client.get("/sante/").status_code == 200


def test_it_warns_when_the_oldest_due_job_waits_too_long(db, client, settings):
    settings.HEALTH_JOB_AGE_WARN = 300
    tick(dt.timedelta(seconds=5))
    enqueue(2, waited=dt.timedelta(minutes=2))
    # A job deferred to later is not late, however long ago it was queued.
    enqueue(waited=dt.timedelta(hours=3), run_after=timezone.now() + dt.timedelta(hours=1))

    code, body = sante(client)
    assert (code, body["status"], body["checks"]["jobs"]["status"]) == (200, "ok", "ok")
    assert body["checks"]["jobs"]["due"] == 2
    assert 110 <= body["checks"]["jobs"]["oldest_due_seconds"] < 200

    enqueue(waited=dt.timedelta(minutes=6))
    code, body = sante(client)
    assert (code, body["status"], body["checks"]["jobs"]["status"]) == (200, "degraded", "warn")
    assert body["checks"]["jobs"]["oldest_due_seconds"] >= 360


def test_it_warns_when_the_scheduler_is_silent_or_never_ran(db, client, settings):
    settings.HEALTH_SCHEDULER_AGE_WARN = 300
    code, body = sante(client)
    assert (code, body["status"]) == (200, "degraded")
    assert body["checks"]["scheduler"] == {**body["checks"]["scheduler"], "status": "warn", "last_tick": None}

    tick(dt.timedelta(minutes=7))
    code, body = sante(client)
    assert (code, body["checks"]["scheduler"]["status"]) == (200, "warn")
    assert body["checks"]["scheduler"]["age_seconds"] >= 420


def test_it_is_degraded_but_200_when_cache_urls_redis_is_down(db, client, settings):
    """CACHE_URL's cache turns Redis down into misses: the value written is not read back."""
    from mutualis.lib.env import parse_cache_url

    tick(dt.timedelta(seconds=1))
    settings.CACHES = {"default": parse_cache_url("CACHE_URL", f"redis://127.0.0.1:{CLOSED_PORT}/4")}

    code, body = sante(client, "?complet=1")

    assert (code, body["status"]) == (200, "degraded")
    assert body["checks"]["cache"] == {**body["checks"]["cache"], "status": "warn", "error": "not-read-back"}
    assert body["checks"]["cache"]["backend"] == "ResilientRedisCache"
    assert body["checks"]["database"]["status"] == "ok"


def test_it_is_degraded_but_200_when_a_plain_redis_cache_raises(db, client, settings):
    """Django's own RedisCache raises instead: the same answer, naming the error."""
    tick(dt.timedelta(seconds=1))
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{CLOSED_PORT}/4",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }

    code, body = sante(client)

    assert (code, body["status"]) == (200, "degraded")
    assert body["checks"]["cache"] == {**body["checks"]["cache"], "status": "warn", "error": "ConnectionError"}


def test_it_checks_a_real_shared_cache(db, client, settings):
    """CACHE_URL on Redis at 127.0.0.1:6379, database 4 (this module's)."""
    from mutualis.lib.env import parse_cache_url

    redis = pytest.importorskip("redis")
    try:
        redis.Redis(host="127.0.0.1", port=6379, db=4, socket_connect_timeout=1).ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("Redis absent: nothing listens on 127.0.0.1:6379")
    tick(dt.timedelta(seconds=1))
    settings.CACHES = {"default": parse_cache_url("CACHE_URL", "redis://127.0.0.1:6379/4")}

    code, body = sante(client, "?complet=1")

    assert (code, body["status"], body["checks"]["cache"]["status"]) == (200, "ok", "ok")
    assert body["checks"]["cache"]["backend"] == "ResilientRedisCache"


def run_apart(tmp_path: Path, database_url: str) -> tuple[dict, float]:
    """/sante/ and /metriques/ of a whole Django on `database_url`, run apart so that this process's
    connections are not touched; the answers (with the seconds each took) and /sante/'s seconds."""
    program = (
        "import django, json, time; django.setup();"
        "from django.test.utils import setup_test_environment; setup_test_environment();"
        "from django.test import Client;"
        "started = time.monotonic(); r = Client().get('/sante/'); took = time.monotonic() - started;"
        "started = time.monotonic();"
        f"m = Client().get('/metriques/', HTTP_AUTHORIZATION='Bearer {TOKEN}');"
        "scraped = time.monotonic() - started;"
        "print(json.dumps({'code': r.status_code, 'body': r.json(), 'took': took, 'scraped': scraped,"
        " 'metrics_code': m.status_code, 'metrics': m.content.decode()}))"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings_test",
        "DATABASE_URL": database_url,
        "MUTUALIS_VAR_DIR": str(tmp_path),
        "MUTUALIS_METRICS_TOKEN": TOKEN,
    }
    result = subprocess.run(
        [sys.executable, "-c", program], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    return answer, answer["took"]


def test_it_answers_503_when_the_database_does_not_answer(tmp_path):
    """DATABASE_URL at a port where nothing listens: what a server sees when PostgreSQL is down."""
    answer, _ = run_apart(tmp_path, f"postgres://postgres@127.0.0.1:{CLOSED_PORT}/h_health")

    assert answer["code"] == 503
    body = answer["body"]
    assert body["status"] == "down"
    assert body["checks"]["database"] == {**body["checks"]["database"], "status": "down", "error": "OperationalError"}
    assert body["checks"]["jobs"] == {"status": "skipped"}
    assert body["checks"]["cache"]["status"] == "ok"
    # The driver's message (host, account) stays out of a public answer.
    assert "127.0.0.1" not in json.dumps(body)

    # The metrics still answer, without the figures read from the database, and say so.
    assert answer["metrics_code"] == 200
    families = {family.name: family for family in text_string_to_metric_families(answer["metrics"])}
    assert "mutualis_jobs" not in families and "mutualis_mail_outbox" not in families
    up = {sample.labels["collector"]: sample.value for sample in families["mutualis_collector_up"].samples}
    assert up == {"core.backup": 0, "core.jobs": 0, "core.scheduler": 0, "helpdesk.mail": 0}
    assert "mutualis_http_requests" in families


def test_it_answers_503_within_the_connect_timeout_when_the_database_host_is_silent(tmp_path):
    """A host that takes the connection and never speaks (packets dropped, a failover in progress):
    libpq gives up after the settings' 5 s connect timeout instead of waiting for ever."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", SILENT_PORT))
        silent.listen(16)
        answer, took = run_apart(tmp_path, f"postgres://postgres@127.0.0.1:{SILENT_PORT}/h_health")

    assert answer["code"] == 503
    assert answer["body"]["checks"]["database"]["status"] == "down"
    assert 4.5 <= took < 15
    # The scrape too: one attempt for every collector, not one each.
    assert answer["metrics_code"] == 200
    assert 4.5 <= answer["scraped"] < 15


def test_a_queue_held_by_a_lock_is_given_up_after_the_statement_timeout(db, client):
    """PostgreSQL: another session holds the task table; the check waits 2 s, not for ever, and the
    answer is still 200 (the database answers)."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only: SQLite has no statement timeout, and its readers are not blocked")
    import psycopg

    tick(dt.timedelta(seconds=1))
    own = connection.settings_dict
    holder = psycopg.connect(
        dbname=own["NAME"], user=own["USER"], password=own["PASSWORD"], host=own["HOST"], port=own["PORT"] or 5432
    )
    try:
        holder.execute("LOCK TABLE django_tasks_database_dbtaskresult IN ACCESS EXCLUSIVE MODE")
        started = time.monotonic()
        code, body = sante(client)
        elapsed = time.monotonic() - started
    finally:
        holder.rollback()
        holder.close()

    assert (code, body["status"]) == (200, "degraded")
    assert body["checks"]["database"]["status"] == "ok"
    assert body["checks"]["jobs"] == {"status": "warn", "error": "OperationalError"}
    # Not read: after a failure PostgreSQL refuses the rest of the transaction.
    assert body["checks"]["scheduler"] == {"status": "warn", "error": "OperationalError"}
    assert 1.9 <= elapsed < 5


def test_the_full_check_says_which_server_answered_and_the_queue_states(db, client):
    tick(dt.timedelta(seconds=1))
    enqueue(3)

    code, body = sante(client, "?complet=1")

    assert code == 200
    assert body["server"]["pid"] == os.getpid()
    assert {key: body["checks"]["jobs"][key] for key in ("ready", "due", "running", "failed")} == {
        "ready": 3,
        "due": 3,
        "running": 0,
        "failed": 0,
    }


def test_it_costs_the_same_few_queries_whatever_the_queue(db, client):
    tick(dt.timedelta(seconds=1))
    counts = []
    for jobs in (0, 40):
        enqueue(jobs)
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/sante/").status_code == 200
        counts.append(statements(queries))
    # SELECT 1, the queue, the last tick; and on PostgreSQL a statement timeout per transaction.
    assert counts[0] == counts[1] == (5 if connection.vendor == "postgresql" else 3)


# --- /metriques/ ------------------------------------------------------------------------------


def test_it_does_not_exist_without_a_token(db, client, settings):
    settings.METRICS_TOKEN = ""
    assert client.get("/metriques/", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 404


@pytest.mark.parametrize(
    "authorization",
    [None, f"Bearer {TOKEN[:-1]}", f"Bearer {TOKEN}x", f"Basic {TOKEN}", TOKEN, "Bearer "],
    ids=["none", "short", "long", "basic", "no-scheme", "empty"],
)
def test_it_refuses_a_missing_or_wrong_token(db, client, settings, authorization):
    settings.METRICS_TOKEN = TOKEN
    headers = {"HTTP_AUTHORIZATION": authorization} if authorization is not None else {}

    response = client.get("/metriques/", **headers)

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert b"mutualis_" not in response.content


def test_it_serves_prometheus_text_that_parses(db, client, settings):
    settings.METRICS_TOKEN = TOKEN
    tick(dt.timedelta(seconds=30))
    enqueue(2, waited=dt.timedelta(minutes=3))

    families = scrape(client)

    assert {
        "mutualis_http_requests",
        "mutualis_http_request_duration_seconds",
        "mutualis_jobs",
        "mutualis_jobs_due",
        "mutualis_jobs_oldest_due_age_seconds",
        "mutualis_scheduler_last_tick_age_seconds",
        "mutualis_backup_last_age_seconds",
        "mutualis_mail_outbox",
        "mutualis_mail_retrying",
        "mutualis_mail_inbound",
    } <= set(families)
    assert families["mutualis_jobs"][("mutualis_jobs", (("state", "ready"),))] == 2
    assert families["mutualis_jobs_due"][("mutualis_jobs_due", ())] == 2
    assert 170 < families["mutualis_jobs_oldest_due_age_seconds"][("mutualis_jobs_oldest_due_age_seconds", ())] < 300
    assert (
        25
        < families["mutualis_scheduler_last_tick_age_seconds"][("mutualis_scheduler_last_tick_age_seconds", ())]
        < 120
    )


def test_the_scheduler_and_backup_ages_are_infinite_before_the_first_one(db, client, settings):
    settings.METRICS_TOKEN = TOKEN
    families = scrape(client)
    for name in ("mutualis_scheduler_last_tick_age_seconds", "mutualis_backup_last_age_seconds"):
        assert families[name][(name, ())] == float("inf")


def test_the_backup_age_is_read_from_the_last_backups_audit_entry(db, client, settings):
    from mutualis.core.audit import audit_record
    from mutualis.core.models import AuditAction, AuditEntry

    settings.METRICS_TOKEN = TOKEN
    audit_record(actor=None, action=AuditAction.BACKUP, object_repr="mutualis-test.tar", via="cli")
    AuditEntry.objects.filter(action=AuditAction.BACKUP).update(created_at=timezone.now() - dt.timedelta(hours=30))

    age = scrape(client)["mutualis_backup_last_age_seconds"][("mutualis_backup_last_age_seconds", ())]

    assert 30 * 3600 <= age < 30 * 3600 + 120


def _requests(families: dict, method: str, route: str, status: str) -> float:
    key = ("mutualis_http_requests_total", (("method", method), ("route", route), ("status", status)))
    return families.get("mutualis_http_requests", {}).get(key, 0.0)


def _latency_count(families: dict, route: str) -> float:
    key = ("mutualis_http_request_duration_seconds_count", (("route", route),))
    return families.get("mutualis_http_request_duration_seconds", {}).get(key, 0.0)


def test_request_counters_move_by_route_pattern_not_by_path(db, client, settings, world):
    settings.METRICS_TOKEN = TOKEN
    before = scrape(client)

    client.get("/comptes/connexion/")
    client.get("/comptes/connexion/")
    client.get("/pas-de-page-ici/")
    client.force_login(world.admin)
    client.get("/adherents/nimporte-quoi-42/")  # a pattern with a slug: 404 from the view
    client.generic("BREW", "/sante/")  # a method nobody should see as a label

    after = scrape(client)

    def moved(method: str, route: str, status: str) -> float:
        return _requests(after, method, route, status) - _requests(before, method, route, status)

    assert moved("GET", "comptes/connexion/", "2xx") == 2
    assert moved("GET", "(none)", "4xx") == 1
    assert moved("GET", "adherents/<slug:slug>/", "4xx") == 1
    assert moved("other", "sante/", "4xx") == 1
    assert _latency_count(after, "comptes/connexion/") - _latency_count(before, "comptes/connexion/") == 2
    text = str(after)
    assert "nimporte-quoi-42" not in text and "pas-de-page-ici" not in text and "BREW" not in text


def test_it_costs_the_same_queries_whatever_the_data(db, client, settings, world):
    from mutualis.helpdesk.mail_models import InboundMail, InboundOutcome
    from mutualis.helpdesk.outbox_models import Notification, NotificationStatus
    from mutualis.helpdesk.services import ticket_create

    settings.METRICS_TOKEN = TOKEN
    tick(dt.timedelta(seconds=1))
    ticket = ticket_create(
        actor=world.staff,
        collectivity=world.member_a,
        requester=world.agent_a,
        ticket_type="incident",
        title="Messagerie en panne",
        description="Plus rien ne part.",
    )
    counts = []
    for size in (0, 12):
        enqueue(size)
        for n in range(size):
            Notification.objects.create(
                key=f"k{size}-{n}", ticket=ticket, event="created", status=list(NotificationStatus)[n % 4]
            )
            InboundMail.objects.create(message_id=f"<{size}-{n}@x>", outcome=list(InboundOutcome)[n % 4])
        with CaptureQueriesContext(connection) as queries:
            families = scrape(client)
        counts.append(statements(queries))
    # The queue, the last tick, the last backup, the outbox, the inbound mail.
    assert counts[0] == counts[1] == 5
    assert families["mutualis_mail_outbox"][("mutualis_mail_outbox", (("status", "sent"),))] == 3
    assert families["mutualis_mail_inbound"][("mutualis_mail_inbound", (("outcome", "refused"),))] == 3


def test_a_failing_collector_is_left_out_and_said_so_the_rest_still_answers(db, client, settings):
    def broken():
        raise RuntimeError("boom")
        yield  # a generator, as collectors are

    settings.METRICS_TOKEN = TOKEN
    try:
        metrics.collector_register("test.broken", broken)
        families = scrape(client)
    finally:
        metrics._collectors.pop("test.broken", None)

    up = {dict(labels)["collector"]: value for (_, labels), value in families["mutualis_collector_up"].items()}
    assert up == {"core.backup": 1, "core.jobs": 1, "core.scheduler": 1, "helpdesk.mail": 1, "test.broken": 0}
    assert "mutualis_jobs" in families and "mutualis_mail_outbox" in families


def test_a_registered_collector_is_scraped_and_replaced_when_registered_again(db, client, settings):
    from prometheus_client.core import GaugeMetricFamily

    settings.METRICS_TOKEN = TOKEN
    try:
        metrics.collector_register("test.x", lambda: iter([GaugeMetricFamily("mutualis_test_x", "x", value=1)]))
        metrics.collector_register("test.x", lambda: iter([GaugeMetricFamily("mutualis_test_x", "x", value=2)]))
        assert scrape(client)["mutualis_test_x"] == {("mutualis_test_x", ()): 2}
    finally:
        metrics._collectors.pop("test.x", None)
