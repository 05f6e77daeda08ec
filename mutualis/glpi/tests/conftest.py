"""A real MariaDB for the GLPI import's tests: a fresh database per test, GLPI's tables loaded.

GLPI_TEST_URL names the server (default mysql://glpi_test:glpi_test@127.0.0.1:3306/, the account
.ci/run creates); when it cannot be reached the tests that need it are skipped, saying why."""

from __future__ import annotations

import itertools
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pymysql
import pytest

from mutualis.glpi.sample import history

DEFAULT_SERVER = "mysql://glpi_test:glpi_test@127.0.0.1:3306/"
_counter = itertools.count(1)


@pytest.fixture(scope="session")
def glpi_server() -> str:
    """The MariaDB/MySQL server's URL (no database), or the test is skipped with the reason."""
    url = os.environ.get("GLPI_TEST_URL", DEFAULT_SERVER)
    try:
        history.connect(history.database_url(url, "")).close()
    except pymysql.MySQLError as error:
        reason = (
            f"MariaDB unreachable at {history.redacted(url)} ({error.args[-1]}): "
            "install and start it with `apt-get install mariadb-server` (or run .ci/run, which also "
            "creates the glpi_test account), or point GLPI_TEST_URL at a server"
        )
        print(reason, file=sys.stderr)
        pytest.skip(reason)
    return url


@contextmanager
def _database(server: str) -> Iterator[str]:
    """A database of its own, GLPI's tables loaded and empty; dropped afterwards. Named per
    process, xdist worker and use, so parallel runs never share one."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    name = f"glpi_t{os.getpid()}_{worker}_{next(_counter)}"
    url = history.create_database(server, name, replace=True)
    try:
        history.load_schema(url)
        yield url
    finally:
        history.drop_database(server, name)


@pytest.fixture
def glpi_db(glpi_server: str) -> Iterator[str]:
    """The URL of a fresh database for the test, GLPI's tables loaded and empty."""
    with _database(glpi_server) as url:
        yield url


@dataclass
class GlpiSample:
    """A GLPI database holding the sample history (200 tickets, every trap) and its files."""

    url: str
    facts: history.SampleFacts
    documents_dir: Path
    mapping_path: Path = history.MAPPING_FILE


@pytest.fixture
def glpi_sample(glpi_db: str, tmp_path: Path) -> GlpiSample:
    """glpi_db with the sample history written, time zones off (dates in Europe/Paris local time)."""
    files = tmp_path / "files"
    facts = history.generate(glpi_db, tickets=200, documents_dir=files)
    return GlpiSample(url=glpi_db, facts=facts, documents_dir=files)


@pytest.fixture
def glpi_sample_tz(glpi_server: str, tmp_path: Path) -> Iterator[GlpiSample]:
    """The same history with GLPI's time zones on (`timestamp` columns holding UTC instants), in a
    database of its own: a test may ask for both samples."""
    files = tmp_path / "files-tz"
    with _database(glpi_server) as url:
        facts = history.generate(url, tickets=200, documents_dir=files, timezones=True)
        yield GlpiSample(url=url, facts=facts, documents_dir=files)
