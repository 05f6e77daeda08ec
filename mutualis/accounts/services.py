"""Personal API tokens and second-factor enrolment."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext
from django_otp.plugins.otp_totp.models import TOTPDevice

from mutualis.accounts.models import ApiToken, User
from mutualis.core.audit import audit_record
from mutualis.core.models import AuditAction

TOKEN_PREFIX = "mtl_"


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def api_token_create(*, actor: User, name: str) -> tuple[ApiToken, str]:
    """Returns the token and its secret; the secret is shown once and never stored."""
    name = name.strip()
    if not name:
        from django.core.exceptions import ValidationError

        raise ValidationError({"name": gettext("donnez un nom au jeton (par exemple l'outil qui l'utilise)")})
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        token = ApiToken.objects.create(user=actor, name=name[:100], prefix=secret[:12], digest=_digest(secret))
        audit_record(actor=actor, action=AuditAction.TOKEN_CREATE, obj=token, organisation_id=actor.organisation_id)
    return token, secret


def api_token_revoke(*, actor: User, token: ApiToken) -> None:
    if token.revoked_at is not None:
        return
    with transaction.atomic():
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at", "updated_at"])
        audit_record(
            actor=actor,
            action=AuditAction.TOKEN_REVOKE,
            obj=token,
            organisation_id=token.user.organisation_id,
            changes={"revoked_at": [None, token.revoked_at.isoformat()]},
        )


# `last_used_at` tells an owner whether a token still serves, not when each request came: it is
# written at most once per LAST_USED_PRECISION, so a busy client costs no write (on SQLite, no
# lock of the whole database) on every request.
LAST_USED_PRECISION = dt.timedelta(seconds=60)


def api_token_authenticate(secret: str) -> User | None:
    """The active account behind a token secret, or None. One indexed lookup by digest, plus an
    UPDATE of `last_used_at` when the recorded use is older than LAST_USED_PRECISION."""
    if not secret.startswith(TOKEN_PREFIX):
        return None
    try:
        # The digest is unique: a plain lookup, the other conditions checked here (a join
        # filter and an ORDER BY cost more to compile than the query takes to run).
        token = ApiToken.objects.select_related("user__organisation").get(digest=_digest(secret))
    except ApiToken.DoesNotExist:
        return None
    if token.revoked_at is not None or not token.user.is_active:
        return None
    now = timezone.now()
    stale = now - LAST_USED_PRECISION
    if token.last_used_at is None or token.last_used_at < stale:
        # Conditional, so concurrent requests with the same token write once.
        ApiToken.objects.filter(pk=token.pk).filter(Q(last_used_at__isnull=True) | Q(last_used_at__lt=stale)).update(
            last_used_at=now
        )
    return token.user


def totp_device_for_enrolment(*, user: User) -> TOTPDevice:
    """The account's unconfirmed TOTP device, created on first call (the key is shown to enrol)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="TOTP", confirmed=False)
    return device


def totp_confirm(*, user: User, device: TOTPDevice, token: str) -> bool:
    if not device.verify_token(token):
        return False
    with transaction.atomic():
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        audit_record(
            actor=user,
            action=AuditAction.UPDATE,
            obj=user,
            object_repr=f"{user}: second facteur enrôlé",
            changes={"totp": [False, True]},
        )
    return True


def has_confirmed_device(user: Any) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()
