"""Creating API calls a client may safely send again: the `Idempotency-Key` header.

A client whose connection is cut after the server committed (a restart, a proxy timeout) cannot
tell a lost request from a lost answer. With a key of its choosing on the call, it sends the same
call again: the server answers with what the first call created instead of creating it twice
(the IETF httpapi draft « The Idempotency-Key HTTP Header Field »). The same key with another body
is refused (422). A key is kept KEEP for the account and the operation, then forgotten
(`mutualis idempotency_keys_purge`, nightly).

Two calls with the same key at once: the second's insert of the key waits on the unique index for
the first's transaction; when the first commits, the second's transaction (its ticket included)
rolls back and it answers with the first's result."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Callable

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from mutualis.core.actors import Actor
from mutualis.core.models import IdempotencyKey

KEEP = dt.timedelta(hours=24)
HEADER = "Idempotency-Key"
# Visible ASCII, as the draft's examples (UUIDs, random strings); 200 characters at most.
_VALID = re.compile(r"[\x21-\x7e]{1,200}")


def idempotent(*, actor: Actor, scope: str, key: str, body: bytes, create: Callable[[], str]) -> tuple[str, bool]:
    """`create()`'s result (what it created, e.g. a ticket reference) and False; or, when this
    account already sent `key` for `scope` in the last KEEP with the same body, the first call's
    result and True, without calling `create`."""
    if not _VALID.fullmatch(key):
        raise ValidationError(
            {HEADER: [_("clé d'idempotence invalide : 1 à 200 caractères ASCII visibles, sans espace")]}
        )
    digest = hashlib.sha256(body).hexdigest()
    mine = IdempotencyKey.objects.filter(account_id=actor.pk, scope=scope, key=key)
    for _attempt in range(2):
        found = mine.filter(created_at__gte=timezone.now() - KEEP).first()
        if found is not None:
            if found.request_sha256 != digest:
                raise ValidationError(
                    {HEADER: [_("cette clé d'idempotence a déjà servi pour une autre requête : changez de clé")]}
                )
            return found.result, True
        try:
            with transaction.atomic():
                mine.delete()  # a key older than KEEP may be used again
                result = create()
                IdempotencyKey.objects.create(
                    account_id=actor.pk, scope=scope, key=key, request_sha256=digest, result=result
                )
            return result, False
        except IntegrityError:
            # Another call with this key committed first (or the error was not the key's: the
            # next lookup finds nothing and the second attempt raises it).
            if _attempt:
                raise
    raise AssertionError("unreachable")


def idempotency_keys_purge(*, now: dt.datetime | None = None) -> int:
    """Forget the keys older than KEEP; the number deleted."""
    deleted, _by_model = IdempotencyKey.objects.filter(created_at__lt=(now or timezone.now()) - KEEP).delete()
    return deleted
