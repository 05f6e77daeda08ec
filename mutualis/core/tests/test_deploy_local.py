"""The production set-up of deploy/, brought up on this machine by deploy/local_up.py and driven
from outside like a user would: nginx with TLS in front of two gunicorn app servers, two
background workers and the scheduler, on a PostgreSQL database of its own (h_deploy_run) and
Redis database 5. An operator signs in through nginx with a password and a TOTP code, files a
ticket through the API with the session; a worker mails its notification to a real SMTP server."""

from __future__ import annotations

import contextlib
import fcntl
import http.client
import http.cookiejar
import importlib.util
import json
import os
import re
import shutil
import signal
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyotp
import pytest
from aiosmtpd.controller import Controller

from mutualis.helpdesk.tests.mailservers import Inbox, free_port

REPO = Path(__file__).resolve().parents[3]
LOCAL_UP = REPO / "deploy" / "local_up.py"
NGINX_PORT = 8300
FIRST_APP_PORT = 8350
DATABASE = "h_deploy_run"
PG = "postgres://postgres@127.0.0.1:5432"
REDIS_URL = "redis://127.0.0.1:6379/5"
PASSWORD = "Deploy-test-Passw0rd-2026"
TOTP_SECRET = pyotp.random_base32()


def _local_up_module() -> Any:
    """deploy/local_up.py is a script, not a package module: loaded from its file (and registered,
    as its dataclasses need) to share its readers with the test."""
    if "deploy_local_up" in sys.modules:
        return sys.modules["deploy_local_up"]
    spec = importlib.util.spec_from_file_location("deploy_local_up", LOCAL_UP)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["deploy_local_up"] = module
    spec.loader.exec_module(module)
    return module


@contextlib.contextmanager
def _the_machine_s_only_run(timeout: float = 600) -> Iterator[None]:
    """One run of this test at a time on the machine: its ports, database and Redis database are
    fixed, and several suites may run at once on a shared machine. A second run waits its turn."""
    with open("/tmp/mutualis-test-deploy-local.lock", "w") as lock:
        give_up_at = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > give_up_at:
                    pytest.skip(f"another run of this test held the machine's set-up for {timeout:.0f} s")
                time.sleep(1)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _postgres_or_skip() -> None:
    import psycopg

    try:
        with psycopg.connect(f"{PG}/postgres", autocommit=True, connect_timeout=3) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
            conn.execute(f"CREATE DATABASE {DATABASE}")
    except psycopg.OperationalError as error:
        pytest.skip(f"PostgreSQL absent: {PG} ({error})")


def _redis_url() -> str:
    """Redis database 5, emptied (its cache would hold rows of a dropped database); '' when
    Redis is absent: the set-up then runs with a cache per process, as the env file allows."""
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_timeout=2).flushdb()
    except redis.RedisError as error:
        print(f"Redis absent ({error}): the run uses a cache per process")
        return ""
    return REDIS_URL


SEED = """
import json
from django_otp.plugins.otp_totp.models import TOTPDevice
from base64 import b32decode
from mutualis.accounts.models import Role
from mutualis.testing import factories as f

operator = f.OperatorFactory.create()
service = f.OperatorServiceFactory.create(organisation=operator, slug="support", name="Support")
town = f.OrganisationFactory.create(name="Grigny", slug="grigny")
staff = f.UserFactory.create(username="support", role=Role.OPERATOR_STAFF, organisation=operator,
                             service=service, email="support@operateur.test", password={password!r})
agent = f.UserFactory.create(username="agent-grigny", role=Role.MEMBER_AGENT, organisation=town,
                             email="agent@grigny.test")
TOTPDevice.objects.create(user=staff, name="TOTP", confirmed=True, key=b32decode({secret!r}).hex())
print(json.dumps({{"staff": staff.pk, "agent": agent.pk}}))
"""


class Browser:
    """urllib with cookies, the run's CA, no redirect followed (each hop is checked)."""

    def __init__(self, base_url: str, ca_file: str) -> None:
        self.base_url = base_url
        self.cookies = http.cookiejar.CookieJar()
        context = ssl.create_default_context(cafile=ca_file)

        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *args: Any, **kwargs: Any) -> None:
                return None

        self.opener = urllib.request.build_opener(
            urllib.request.HTTPSHandler(context=context),
            urllib.request.HTTPCookieProcessor(self.cookies),
            NoRedirect,
        )

    def request(
        self, path: str, data: bytes | None = None, headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], str]:
        request = urllib.request.Request(self.base_url + path, data=data, headers=headers or {})
        try:
            with self.opener.open(request, timeout=30) as answer:
                return answer.status, dict(answer.headers), answer.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read().decode()

    def get(self, path: str) -> tuple[int, dict[str, str], str]:
        return self.request(path)

    def post_form(self, path: str, fields: dict[str, str]) -> tuple[int, dict[str, str], str]:
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Referer": self.base_url + path}
        return self.request(path, urllib.parse.urlencode(fields).encode(), headers)

    def cookie(self, name: str) -> str:
        return next(cookie.value for cookie in self.cookies if cookie.name == name)


def _csrf_field(page: str) -> str:
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert match, "no CSRF field on the page"
    return match.group(1)


def _status_of_announced_upload(base_url: str, ca_file: str, size: int) -> tuple[int, str]:
    """Status and Server of the answer to a POST whose headers announce `size` bytes, none sent."""
    parts = urllib.parse.urlsplit(base_url)
    connection = http.client.HTTPSConnection(
        parts.hostname, parts.port, context=ssl.create_default_context(cafile=ca_file), timeout=30
    )
    try:
        connection.putrequest("POST", "/api/v1/tickets/")
        connection.putheader("Content-Type", "application/json")
        connection.putheader("Content-Length", str(size))
        connection.endheaders()
        answer = connection.getresponse()
        return answer.status, answer.getheader("Server", "")
    finally:
        connection.close()


def _served_through_nginx(log: str) -> int:
    """Requests an app server answered that came through nginx: its access log line starts with
    the client address nginx appended to X-Forwarded-For (direct probes have none: '-')."""
    return sum(1 for line in Path(log).read_text().splitlines() if line.startswith('127.0.0.1 "'))


def test_it_runs_the_shipped_set_up_behind_nginx_with_two_app_servers_and_workers(tmp_path):
    local_up = _local_up_module()
    if not local_up.find_nginx():
        pytest.skip("nginx absent: apt-get install -y nginx (.ci/run installs it)")
    if not shutil.which("openssl"):
        pytest.skip("openssl absent: it makes the run's TLS certificate")
    with _the_machine_s_only_run():
        _run_the_set_up(local_up, tmp_path)


def _run_the_set_up(local_up: Any, tmp_path: Path) -> None:
    _postgres_or_skip()
    cache_url = _redis_url()

    inbox = Inbox()
    smtp_port = free_port()
    smtp = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
    smtp.start()
    run_dir = tmp_path / "run"
    started = time.monotonic()
    up = subprocess.run(
        [
            sys.executable, str(LOCAL_UP), "up", "--dir", str(run_dir), "--port", str(NGINX_PORT),
            "--database-url", f"{PG}/{DATABASE}", "--cache-url", cache_url,
            "--app-servers", "2", "--workers", "2", "--app-port", str(FIRST_APP_PORT), "--tls",
            # One gunicorn process per app server: the test needs two servers, not their capacity.
            "--env", "MUTUALIS_WEB_WORKERS=1",
            "--env", f"EMAIL_URL=smtp://127.0.0.1:{smtp_port}",
            "--env", "DEFAULT_FROM_EMAIL=assistance@operateur.test",
        ],
        capture_output=True, text=True, timeout=150,
    )  # fmt: skip
    try:
        assert up.returncode == 0, up.stderr[-4000:]
        state = json.loads((run_dir / "state.json").read_text())
        base_url = up.stdout.strip().splitlines()[-1]
        print(f"up in {time.monotonic() - started:.1f} s")
        assert base_url == state["base_url"] == f"https://127.0.0.1:{NGINX_PORT}"
        assert [server["port"] for server in state["app_servers"]] == [FIRST_APP_PORT, FIRST_APP_PORT + 1]
        assert len(state["workers"]) == 2 and state["scheduler"]
        assert oct((run_dir / "mutualis.env").stat().st_mode & 0o777) == "0o600"
        # A worker killed: its unit says Restart=always, so the supervisor starts it again (after
        # RestartSec) while the other worker goes on; checked at the end.
        killed = state["workers"][0]["pid"]
        os.kill(killed, signal.SIGKILL)

        # The operator account, made beforehand with the run's own settings (its env file).
        env = {**os.environ, **local_up.read_environment_file(Path(state["env_file"]))}
        env.pop("DJANGO_SETTINGS_MODULE", None)
        seeded = subprocess.run(
            [str(Path(sys.executable).parent / "mutualis"), "shell", "-c",
             SEED.format(password=PASSWORD, secret=TOTP_SECRET)],
            env=env, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert seeded.returncode == 0, seeded.stderr[-3000:]

        browser = Browser(base_url, state["ca_file"])
        # Signing in through nginx: the password, then the second factor.
        status, _, page = browser.get("/comptes/connexion/")
        assert status == 200
        # Django knows the request came over HTTPS (nginx's X-Forwarded-Proto, one proxy counted):
        # a form posted with neither Origin nor Referer is refused, as for HTTPS only.
        no_referer = browser.request(
            "/comptes/connexion/",
            urllib.parse.urlencode(
                {"username": "support", "password": "x", "csrfmiddlewaretoken": _csrf_field(page)}
            ).encode(),
            {"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert no_referer[0] == 403  # over plain HTTP: 200, the form again with "wrong password"
        status, headers, _ = browser.post_form(
            "/comptes/connexion/",
            {"username": "support", "password": PASSWORD, "csrfmiddlewaretoken": _csrf_field(page)},
        )
        assert status == 302, "the password was refused"
        status, headers, _ = browser.get(headers["Location"])
        assert (status, urllib.parse.urlsplit(headers["Location"]).path) == (302, "/comptes/2fa/")
        second_factor = headers["Location"]
        status, _, page = browser.get(second_factor)
        assert status == 200
        status, headers, _ = browser.post_form(
            second_factor, {"token": pyotp.TOTP(TOTP_SECRET).now(), "csrfmiddlewaretoken": _csrf_field(page)}
        )
        assert status == 302, "the TOTP code was refused"
        assert browser.get("/assistance/")[0] == 200  # signed in: no redirect to a sign-in page

        # A ticket filed with the session (CSRF header, as the pages' scripts do).
        status, _, body = browser.request(
            "/api/v1/tickets/",
            json.dumps(
                {
                    "ticket_type": "incident",
                    "title": "Messagerie indisponible",
                    "description": "Plus de mail depuis ce matin.",
                    "collectivity": "grigny",
                    "requester": "agent-grigny",
                    "group": "support",
                }
            ).encode(),
            {"Content-Type": "application/json", "X-CSRFToken": browser.cookie("csrftoken"), "Referer": base_url + "/"},
        )
        assert status == 201, body
        reference = json.loads(body)["reference"]
        status, _, page = browser.get(f"/assistance/tickets/{reference}/")
        assert status == 200 and "Messagerie indisponible" in page

        # Its notification leaves through a worker (MUTUALIS_TASKS_BACKEND=database: the app
        # servers only queue it).
        give_up_at = time.monotonic() + 30
        while not inbox.to("agent@grigny.test") and time.monotonic() < give_up_at:
            time.sleep(0.2)
        (mail,) = inbox.to("agent@grigny.test")
        assert mail.subject.startswith(f"[{reference}] Demande enregistrée")
        assert f"{base_url}/assistance/tickets/{reference}/" in mail.text

        # Health through nginx; static files from STATIC_ROOT by nginx itself.
        status, headers, body = browser.get("/sante/")
        assert status == 200, body
        health = json.loads(body)
        assert health["status"] == "ok" and health["checks"]["database"]["status"] == "ok"
        assert "public" in browser.get("/static/mutualis/mutualis.css")[1].get("Cache-Control", "")
        # Metrics: the token from the env file; without it, the app's refusal.
        assert browser.get("/metriques/")[0] == 401
        status, _, body = browser.request("/metriques/", headers={"Authorization": f"Bearer {state['metrics_token']}"})
        assert status == 200 and "# TYPE" in body
        # The site's body limit is the env file's MUTUALIS_MAX_REQUEST_MB (11): a bigger upload is
        # refused by nginx from its headers, before a byte of it is sent on.
        assert _status_of_announced_upload(base_url, state["ca_file"], 12 * 1024 * 1024) == (413, "nginx")

        # Both app servers answered requests that came through nginx.
        for _ in range(4):
            browser.get("/sante/")
        served = [_served_through_nginx(server["log"]) for server in state["app_servers"]]
        assert all(count > 0 for count in served), served

        give_up_at = time.monotonic() + 30
        while time.monotonic() < give_up_at:
            restarted = json.loads((run_dir / "state.json").read_text())["workers"][0]["pid"]
            if restarted != killed:
                break
            time.sleep(0.2)
        assert restarted != killed and Path(f"/proc/{restarted}").exists(), "the killed worker was not restarted"
    finally:
        down = subprocess.run(
            [sys.executable, str(LOCAL_UP), "down", "--dir", str(run_dir)], capture_output=True, text=True, timeout=120
        )
        smtp.stop()
    assert down.returncode == 0, down.stderr
    final = json.loads((run_dir / "state.json").read_text())
    assert not any(local_up.alive(entry) for entry in [*final["processes"], final["supervisor"]])
    assert final["workers"][0]["pid"] != state["workers"][0]["pid"]  # the restarted worker, stopped too
    print(f"up, driven and down in {time.monotonic() - started:.1f} s")


def test_it_ships_units_systemd_accepts(tmp_path):
    """`systemd-analyze verify` on the shipped units (their production paths pointed at this
    checkout, since it checks that the commands exist): an unknown key or section, a bad value
    or a missing command is reported."""
    analyze = shutil.which("systemd-analyze")
    if not analyze:
        pytest.skip("systemd-analyze absent (systemd package)")
    for unit in (REPO / "deploy" / "systemd").iterdir():
        text = unit.read_text().replace("/opt/mutualis/venv", sys.prefix).replace("/opt/mutualis/app", str(REPO))
        (tmp_path / unit.name).write_text(text)
    names = ["mutualis-web@8001.socket", "mutualis-web@8001.service", "mutualis-worker@1.service"]
    names += ["mutualis-scheduler.service"]
    names += ["mutualis-migrate.service", "mutualis.target"]
    checked = subprocess.run(
        [analyze, "verify", "--man=no", *(f"./{name}" for name in names)],
        cwd=tmp_path, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert (checked.returncode, checked.stdout + checked.stderr) == (0, "")


def test_it_renders_the_site_for_production_as_the_guide_says(tmp_path):
    """docs/operations.md's sed command fills every marker of the site, and nginx accepts the result
    (with a throw-away certificate in place of Let's Encrypt's)."""
    local_up = _local_up_module()
    nginx = local_up.find_nginx()
    if not nginx:
        pytest.skip("nginx absent: apt-get install -y nginx (.ci/run installs it)")
    if not shutil.which("openssl"):
        pytest.skip("openssl absent")
    guide = (REPO / "docs" / "operations.md").read_text()
    values = dict(re.findall(r"-e 's\|\{\{ ([A-Z_]+) \}\}\|([^|]*)\|'", guide))
    template = (REPO / "deploy" / "nginx" / "mutualis.conf").read_text()
    markers = set(re.findall(r"\{\{ ([A-Z_]+) \}\}", template))
    assert markers - {"NAME"} == set(values), "the guide's sed command and the site's markers differ"

    certificate, key = local_up.self_signed_certificate(tmp_path)
    values["TLS_CERTIFICATE"], values["TLS_CERTIFICATE_KEY"] = str(certificate), str(key)
    values["PROXY_PARAMS"] = str(REPO / "deploy" / "nginx" / "mutualis-proxy.conf")
    site = tmp_path / "site.conf"
    site.write_text(local_up.render_site(values))
    layout = local_up.Layout(tmp_path, Path(sys.prefix))
    config = tmp_path / "nginx.conf"
    config.write_text(local_up.nginx_main_config(layout, site))
    checked = subprocess.run(
        [nginx, "-t", "-p", str(tmp_path), "-c", str(config), "-e", str(tmp_path / "logs" / "error.log")],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert checked.returncode == 0, checked.stderr
    assert "listen 443 ssl http2;" in site.read_text()
    assert "server 127.0.0.1:8001; server 127.0.0.1:8002;" in site.read_text()
