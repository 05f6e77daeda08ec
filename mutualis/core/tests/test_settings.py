"""Starting Django with a bad setting stops at once with a message naming the variable."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
SETUP = "import django, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'config.settings'; django.setup(); print('started')"


def start(tmp_path, **variables):
    env = {"PATH": os.environ.get("PATH", ""), "MUTUALIS_VAR_DIR": str(tmp_path), **variables}
    return subprocess.run([sys.executable, "-c", SETUP], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)


def test_it_starts_in_embedded_mode_without_any_variable(tmp_path):
    result = start(tmp_path)
    assert result.returncode == 0, result.stderr
    assert "started" in result.stdout
    assert (tmp_path / "secret_key").exists()


@pytest.mark.parametrize(
    ("variables", "name", "fragment"),
    [
        ({"DEBUG": "maybe"}, "DEBUG", "'maybe'"),
        ({"MUTUALIS_API_PAGE_SIZE": "many"}, "MUTUALIS_API_PAGE_SIZE", "integer"),
        ({"EMAIL_URL": "pop3://mail.example.org"}, "EMAIL_URL", "unknown scheme 'pop3'"),
        ({"STORAGE_URL": "ftp://k:s@host/bucket"}, "STORAGE_URL", "unknown scheme 'ftp'"),
        ({"CACHE_URL": "memcached://127.0.0.1:11211"}, "CACHE_URL", "unknown scheme 'memcached'"),
        ({"CACHE_URL": "redis://127.0.0.1:6379/cache"}, "CACHE_URL", "must be a number"),
        ({"MUTUALIS_CACHE_VERSION": "0"}, "MUTUALIS_CACHE_VERSION", "at least 1"),
        ({"DATABASE_URL": "postgres://u@127.0.0.1:5432/db"}, "SECRET_KEY", "required"),
        ({"SECRET_KEY": "short"}, "SECRET_KEY", "32 characters"),
        ({"DATABASE_URL": "nosuchdb://host/db", "SECRET_KEY": "x" * 40}, "DATABASE_URL", ""),
    ],
)
def test_it_refuses_to_start_with_a_bad_value_naming_the_variable(tmp_path, variables, name, fragment):
    result = start(tmp_path, **variables)
    assert result.returncode != 0
    assert "started" not in result.stdout
    assert "ImproperlyConfigured" in result.stderr
    assert f"Invalid configuration — {name}:" in result.stderr
    assert fragment in result.stderr
