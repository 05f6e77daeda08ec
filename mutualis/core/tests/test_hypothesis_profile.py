"""The property tests stay green on shared, loaded cores (`make test` runs `pytest -n 2`)."""

import re
from pathlib import Path

from hypothesis import HealthCheck, settings

ROOT = Path(__file__).resolve().parents[2]


def test_it_runs_property_tests_without_a_wall_clock_deadline():
    assert settings.default.deadline is None
    assert HealthCheck.too_slow in settings.default.suppress_health_check


def test_it_lets_no_property_test_set_its_own_deadline():
    # A per-test numeric deadline would bring back the timing failure the profile removes.
    offenders = [
        str(path.relative_to(ROOT))
        for path in ROOT.rglob("test_*.py")
        if re.search(r"deadline\s*=\s*(?!None)", path.read_text(encoding="utf-8"))
    ]
    assert offenders == []
