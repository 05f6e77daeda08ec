"""The shipped Prometheus alert rules load, fire when they should and stay quiet otherwise
(promtool's unit tests, deploy/prometheus/mutualis-alerts.test.yml), and /metriques/ passes
promtool's lint."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

RULES = Path(__file__).resolve().parents[3] / "deploy" / "prometheus"
TOKEN = "p" * 40


@pytest.fixture
def promtool() -> str:
    path = shutil.which("promtool")
    if path is None:
        pytest.skip("promtool absent: apt-get install prometheus (Debian) gives it")
    return path


def test_the_rules_file_is_valid(promtool):
    result = subprocess.run(
        [promtool, "check", "rules", "mutualis-alerts.yml"], cwd=RULES, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_the_rules_fire_as_their_unit_tests_say(promtool):
    result = subprocess.run(
        [promtool, "test", "rules", "mutualis-alerts.test.yml"], cwd=RULES, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_metric_an_alert_reads_is_exposed(db, client, settings):
    """A renamed metric would leave its alert silent for ever: each `mutualis_*` name the rules
    read must be in a scrape (the request metrics once a request was counted)."""
    import re

    settings.METRICS_TOKEN = TOKEN
    client.get("/sante/")
    exposed = client.get("/metriques/", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").content.decode()
    read = set(re.findall(r"\b(mutualis_[a-z_]+)", (RULES / "mutualis-alerts.yml").read_text()))

    assert read, "the rules read no mutualis_ metric"
    assert {name for name in read if not re.search(rf"^{name}[{{ ]", exposed, re.MULTILINE)} == set()


def test_the_metrics_pass_promtools_lint(db, client, settings, promtool):
    settings.METRICS_TOKEN = TOKEN
    client.get("/sante/")
    exposed = client.get("/metriques/", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").content

    result = subprocess.run([promtool, "check", "metrics"], input=exposed, capture_output=True, timeout=60)

    assert result.returncode == 0, (result.stdout + result.stderr).decode()
