"""Personal API tokens, second-factor enrolment, and password reset by mail for local accounts."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from functools import partial

from django.conf import settings
from django.contrib.auth.forms import PasswordResetForm
from django.contrib.auth.tokens import default_token_generator
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext
from django_otp.plugins.otp_totp.models import TOTPDevice

from mutualis.accounts.models import ApiToken, User
from mutualis.core.audit import audit_record
from mutualis.core.mail import absolute_url, mail_message
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


class TokenNeedsSecondFactor(PermissionDenied):
    """A valid token of operator staff whose account has no confirmed second factor."""


def api_token_needs_second_factor(user: User) -> bool:
    """When second factors are required (MUTUALIS_REQUIRE_2FA), operator staff's tokens work only
    once the account has a confirmed TOTP device. A token stands in for a whole login, and one
    made before the rule, while it was off, or in a single sign-on session whose factor the
    provider proved once, would otherwise carry no second factor at all."""
    return bool(settings.REQUIRE_2FA_FOR_STAFF and user.is_operator and not has_confirmed_device(user))


def api_token_authenticate(secret: str) -> User | None:
    """The active account behind a token secret, or None. One indexed lookup by digest, plus an
    UPDATE of `last_used_at` when the recorded use is older than LAST_USED_PRECISION. Raises
    TokenNeedsSecondFactor (a PermissionDenied: 403 in the API) for staff without a second factor."""
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
    if api_token_needs_second_factor(token.user):
        raise TokenNeedsSecondFactor(
            gettext(
                "Ce jeton appartient à un compte de l'opérateur sans second facteur confirmé : l'API "
                "l'acceptera une fois un second facteur (application d'authentification) enregistré "
                "sur la page « Mon compte »."
            )
        )
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


def has_confirmed_device(user: User) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


# --- Password reset by mail (local accounts, single sign-on off) -----------------------------


class PasswordResetThrottled(Exception):
    """This address or this account asked for more reset mails this hour than allowed."""


RESET_WINDOW_SECONDS = 3600


def _quota_take(keys: list[str], *, limit: int) -> bool:
    """Counts one request against each key (a fixed one-hour window from the first); False when
    any key is over `limit`. Refused requests count too, so hammering does not reopen the door."""
    allowed = True
    for key in keys:
        cache.add(key, 0, timeout=RESET_WINDOW_SECONDS)
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=RESET_WINDOW_SECONDS)
            count = 1
        allowed = allowed and count <= limit
    return allowed


def password_reset_request(*, email: str, ip_address: str) -> None:
    """Mails a reset link to each active account with a usable password at `email`; does the
    same, visibly, whether or not one exists (the caller shows one message), so the form tells
    nobody which addresses have an account. Counted per address and per account typed, existing
    or not: over MUTUALIS_PASSWORD_RESET_PER_HOUR raises PasswordResetThrottled."""
    email = email.strip()
    keys = [f"password-reset:ip:{ip_address}", f"password-reset:account:{_digest(email.casefold())}"]
    if not _quota_take(keys, limit=settings.PASSWORD_RESET_PER_HOUR):
        raise PasswordResetThrottled
    users = list(PasswordResetForm().get_users(email))
    with transaction.atomic():
        audit_record(
            actor=None,
            action=AuditAction.PASSWORD_RESET_REQUEST,
            obj=users[0] if users else None,
            object_repr=None if users else email,
            changes={"email": [None, email], "ip_address": [None, ip_address]},
        )
        for user in users:
            transaction.on_commit(partial(_password_reset_mail_enqueue, user_id=user.pk))


def _password_reset_mail_enqueue(*, user_id: int) -> None:
    from mutualis.accounts.tasks import password_reset_mail  # the task module imports this one

    password_reset_mail.enqueue(user_id)


def password_reset_mail_send(*, user_id: int) -> bool:
    """Sends the reset link to the account if it may still reset (active, usable password). The
    link is built on MUTUALIS_BASE_URL, never on the request's Host header (which whoever asks the
    reset chooses). An SMTP error fails the job, for the worker's log."""
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None or not user.has_usable_password() or not user.email:
        return False
    path = reverse(
        "accounts:password_reset_confirm",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )
    context = {
        "user": user,
        "link": absolute_url(path),
        "days": max(1, settings.PASSWORD_RESET_TIMEOUT // 86400),
    }
    with translation.override(settings.LANGUAGE_CODE):
        subject = gettext("Mutualis : choisir un nouveau mot de passe")
    mail_message(subject=subject, template="accounts/mail/password_reset.txt", context=context, to=[user.email]).send()
    return True


def password_reset_complete(*, user: User, password: str) -> None:
    """Sets the password chosen through a valid reset link (which it consumes: the token depends
    on the password hash)."""
    with transaction.atomic():
        user.set_password(password)
        user.save(update_fields=["password"])
        audit_record(actor=user, action=AuditAction.PASSWORD_RESET, obj=user)
