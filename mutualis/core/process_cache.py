"""Reference data a process keeps between requests: what a hot path reads on every request and
the operator rarely changes (the priority matrix and service-level policies, the applications).

The value is loaded once and kept under a version token held in Django's cache. A save or delete
of one of the models it is built from drops the token (at once, and again after the commit: a
process that reloaded meanwhile read the rows before the change), so this process reloads on its
next read; with a shared cache every process does, with the default in-process cache the others
within `ttl_s` at worst. The value is shared between requests: read it, never change it."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from django.core.cache import cache
from django.db import models, transaction
from django.db.models.signals import post_delete, post_save

T = TypeVar("T")


class ProcessCache(Generic[T]):
    def __init__(self, key: str, load: Callable[[], T], *, ttl_s: float = 60) -> None:
        self.key = key
        self.load = load
        self.ttl_s = ttl_s
        self._held: tuple[str, float, T] | None = None  # (version, loaded at, value)

    def _version(self) -> str:
        version = cache.get(self.key)
        if version is None:
            cache.add(self.key, uuid.uuid4().hex, None)
            version = cache.get(self.key) or ""
        return str(version)

    def get(self) -> T:
        version = self._version()
        held = self._held
        if held is None or held[0] != version or time.monotonic() - held[1] > self.ttl_s:
            held = (version, time.monotonic(), self.load())
            self._held = held
        return held[2]

    def forget(self) -> None:
        """Drop the value, here at once and in every process sharing the cache."""
        self._held = None
        cache.delete(self.key)

    def forget_on_change(self, *senders: type[models.Model]) -> None:
        def changed(sender: type, **kwargs: Any) -> None:
            self.forget()
            transaction.on_commit(self.forget)

        for sender in senders:
            uid = f"{self.key}-{sender.__name__}"
            post_save.connect(changed, sender=sender, weak=False, dispatch_uid=f"{uid}-save")
            post_delete.connect(changed, sender=sender, weak=False, dispatch_uid=f"{uid}-delete")
