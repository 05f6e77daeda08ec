"""The base of every batch command (`BatchCommand`): one run at a time, `--limit`, progress on a
terminal, a summary line at the end, logged with its duration."""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from mutualis.core.models import CommandLock
from mutualis.core.timefmt import local_datetime

logger = logging.getLogger("mutualis.commands")

# EX_TEMPFAIL (sysexits.h): "try again later", which is what a run refused by the lock should do;
# a scheduler can tell it from a failure (1).
LOCKED_EXIT = 75


class CommandLocked(Exception):
    def __init__(self, lock: CommandLock) -> None:
        super().__init__(lock.name)
        self.lock = lock


class HeldLock:
    """A lock this process holds; `renew` pushes its expiry back while the run is alive."""

    def __init__(self, name: str, holder: str, ttl: dt.timedelta) -> None:
        self.name, self.holder, self.ttl = name, holder, ttl
        self.renewed = time.monotonic()

    def renew(self, *, force: bool = False) -> None:
        # at most four writes per ttl: progress may be reported for every row
        if force or time.monotonic() - self.renewed > self.ttl.total_seconds() / 4:
            CommandLock.objects.filter(name=self.name, holder=self.holder).update(expires_at=timezone.now() + self.ttl)
            self.renewed = time.monotonic()


def _try_acquire(name: str, holder: str, ttl: dt.timedelta) -> bool:
    now = timezone.now()
    try:
        # The primary key does the exclusion on both databases: of two runs inserting the same
        # name, one gets an IntegrityError.
        with transaction.atomic():
            CommandLock.objects.create(name=name, holder=holder, acquired_at=now, expires_at=now + ttl)
        return True
    except IntegrityError:
        # A run that died left its row: take it over once expired, through an UPDATE conditioned on
        # the expiry, so of two runs taking over, one wins.
        return bool(
            CommandLock.objects.filter(name=name, expires_at__lte=now).update(
                holder=holder, acquired_at=now, expires_at=now + ttl
            )
        )


@contextmanager
def command_lock(name: str, *, ttl: dt.timedelta = dt.timedelta(hours=1), wait: float = 0) -> Iterator[HeldLock]:
    """Hold the lock `name` for the block, or raise `CommandLocked` (after waiting up to `wait`
    seconds for the other run to finish). Call it outside a transaction, so other runs see it."""
    holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"[:200]
    deadline = time.monotonic() + wait
    while not _try_acquire(name, holder, ttl):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            held = CommandLock.objects.filter(name=name).first()
            if held is None:  # released between the insert and this read: try once more
                continue
            raise CommandLocked(held)
        time.sleep(min(1.0, remaining))
    try:
        yield HeldLock(name, holder, ttl)
    finally:
        CommandLock.objects.filter(name=name, holder=holder).delete()


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise ValueError(value)
    return number


class BatchCommand(BaseCommand):
    """A periodic or batch job. Subclasses write `run(**options) -> str`, the summary line, and
    may override `add_arguments` (calling super), `lock_name`, `limit_help` (None: no --limit)."""

    limit_help: str | None = "au plus N éléments traités par passage (le reste au passage suivant)"
    lock_ttl = dt.timedelta(hours=1)
    lock: HeldLock | None = None

    @property
    def command_name(self) -> str:
        return self.__module__.rsplit(".", 1)[-1]

    def add_arguments(self, parser: CommandParser) -> None:
        if self.limit_help:
            parser.add_argument("--limit", type=_positive, default=None, metavar="N", help=self.limit_help)
        parser.add_argument(
            "--wait",
            type=float,
            default=0,
            metavar="SECONDES",
            help="si une autre exécution est en cours, l'attendre au plus SECONDES (défaut : sortir aussitôt)",
        )

    def lock_name(self, options: dict[str, Any]) -> str:
        """Runs with the same name never overlap; a command whose runs are independent per target
        (a collectivity) names the target."""
        return self.command_name

    def check_options(self, **options: Any) -> None:
        """Refuse a bad configuration or argument (CommandError) before taking the lock."""

    def run(self, **options: Any) -> str:
        raise NotImplementedError

    def progress(self, done: int, total: int | None = None) -> None:
        """Report progress: a line redrawn on a terminal, a debug log otherwise; keeps the lock alive."""
        if self.lock is not None:
            self.lock.renew()
        text = f"{done}/{total}" if total else str(done)
        if self.stderr.isatty():
            self.stderr.write(f"\r{self.command_name} : {text}", ending="")
        logger.debug("%s: %s", self.command_name, text)

    def handle(self, *args: Any, **options: Any) -> None:
        self.check_options(**options)
        name = self.lock_name(options)
        started = time.monotonic()
        try:
            with command_lock(name, ttl=self.lock_ttl, wait=options.get("wait") or 0) as self.lock:
                summary = self.run(**options)
        except CommandLocked as locked:
            message = _(
                "%(name)s : une autre exécution est en cours (%(holder)s, depuis le %(since)s) ; rien n'a été fait"
            ) % {"name": name, "holder": locked.lock.holder, "since": local_datetime(locked.lock.acquired_at)}
            logger.warning("%s", message)
            raise CommandError(message, returncode=LOCKED_EXIT) from None
        finally:
            self.lock = None
        if self.stderr.isatty():
            self.stderr.write("\r", ending="")
        self.stdout.write(self.style.SUCCESS(summary))
        logger.info("%s: %s (%.1f s)", name, summary, time.monotonic() - started)
