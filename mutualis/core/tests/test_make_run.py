"""`make run` gives mail and PDFs the address it serves, unless MUTUALIS_BASE_URL says otherwise."""

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_it_sets_the_base_url_to_the_host_and_port_it_serves():
    dry_run = subprocess.run(
        ["make", "-n", "run", "HOST=192.0.2.7", "PORT=8765"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    command = dry_run[dry_run.index("MUTUALIS_REQUIRE_2FA=") :]
    assert "MUTUALIS_BASE_URL=${MUTUALIS_BASE_URL:-http://192.0.2.7:8765}" in command
    assert "runserver 192.0.2.7:8765" in command
