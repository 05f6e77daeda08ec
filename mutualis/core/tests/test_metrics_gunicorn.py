"""The metrics of a real gunicorn with several workers (deploy/gunicorn.conf.py, the multiprocess
mode): a scrape adds up every worker's counters whichever worker answers, a killed worker's
counts stay, and a real Prometheus server scrapes it with the token and evaluates the shipped
rules against it. Ports 8640-8659 (two per pytest-xdist worker)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

ROOT = Path(__file__).resolve().parents[3]
BIN = Path(sys.executable).parent
# Under pytest-xdist each worker process may set the fixtures up: one pair of ports per worker.
_WORKER = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
WEB_PORT = 8640 + 2 * _WORKER
PROMETHEUS_PORT = 8641 + 2 * _WORKER
TOKEN = "g" * 20 + "0123456789abcdefghij"


def wait_for(what: str, check, timeout: float = 60.0, every: float = 0.2):
    give_up_at = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < give_up_at:
        try:
            last = check()
            if last:
                return last
        except (OSError, urllib.error.URLError) as error:
            last = error
        time.sleep(every)
    raise AssertionError(f"{what}: not within {timeout} s (last: {last!r})")


def free(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


def get(path: str, token: str | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(f"http://127.0.0.1:{WEB_PORT}{path}")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def sante_count(text: str) -> float:
    """GET /sante/ answered 2xx, summed over every sample the scrape gives."""
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        if family.name == "mutualis_http_requests"
        for sample in family.samples
        if sample.labels == {"method": "GET", "route": "sante/", "status": "2xx"}
    )


@dataclass
class Server:
    process: subprocess.Popen
    metrics_dir: Path

    def worker_pids(self) -> set[int]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text().split()
        return {int(pid) for pid in children}


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[Server]:
    if not free(WEB_PORT):
        pytest.skip(f"port {WEB_PORT} is taken")
    base = tmp_path_factory.mktemp("gunicorn")
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(base),
        "DATABASE_URL": f"sqlite:///{base}/mutualis.sqlite3",
        "SECRET_KEY": "s" * 50,
        "MUTUALIS_VAR_DIR": str(base / "var"),
        "MUTUALIS_METRICS_TOKEN": TOKEN,
        "MUTUALIS_TASKS_BACKEND": "database",
        "MUTUALIS_WEB_WORKERS": "3",
        "PROMETHEUS_MULTIPROC_DIR": str(base / "prometheus"),
        "LOG_LEVEL": "WARNING",
    }
    subprocess.run([BIN / "mutualis", "migrate", "--no-input", "-v0"], cwd=ROOT, env=env, check=True, timeout=300)
    # A file left by an earlier run: the master's on_starting hook must empty the folder.
    (base / "prometheus").mkdir()
    (base / "prometheus" / "counter_99999.db").write_bytes(b"stale")
    log = (base / "gunicorn.log").open("wb")
    process = subprocess.Popen(
        [BIN / "gunicorn", "-c", "deploy/gunicorn.conf.py", "--bind", f"127.0.0.1:{WEB_PORT}"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    server = Server(process=process, metrics_dir=base / "prometheus")
    try:
        wait_for("gunicorn answers", lambda: get("/sante/")[0] == 200 and len(server.worker_pids()) == 3)
        yield server
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def test_a_scrape_adds_up_every_workers_counts_and_keeps_a_killed_ones(server):
    assert not (server.metrics_dir / "counter_99999.db").exists()
    before = sante_count(get("/metriques/", TOKEN)[1].decode())

    # Concurrent requests, so that every worker takes some.
    with ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(pool.map(lambda _: get("/sante/?complet=1"), range(60)))
    assert all(code == 200 for code, _ in answers)
    answered_by = {json.loads(body)["server"]["pid"] for _, body in answers}
    assert len(answered_by) >= 2, answered_by

    # Whichever worker answers the scrape, it counts all 60.
    for _ in range(5):
        assert sante_count(get("/metriques/", TOKEN)[1].decode()) - before == 60

    victim = next(iter(answered_by))
    os.kill(victim, signal.SIGKILL)
    wait_for(
        "gunicorn replaces the worker", lambda: victim not in server.worker_pids() and len(server.worker_pids()) == 3
    )
    for _ in range(5):
        assert sante_count(get("/metriques/", TOKEN)[1].decode()) - before == 60


def test_the_token_is_required_by_the_real_server(server):
    assert get("/metriques/")[0] == 401
    assert get("/metriques/", "wrong" * 8)[0] == 401


@pytest.fixture
def prometheus(server, tmp_path) -> Iterator[str]:
    binary = shutil.which("prometheus")
    if binary is None:
        pytest.skip("prometheus absent: apt-get install prometheus (Debian) gives it")
    if not free(PROMETHEUS_PORT):
        pytest.skip(f"port {PROMETHEUS_PORT} is taken")
    (tmp_path / "token").write_text(TOKEN)
    shutil.copy(ROOT / "deploy" / "prometheus" / "mutualis-alerts.yml", tmp_path / "mutualis-alerts.yml")
    # The scrape job of docs/monitoring.md, with a one-second interval for the test.
    (tmp_path / "prometheus.yml").write_text(
        f"""
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files: [mutualis-alerts.yml]
scrape_configs:
  - job_name: mutualis
    metrics_path: /metriques/
    authorization:
      type: Bearer
      credentials_file: {tmp_path / "token"}
    static_configs:
      - targets: ["127.0.0.1:{WEB_PORT}"]
"""
    )
    log = (tmp_path / "prometheus.log").open("wb")
    process = subprocess.Popen(
        [
            binary,
            f"--config.file={tmp_path / 'prometheus.yml'}",
            f"--storage.tsdb.path={tmp_path / 'data'}",
            f"--web.listen-address=127.0.0.1:{PROMETHEUS_PORT}",
        ],
        cwd=tmp_path,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        yield f"http://127.0.0.1:{PROMETHEUS_PORT}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def query(base: str, expression: str) -> list[dict]:
    url = f"{base}/api/v1/query?{urllib.parse.urlencode({'query': expression})}"
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.load(response)["data"]["result"]


def test_a_real_prometheus_scrapes_it_and_evaluates_the_shipped_rules(server, prometheus):
    wait_for("the target is up", lambda: query(prometheus, 'up{job="mutualis"} == 1'), timeout=60)
    sent = sante_count(get("/metriques/", TOKEN)[1].decode())
    for _ in range(7):
        assert get("/sante/")[0] == 200

    wait_for(
        "Prometheus sees the 7 requests",
        lambda: [
            row
            for row in query(prometheus, 'sum(mutualis_http_requests_total{route="sante/",status="2xx"})')
            if float(row["value"][1]) >= sent + 7
        ],
        timeout=30,
    )
    # No scheduler runs here: its age is +Inf and the rule goes pending (firing takes its 2 minutes).
    assert query(prometheus, "mutualis_scheduler_last_tick_age_seconds")[0]["value"][1] == "+Inf"

    def scheduler_alert() -> list[dict]:
        with urllib.request.urlopen(f"{prometheus}/api/v1/alerts", timeout=5) as response:
            alerts = json.load(response)["data"]["alerts"]
        return [alert for alert in alerts if alert["labels"]["alertname"] == "MutualisSchedulerSilent"]

    alert = wait_for("the scheduler alert is pending", scheduler_alert, timeout=30)
    assert alert[0]["state"] == "pending"
    with urllib.request.urlopen(f"{prometheus}/api/v1/rules", timeout=5) as response:
        groups = json.load(response)["data"]["groups"]
    rules = [rule for group in groups for rule in group["rules"]]
    assert len(rules) == 15
    assert all(rule["health"] == "ok" for rule in rules), [r for r in rules if r["health"] != "ok"]
