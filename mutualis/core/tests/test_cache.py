"""The shared cache (CACHE_URL=redis://…): values shared through a real Redis, and Redis down,
stopped or hanging is a miss and a logged warning, never an error."""

from __future__ import annotations

import logging
import shutil
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator

import pytest

from mutualis.core import cache as resilient
from mutualis.core.cache import ResilientRedisCache

SHARED_REDIS = "redis://127.0.0.1:6379/1"
PRIVATE_PORTS = range(8210, 8220)  # for a redis-server this test starts and stops


def redis_cache(location: str, prefix: str | None = None) -> ResilientRedisCache:
    return ResilientRedisCache(location, {"KEY_PREFIX": prefix or uuid.uuid4().hex})


def answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(autouse=True)
def _fresh_breakers() -> Iterator[None]:
    resilient.reset_breakers()
    yield
    resilient.reset_breakers()


@pytest.fixture
def shared_redis() -> str:
    if not answers(6379):
        pytest.skip("Redis absent: nothing answers on 127.0.0.1:6379")
    return SHARED_REDIS


def test_it_shares_a_value_between_two_cache_clients(shared_redis):
    prefix = uuid.uuid4().hex
    writer, reader = redis_cache(shared_redis, prefix), redis_cache(shared_redis, prefix)
    writer.set("greeting", ("bonjour", 1), 30)
    assert reader.get("greeting") == ("bonjour", 1)
    assert reader.add("greeting", "autre") is False
    assert reader.add("count", 0) is True
    assert writer.incr("count") == 1
    assert reader.get("count") == 1
    writer.delete("greeting")
    assert reader.get("greeting", "absent") == "absent"


def test_it_answers_a_miss_and_logs_once_when_redis_refuses_connections(caplog):
    cache = redis_cache(f"redis://127.0.0.1:{closed_port()}/1")
    with caplog.at_level(logging.WARNING, logger="mutualis.core.cache"):
        assert cache.get("k", "défaut") == "défaut"
        cache.set("k", "v")
        assert cache.add("k", "v") is False
        assert cache.get_many(["a", "b"]) == {}
        assert cache.delete("k") is False
        with pytest.raises(ValueError):
            cache.incr("k")
    warnings = [r for r in caplog.records if r.name == "mutualis.core.cache"]
    assert len(warnings) == 1
    assert "served from the database instead" in warnings[0].getMessage()


def test_it_skips_a_hanging_redis_after_one_timeout():
    # A server that accepts and never answers: the worst case, a Redis frozen or a network black hole.
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    held: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                held.append(listener.accept()[0])
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    try:
        cache = redis_cache(f"redis://127.0.0.1:{listener.getsockname()[1]}/1")
        started = time.monotonic()
        assert cache.get("k") is None
        first = time.monotonic() - started
        assert first < resilient.COMMAND_TIMEOUT_S * 3
        started = time.monotonic()
        for _ in range(100):
            assert cache.get("k") is None
        assert time.monotonic() - started < 0.05  # the breaker is open: Redis is not asked
    finally:
        listener.close()
        for conn in held:
            conn.close()


@pytest.fixture
def private_redis() -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server absent: cannot stop and restart a private Redis")
    port = free_private_port()
    server = start_redis(binary, port)
    yield server, port
    server.terminate()
    server.wait(5)


def free_private_port() -> int:
    for port in PRIVATE_PORTS:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    pytest.skip(f"no free port in {PRIVATE_PORTS} for a private redis-server")


def start_redis(binary: str, port: int) -> subprocess.Popen[bytes]:
    server = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    give_up_at = time.monotonic() + 5
    while not answers(port):
        if server.poll() is not None or time.monotonic() > give_up_at:
            server.kill()
            pytest.fail(f"the private redis-server did not start on {port}")
        time.sleep(0.05)
    return server


def test_it_comes_back_to_redis_once_it_is_up_again(private_redis, monkeypatch):
    server, port = private_redis
    monkeypatch.setattr(resilient, "BREAK_SECONDS", 0.2)
    cache = redis_cache(f"redis://127.0.0.1:{port}/0")
    cache.set("k", "avant", 30)
    assert cache.get("k") == "avant"

    server.terminate()
    server.wait(5)
    assert cache.get("k") is None  # stopped: a miss, no error
    cache.set("k", "pendant", 30)  # lost, no error

    restarted = start_redis(str(shutil.which("redis-server")), port)
    try:
        time.sleep(0.25)  # the break is over: the next call asks Redis again
        cache.set("k", "après", 30)
        assert cache.get("k") == "après"
    finally:
        restarted.terminate()
        restarted.wait(5)
