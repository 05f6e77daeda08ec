"""Two app servers, for real: two OS processes (peer_process.py) on one database and one Redis.

With CACHE_URL set, a change one process makes through a service (an application renamed, a
service-level policy changed, the operator renamed) is what the other reads within a second; the
password-reset counter is one counter for both; the command lock (in the database) lets one of
them run. Without CACHE_URL, the other process keeps its own copy: the control that shows the
tests can fail."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[3]
PEER = Path(__file__).with_name("peer_process.py")
REDIS_URL = "redis://127.0.0.1:6379/2"
AGREE_WITHIN_S = 1.0


class Peer:
    """One app server process, driven one command at a time."""

    def __init__(self, env: dict[str, str]) -> None:
        self.log = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 (closed in stop)
        self.process = subprocess.Popen(
            [sys.executable, str(PEER)],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
        )
        assert self.receive() == "ready"

    def send(self, command: str, *args: Any) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps({"command": command, "args": args}) + "\n")
        self.process.stdin.flush()

    def receive(self) -> Any:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            self.log.seek(0)
            raise AssertionError(f"the peer process died:\n{self.log.read()[-3000:]}")
        answer = json.loads(line)
        if "error" in answer:
            raise AssertionError(f"the peer process failed: {answer['error']}")
        return answer["ok"]

    def call(self, command: str, *args: Any) -> Any:
        self.send(command, *args)
        return self.receive()

    def stop(self) -> None:
        if self.process.stdin:
            self.process.stdin.close()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)
        self.log.close()


def redis_answers() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def _postgres_database(name: str, *, drop_only: bool = False) -> str:
    """A fresh database beside the test database, on the same server; its URL."""
    settings = connection.settings_dict
    params = {"host": settings["HOST"] or "127.0.0.1", "port": settings["PORT"] or 5432, "user": settings["USER"]}
    if settings["PASSWORD"]:
        params["password"] = settings["PASSWORD"]
    with psycopg.connect(dbname="postgres", autocommit=True, **params) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not drop_only:
            admin.execute(f'CREATE DATABASE "{name}"')
    password = f":{settings['PASSWORD']}" if settings["PASSWORD"] else ""
    return f"postgres://{params['user']}{password}@{params['host']}:{params['port']}/{name}"


@pytest.fixture(scope="module")
def base_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """The environment of every peer: a database of their own (PostgreSQL when the suite runs on
    it, else a SQLite file), migrated and seeded once."""
    folder = tmp_path_factory.mktemp("peers")
    postgres = connection.vendor == "postgresql"
    # one per xdist worker: the module's tests may run on both
    name = f"{connection.settings_dict['NAME']}_peers{os.environ.get('PYTEST_XDIST_WORKER', '')}"
    database_url = _postgres_database(name) if postgres else f"sqlite:///{folder / 'peers.sqlite3'}"
    env = {
        "PATH": os.environ.get("PATH", ""),
        "DATABASE_URL": database_url,
        "SECRET_KEY": "peer-secret-key-for-two-process-tests-0123456789",
        "MUTUALIS_VAR_DIR": str(folder),
        "EMAIL_URL": "memory://",
        "MUTUALIS_TASKS_BACKEND": "immediate",
        "MUTUALIS_PASSWORD_RESET_PER_HOUR": "3",
        "LOG_LEVEL": "WARNING",
    }
    setup = Peer(env)
    try:
        setup.call("migrate")
        env["SEEDED"] = json.dumps(setup.call("seed"))
    finally:
        setup.stop()
    yield env
    if postgres:
        _postgres_database(name, drop_only=True)


@pytest.fixture(scope="module")
def redis_env(base_env: dict[str, str]) -> Iterator[dict[str, str]]:
    if not redis_answers():
        pytest.skip("Redis absent: nothing answers on 127.0.0.1:6379, two processes cannot share a cache")
    prefix = f"peers-{uuid.uuid4().hex[:12]}"
    yield {**base_env, "CACHE_URL": REDIS_URL, "MUTUALIS_CACHE_PREFIX": prefix}
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(match=f"{prefix}:*"):
        client.delete(key)


@pytest.fixture(scope="module")
def servers(redis_env: dict[str, str]) -> Iterator[tuple[Peer, Peer]]:
    first, second = Peer(redis_env), Peer(redis_env)
    yield first, second
    first.stop()
    second.stop()


def seconds_until(peer: Peer, command: str, args: tuple[Any, ...], expected: Any) -> float:
    """How long after now `peer` answers `expected` (polled every 10 ms, up to 3 s)."""
    started = time.monotonic()
    while time.monotonic() - started < 3:
        if peer.call(command, *args) == expected:
            return time.monotonic() - started
        time.sleep(0.01)
    return float("inf")


def test_an_application_renamed_on_one_server_is_read_on_the_other_within_a_second(servers):
    a, b = servers
    before = b.call("application_name", "peer-app")  # b has it in the cache now
    assert a.call("application_name", "peer-app") == before
    a.call("application_rename", "peer-app", "Renommée par A")
    assert seconds_until(b, "application_name", ("peer-app",), "Renommée par A") < AGREE_WITHIN_S


def test_a_service_level_policy_changed_on_one_server_is_read_on_the_other_within_a_second(servers, redis_env):
    a, b = servers
    policy = json.loads(redis_env["SEEDED"])["policy"]
    before = b.call("policy_ttr", policy)
    a.call("policy_set_ttr", policy, before + 3)
    assert seconds_until(b, "policy_ttr", (policy,), before + 3) < AGREE_WITHIN_S


def test_the_operator_renamed_on_one_server_is_read_on_the_other_within_a_second(servers):
    a, b = servers
    b.call("operator_name")
    a.call("operator_rename", "Syndicat renommé par A")
    assert seconds_until(b, "operator_name", (), "Syndicat renommé par A") < AGREE_WITHIN_S


def test_the_password_reset_counter_is_one_counter_for_both_servers(servers):
    a, b = servers
    email, address = f"{uuid.uuid4().hex[:8]}@exemple.fr", "192.0.2.7"
    answers = [peer.call("password_reset", email, address) for peer in (a, b, a, b, a)]
    assert answers == ["sent", "sent", "sent", "throttled", "throttled"]  # the limit is 3 per hour


def test_one_server_runs_a_command_while_the_other_holds_its_lock(servers):
    a, b = servers
    pid = a.call("pid")
    a.send("hold_lock", "peer-lock", 1.5)
    time.sleep(0.5)  # a holds it now
    refused = b.call("hold_lock", "peer-lock", 0)
    assert refused.startswith("locked by ")
    assert f":{pid}:" in refused  # host:pid:nonce of a's run
    assert a.receive() == "held"
    assert b.call("hold_lock", "peer-lock", 0) == "held"  # released: b may run


def test_without_a_shared_cache_the_other_server_keeps_its_copy(base_env):
    # The control: a cache per process (CACHE_URL unset) does not carry the change across.
    a, b = Peer(base_env), Peer(base_env)
    try:
        before = b.call("application_name", "peer-app")
        a.call("application_rename", "peer-app", f"{before} (copie locale)")
        time.sleep(AGREE_WITHIN_S)
        assert b.call("application_name", "peer-app") == before
    finally:
        a.stop()
        b.stop()
