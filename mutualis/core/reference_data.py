"""Reference data that hot paths read on every request and the operator rarely changes (the
service-level configuration, the applications by slug), kept in Django's cache as frozen values.

A value is built from tuples and frozen dataclasses of plain values, never model instances: a
reader can neither change what another reads nor hold a row that outlives its request. It lives
in Django's cache, so every process sharing the cache (Redis when one is configured) reads the
same value; with the default per-process cache another process sees a change within `timeout`
seconds at worst.

The services that write the rows call `changed()`. That moves the value's generation token at
once, so the writer's own transaction reads the new rows, and again after the commit, since a
process that reloaded in between read the rows before the change (its value stays under the
token it read, which nobody reads any more). Model signals play no part: a write that goes around
the services must call `changed()` itself (the demo loader, bulk loads).

Bump SCHEMA when the shape of a value changes, so that a deploy never reads the old shape."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Generic, TypeVar

from django.core.cache import cache
from django.db import transaction

SCHEMA = 1
T = TypeVar("T")


class ReferenceData(Generic[T]):
    def __init__(self, name: str, load: Callable[[], T], *, timeout: int = 60) -> None:
        self.load = load
        self.timeout = timeout
        self._token_key = f"reference:{name}:v{SCHEMA}:token"
        self._value_key = f"reference:{name}:v{SCHEMA}:value"

    def _token(self) -> str:
        token = cache.get(self._token_key)
        if token is None:
            cache.add(self._token_key, uuid.uuid4().hex, None)
            token = cache.get(self._token_key) or ""
        return str(token)

    def get(self) -> T:
        """The value of the current generation, loaded from the database when nobody has yet."""
        key = f"{self._value_key}:{self._token()}"
        value: T | None = cache.get(key)
        if value is None:
            value = self.load()
            cache.set(key, value, self.timeout)
        return value

    def changed(self) -> None:
        """The rows behind the value changed: every process reloads on its next read."""
        self._renew()
        transaction.on_commit(self._renew)

    def _renew(self) -> None:
        cache.set(self._token_key, uuid.uuid4().hex, None)
