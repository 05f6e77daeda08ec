"""The shared cache (CACHE_URL=redis://…) as a cache that may be missing, never as a dependency.

Everything Mutualis keeps in its cache can be read again from the database: reference data
(core.reference_data), the operator's name, calendar specs. So Redis down must make pages slower,
never answer an error: every call that fails on Redis is a miss (reads return the default, writes
do nothing, `add` says it added nothing) and a warning in the log, once a minute at most per
process. After a connection failure the process skips Redis for BREAK_SECONDS (a circuit
breaker), so a request does not pay a connect timeout per cache call while Redis is away; the
first call after that tries again.

What a miss costs elsewhere: the password-reset counter (accounts.services) counts from zero, so
while Redis is away an address may ask more reset mails than the hourly limit (the login
throttle, django-axes, keeps its counts in the database and is unaffected). A token moved while
Redis was unreachable but not restarted is lost: the other processes read the previous value until
it expires (reference data: 60 s). A Redis restarted without persistence, as recommended, forgets
every key, so nothing stale survives it."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

# Loopback or a LAN: Redis answers in well under a millisecond; a connect that has not succeeded
# in 250 ms, or a command unanswered in 500 ms, is Redis away, and the database answers instead.
CONNECT_TIMEOUT_S = 0.25
COMMAND_TIMEOUT_S = 0.5
BREAK_SECONDS = 5.0
WARN_EVERY_SECONDS = 60.0

R = TypeVar("R")


class _Breaker:
    """One per Redis location and process (Django builds a cache object per thread)."""

    def __init__(self) -> None:
        self.open_until = 0.0
        self.last_warning = -WARN_EVERY_SECONDS
        self.failures = 0
        self.lock = threading.Lock()

    def is_open(self) -> bool:
        return time.monotonic() < self.open_until

    def trip(self, location: str, error: Exception, *, unreachable: bool) -> None:
        now = time.monotonic()
        with self.lock:
            self.failures += 1
            if unreachable:
                self.open_until = now + BREAK_SECONDS
            if now - self.last_warning < WARN_EVERY_SECONDS:
                return
            self.last_warning = now
            failures, self.failures = self.failures, 0
        logger.warning(
            "cache %s failed (%s: %s): served from the database instead%s; %d failure(s) since the last warning",
            location,
            type(error).__name__,
            error,
            f", Redis skipped for {BREAK_SECONDS:g} s" if unreachable else "",
            failures,
        )


_breakers: dict[str, _Breaker] = {}
_breakers_lock = threading.Lock()


def _breaker(location: str) -> _Breaker:
    with _breakers_lock:
        return _breakers.setdefault(location, _Breaker())


def reset_breakers() -> None:
    """Forget every failure (tests)."""
    with _breakers_lock:
        _breakers.clear()


class ResilientRedisCache(RedisCache):
    """Django's RedisCache where Redis unreachable, slow or refusing is a cache miss."""

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        options = {"socket_connect_timeout": CONNECT_TIMEOUT_S, "socket_timeout": COMMAND_TIMEOUT_S}
        options.update(params.get("OPTIONS", {}))
        super().__init__(server, {**params, "OPTIONS": options})
        self._location = server if isinstance(server, str) else ",".join(server)
        self._state = _breaker(self._location)

    def _guard(self, call: Callable[[], R], fallback: R) -> R:
        if self._state.is_open():
            return fallback
        try:
            return call()
        except (RedisConnectionError, RedisTimeoutError, OSError) as error:
            self._state.trip(self._location, error, unreachable=True)
        except RedisError as error:  # answered, but refused (out of memory, read-only replica…)
            self._state.trip(self._location, error, unreachable=False)
        return fallback

    def add(self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        return self._guard(lambda: super(ResilientRedisCache, self).add(key, value, timeout, version), False)

    def get(self, key: Any, default: Any = None, version: int | None = None) -> Any:
        return self._guard(lambda: super(ResilientRedisCache, self).get(key, default, version), default)

    def set(self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> None:
        self._guard(lambda: super(ResilientRedisCache, self).set(key, value, timeout, version), None)

    def touch(self, key: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        return self._guard(lambda: super(ResilientRedisCache, self).touch(key, timeout, version), False)

    def delete(self, key: Any, version: int | None = None) -> bool:
        return self._guard(lambda: super(ResilientRedisCache, self).delete(key, version), False)

    def get_many(self, keys: Any, version: int | None = None) -> dict[Any, Any]:
        return self._guard(lambda: super(ResilientRedisCache, self).get_many(keys, version), {})

    def has_key(self, key: Any, version: int | None = None) -> bool:
        return self._guard(lambda: super(ResilientRedisCache, self).has_key(key, version), False)

    def incr(self, key: Any, delta: int = 1, version: int | None = None) -> int:
        # Django's contract: ValueError for a missing key, which a miss is.
        value: int | None = self._guard(lambda: super(ResilientRedisCache, self).incr(key, delta, version), None)
        if value is None:
            raise ValueError(f"Key {key!r} not found (cache unavailable)")
        return value

    def set_many(self, data: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> list[Any]:
        return self._guard(lambda: super(ResilientRedisCache, self).set_many(data, timeout, version), list(data))

    def delete_many(self, keys: Any, version: int | None = None) -> None:
        self._guard(lambda: super(ResilientRedisCache, self).delete_many(keys, version), None)

    def clear(self) -> None:
        self._guard(lambda: super(ResilientRedisCache, self).clear(), None)
