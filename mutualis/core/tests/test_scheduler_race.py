"""Schedulers as separate processes on one database, as on several machines: a period runs once
however many race for it, and a job running longer than its period is not started again beside
itself. On PostgreSQL they share the test database; on SQLite, a database file of their own (the
test database lives in memory, which another process cannot open)."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[3]

# One scheduler process: the registry holds one job, `probe` every 5 minutes, whose command
# appends a line to the marker file then sleeps; the tick runs at the instant given (the clock is
# fixed). Booted, the process creates its `ready` file and waits for the `go` file: the test
# starts the tick of every process at once, however long each took to boot on a loaded machine.
SCHEDULER = """
import datetime as dt, os, sys, time
import django
django.setup()
from mutualis.core import scheduler as s
marker, now, sleep, ready, go = sys.argv[1], dt.datetime.fromisoformat(sys.argv[2]), *sys.argv[3:]
s._jobs.clear()
code = f"import time; open({marker!r}, 'a').write('x\\\\n'); time.sleep({sleep})"
s.job_register("probe", command="shell", args=("--no-imports", "-c", code), period=s.Every(5))
scheduler = s.Scheduler(clock=lambda: now, concurrent=True)
open(ready, "w").close()
while not os.path.exists(go):
    time.sleep(0.01)
scheduler.tick()
scheduler.finish()
"""

REPORT = """
import json
import django
django.setup()
from mutualis.core.models import ScheduledRun, SchedulerProcess
runs = [[r.due_at.isoformat(), r.outcome] for r in ScheduledRun.objects.filter(job="probe").order_by("due_at")]
ticks = SchedulerProcess.objects.exclude(last_tick_at=None).count()
print(json.dumps({"runs": runs, "ticks": ticks}))
"""

T0 = dt.datetime(2026, 12, 5, 8, 7, tzinfo=dt.UTC)  # the 08:05 period is due
T1 = T0 + dt.timedelta(minutes=5)  # the 08:10 one


def _env(database_url: str) -> dict[str, str]:
    return {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings_test", "DATABASE_URL": database_url}


# committed rows, seen by the processes (on PostgreSQL)
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    if connection.vendor == "postgresql":
        s = connection.settings_dict
        password = f":{s['PASSWORD']}" if s.get("PASSWORD") else ""
        return f"postgres://{s['USER']}{password}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"
    url = f"sqlite:///{tmp_path / 'shared.sqlite3'}"
    subprocess.run(
        [sys.executable, "-m", "django", "migrate", "-v", "0"], cwd=ROOT, env=_env(url), check=True, timeout=300
    )
    return url


def _start(url: str, marker: Path, now: dt.datetime, *, sleep: float, go: Path) -> tuple[subprocess.Popen[bytes], Path]:
    """A scheduler process and the file it creates once ready to tick (when `go` exists)."""
    ready = go.parent / f"ready-{uuid.uuid4().hex}"
    args = [str(marker), now.isoformat(), str(sleep), str(ready), str(go)]
    process = subprocess.Popen(
        [sys.executable, "-c", SCHEDULER, *args],
        cwd=ROOT,
        env=_env(url),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    return process, ready


def _until(condition: Callable[[], bool], processes: list[subprocess.Popen[bytes]]) -> None:
    give_up_at = time.monotonic() + 120
    while not condition():
        for process in processes:
            if process.poll() is not None:
                raise AssertionError(process.stderr.read().decode()[-2000:] if process.stderr else "exited")
        assert time.monotonic() < give_up_at, "the scheduler processes did not get there in 120 s"
        time.sleep(0.02)


def _wait(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        _out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err.decode()[-2000:]


def _report(url: str) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, "-c", REPORT], cwd=ROOT, env=_env(url), capture_output=True, check=True, timeout=120
    )
    return json.loads(result.stdout)


def _lines(marker: Path) -> int:
    return len(marker.read_text().splitlines()) if marker.exists() else 0


def test_it_runs_a_period_once_with_three_schedulers_racing(database_url: str, tmp_path: Path) -> None:
    marker, go = tmp_path / "runs", tmp_path / "go"
    started = [_start(database_url, marker, T0, sleep=0.5, go=go) for _ in range(3)]
    processes = [process for process, _ready in started]
    _until(lambda: all(ready.exists() for _process, ready in started), processes)
    go.touch()  # all three tick now
    _wait(processes)

    assert _lines(marker) == 1
    report = _report(database_url)
    assert report["runs"] == [[dt.datetime(2026, 12, 5, 8, 5, tzinfo=dt.UTC).isoformat(), "success"]]
    assert report["ticks"] == 3


def test_it_does_not_start_a_job_still_running_elsewhere(database_url: str, tmp_path: Path) -> None:
    marker, go_slow, go_eager = tmp_path / "runs", tmp_path / "go-slow", tmp_path / "go-eager"
    # A runs the 08:05 period for 5 s; B ticks while A's command runs: the 08:10 period is due,
    # but the job is busy
    eager, eager_ready = _start(database_url, marker, T1, sleep=0, go=go_eager)
    _until(eager_ready.exists, [eager])
    go_slow.touch()
    slow, _ready = _start(database_url, marker, T0, sleep=5, go=go_slow)
    _until(lambda: _lines(marker) == 1, [slow])
    go_eager.touch()
    _wait([slow, eager])
    assert _lines(marker) == 1
    assert [due for due, _outcome in _report(database_url)["runs"]] == [
        dt.datetime(2026, 12, 5, 8, 5, tzinfo=dt.UTC).isoformat()
    ]

    # once A is done, the next tick runs the 08:10 period
    _wait([_start(database_url, marker, T1, sleep=0, go=go_slow)[0]])
    assert _lines(marker) == 2
    assert len(_report(database_url)["runs"]) == 2


# `mutualis scheduler` itself, long-running, with one slow job: SIGTERM while the job runs.
COMMAND = """
import sys
import django
django.setup()
from django.core.management import call_command
from mutualis.core import scheduler as s
marker = sys.argv[1]
s._jobs.clear()
code = f"import time; open({marker!r}, 'a').write('start\\\\n'); time.sleep(3); open({marker!r}, 'a').write('end\\\\n')"
s.job_register("probe", command="shell", args=("--no-imports", "-c", code), period=s.Every(5))
call_command("scheduler", "--interval", "1")
"""

STOPPED = """
import json
import django
django.setup()
from mutualis.core.models import ScheduledRun, SchedulerProcess
process = SchedulerProcess.objects.get()
outcomes = [run.outcome for run in ScheduledRun.objects.all()]
print(json.dumps({"stopped": process.stopped_at is not None, "outcomes": outcomes}))
"""


def test_it_stops_on_sigterm_after_the_job_in_progress(database_url: str, tmp_path: Path) -> None:
    marker = tmp_path / "runs"
    process = subprocess.Popen(
        [sys.executable, "-c", COMMAND, str(marker)],
        cwd=ROOT,
        env=_env(database_url),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    _until(lambda: "start" in (marker.read_text() if marker.exists() else ""), [process])
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=60)

    assert process.returncode == 0, err.decode()[-2000:]
    assert marker.read_text().splitlines() == ["start", "end"]  # the job finished, none started after
    assert "planificateur arrêté" in out.decode()
    result = subprocess.run(
        [sys.executable, "-c", STOPPED], cwd=ROOT, env=_env(database_url), capture_output=True, check=True, timeout=120
    )
    assert json.loads(result.stdout) == {"stopped": True, "outcomes": ["success"]}
