"""The locustfile of `bench.scale`: operator staff, member agents and API clients, each signed in
once through the real login page (staff with their TOTP second factor), then clicking with a think
time. Run by `python -m bench.scale`, which writes the data file this reads (MUTUALIS_SCALE_DATA).

Phases, driven by `Phases` (a locust load shape): every user is started at once and signs in;
once all are in (or `login_timeout` passed), `warm_up` seconds of load let each gunicorn worker
load its templates and caches; then the statistics are reset and `duration` seconds are measured.
The sign-in figures, taken before the reset, are written to the data file's `result` path with the
length of the measured window; locust's `--csv` files hold the measured window.

Every page is fetched without following redirects and must answer 200 (201 for the API), so a
page that sent its user back to the login or second-factor page counts as an error, not as a fast
answer.
"""

from __future__ import annotations

import json
import os
import random
import re
import time
from typing import Any

import pyotp
from locust import HttpUser, LoadTestShape, between, events, task
from locust.exception import StopUser

from bench.scale import STATIC, cpu_sample

DATA: dict[str, Any] = json.loads(open(os.environ["MUTUALIS_SCALE_DATA"], encoding="utf-8").read())  # noqa: SIM115
THINK = tuple(DATA["think"])
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
STYLESHEET = re.compile(r'href="(/static/[^"]+\.css)"')

# Page names as the report prints them: one line per page, whatever its query string.
QUEUE = "staff: queue"
TICKET = "staff: ticket page"
DASHBOARD = "quality: indicators of the month"
COMMITMENTS = "quality: commitments"
CHART = "quality: chart (image of the indicators page)"
CHART_IMG = re.compile(r'<img class="q-chart" src="([^"]+)"')
PORTAL_LIST = "portal: my requests"
PORTAL_TICKET = "portal: request page"
PORTAL_NEW = "portal: new request"
API_CREATE = "api: ticket creation"
LOGIN_NAMES = ("sign-in: login page", "sign-in: password", "sign-in: second factor page", "sign-in: second factor")

_signed_in: set[int] = set()
_login_failed: list[str] = []
_result: dict[str, Any] = {"api_created": 0}  # written to DATA["result"] when the run stops


def _accounts(kind: str) -> list[dict[str, Any]]:
    return list(DATA[kind])


_pools = {kind: _accounts(kind) for kind in ("staff", "members", "api")}


def _take(kind: str) -> dict[str, Any]:
    """Each user gets an account of its own (a TOTP code is accepted once per account and step)."""
    pool = _pools[kind]
    if not pool:
        raise StopUser()
    return pool.pop(0)


class Client(HttpUser):
    abstract = True
    wait_time = between(*THINK)

    def on_start(self) -> None:
        # nginx's self-signed certificate (local_up --tls): trusted as a CA file, never unchecked.
        self.client.verify = DATA["ca_file"] or True


class Browser(Client):
    abstract = True
    stylesheet = ""

    def get_page(self, url: str, name: str, *, marker: str = "") -> str:
        with self.client.get(url, name=name, allow_redirects=False, catch_response=True) as response:
            if response.status_code != 200:
                where = response.headers.get("Location", "")
                response.failure(f"HTTP {response.status_code} {where}".strip())
                return ""
            elif marker and marker not in response.text:
                response.failure(f"the page lacks {marker!r}")
            else:
                response.success()
            return str(response.text)

    def sign_in(self, account: dict[str, Any], *, second_factor: bool) -> None:
        """The login page, the password, then (staff) the second factor, as a browser does."""
        next_url = "/assistance/"
        with self.client.get("/comptes/connexion/", name=LOGIN_NAMES[0], catch_response=True) as response:
            token = CSRF.search(response.text)
            sheet = STYLESHEET.search(response.text)
            if response.status_code != 200 or token is None:
                response.failure(f"HTTP {response.status_code}, no CSRF token")
                self._give_up(account, "no login form")
            self.stylesheet = sheet.group(1) if sheet else ""
        form = {
            "csrfmiddlewaretoken": token.group(1) if token else "",
            "username": account["username"],
            "password": account["password"],
            "next": next_url,
        }
        headers = {"Referer": f"{self.host}/comptes/connexion/"}
        with self.client.post(
            "/comptes/connexion/", data=form, headers=headers, name=LOGIN_NAMES[1],
            allow_redirects=False, catch_response=True,
        ) as response:  # fmt: skip
            if response.status_code != 302:
                response.failure(f"HTTP {response.status_code}: password refused")
                self._give_up(account, "password refused")
        if second_factor:
            self.second_factor(account, next_url)
        _signed_in.add(id(self))

    def second_factor(self, account: dict[str, Any], next_url: str) -> None:
        page = f"/comptes/2fa/?next={next_url}"
        with self.client.get(page, name=LOGIN_NAMES[2], allow_redirects=False, catch_response=True) as response:
            token = CSRF.search(response.text)
            if response.status_code != 200 or token is None:
                response.failure(f"HTTP {response.status_code} {response.headers.get('Location', '')}")
                self._give_up(account, "no second-factor form")
        totp = pyotp.TOTP(account["totp_secret"])
        # The device accepts a step once and only after the last one it accepted (the enrolment's):
        # within that step, the next step's code (the device's tolerance is one step).
        step = max(int(time.time()) // 30, account["totp_last_t"] + 1)
        form = {"csrfmiddlewaretoken": token.group(1) if token else "", "token": totp.at(step * 30), "next": next_url}
        with self.client.post(
            page, data=form, headers={"Referer": f"{self.host}{page}"}, name=LOGIN_NAMES[3],
            allow_redirects=False, catch_response=True,
        ) as response:  # fmt: skip
            if response.status_code != 302 or response.headers.get("Location") != next_url:
                response.failure(f"HTTP {response.status_code}: second factor refused")
                self._give_up(account, "second factor refused")

    def _give_up(self, account: dict[str, Any], why: str) -> None:
        _login_failed.append(f"{account['username']}: {why}")
        raise StopUser()

    @task(1)
    def static_file(self) -> None:
        """The floor: a file nginx serves without the application, in the same run."""
        if self.stylesheet:
            self.get_page(self.stylesheet, STATIC)


class OperatorStaff(Browser):
    fixed_count = DATA["users"]["staff"]

    def on_start(self) -> None:
        super().on_start()
        self.account = _take("staff")
        self.sign_in(self.account, second_factor=True)

    @task(4)
    def queue(self) -> None:
        queries = DATA["queue_queries"]
        self.get_page(f"/assistance/{random.choice(queries)}", QUEUE, marker="<table")

    @task(4)
    def ticket(self) -> None:
        self.get_page(f"/assistance/tickets/{random.choice(DATA['staff_tickets'])}/", TICKET)

    @task(1)
    def dashboard(self) -> None:
        page = self.get_page(f"/qualite/?month={random.choice(DATA['months'])}", DASHBOARD)
        # A browser then fetches the page's charts (drawn on their first request), each counted.
        for source in CHART_IMG.findall(page):
            self.get_page(source, CHART)

    @task(1)
    def commitments(self) -> None:
        self.get_page(f"/qualite/engagements/?month={random.choice(DATA['months'])}", COMMITMENTS)


class MemberAgent(Browser):
    fixed_count = DATA["users"]["members"]

    def on_start(self) -> None:
        super().on_start()
        self.account = _take("members")
        self.sign_in(self.account, second_factor=False)

    @task(3)
    def my_requests(self) -> None:
        self.get_page("/assistance/", PORTAL_LIST)

    @task(3)
    def request_page(self) -> None:
        tickets = self.account["tickets"]
        if tickets:
            self.get_page(f"/assistance/tickets/{random.choice(tickets)}/", PORTAL_TICKET)

    @task(1)
    def new_request(self) -> None:
        self.get_page("/assistance/nouvelle/", PORTAL_NEW)


class ApiClient(Client):
    """A member's tool filing tickets with its token (`Authorization: Bearer`)."""

    fixed_count = DATA["users"]["api"]

    def on_start(self) -> None:
        super().on_start()
        self.account = _take("api")
        self.count = 0
        _signed_in.add(id(self))

    @task
    def create(self) -> None:
        self.count += 1
        body = {
            "ticket_type": "incident" if self.count % 3 else "request",
            "application": random.choice(self.account["applications"]),
            "title": f"Banc de charge : demande {self.count} de {self.account['username']}",
            "description": "Le bordereau de mandats ne se génère plus depuis ce matin.",
            "urgency": 3,
            "impact": 2 + self.count % 3,
        }
        headers = {"Authorization": f"Bearer {self.account['token']}"}
        with self.client.post(
            "/api/v1/tickets/", json=body, headers=headers, name=API_CREATE, catch_response=True
        ) as response:
            if response.status_code != 201:
                response.failure(f"HTTP {response.status_code}: {response.text[:200]}")
            else:
                response.success()
                _result["api_created"] += 1  # all phases: compared with the rows the run added


class Phases(LoadTestShape):
    """Sign in everyone, warm up, reset the statistics, measure; then stop."""

    users = sum(DATA["users"].values())
    login_timeout = float(DATA["login_timeout"])
    warm_up = float(DATA["warm_up"])
    duration = float(DATA["duration"])

    def __init__(self) -> None:
        super().__init__()
        self.logged_in_at: float | None = None
        self.measure_from: float | None = None
        self.result = _result

    def tick(self) -> tuple[int, float] | None:
        runner = self.runner
        assert runner is not None  # locust sets it before the first tick
        now = time.monotonic()
        run_time = self.get_run_time()
        if self.logged_in_at is None:
            everyone = len(_signed_in) + len(_login_failed) >= self.users
            if everyone or run_time > self.login_timeout:
                self.logged_in_at = now
                self.result["login_seconds"] = run_time
                self.result["signed_in"] = len(_signed_in)
                self.result["login_failed"] = list(_login_failed)
                self.result["login"] = _snapshot(runner.stats, LOGIN_NAMES)
            return self.users, self.users
        if self.measure_from is None:
            if now - self.logged_in_at < self.warm_up:
                return self.users, self.users
            runner.stats.reset_all()
            self.result["cpu_start"] = cpu_sample(DATA["process_groups"], DATA["database"])
            self.measure_from = now
            self.result["warm_up_seconds"] = now - self.logged_in_at
        if now - self.measure_from < self.duration:
            return self.users, self.users
        self.result["measured_seconds"] = now - self.measure_from
        self.result["cpu_end"] = cpu_sample(DATA["process_groups"], DATA["database"])
        self.result["users_running"] = runner.user_count
        return None


@events.test_stop.add_listener
def _write_result(**_kwargs: Any) -> None:
    """Once every user has stopped: the phases' figures, for bench.scale."""
    if "measured_seconds" in _result:
        with open(DATA["result"], "w", encoding="utf-8") as out:
            json.dump(_result, out)


def _snapshot(stats: Any, names: tuple[str, ...]) -> dict[str, dict[str, float]]:
    found = {}
    for (name, _method), entry in stats.entries.items():
        if name in names and entry.num_requests:
            found[name] = {
                "requests": entry.num_requests,
                "failures": entry.num_failures,
                "p50": entry.get_response_time_percentile(0.5),
                "p95": entry.get_response_time_percentile(0.95),
            }
    return found
