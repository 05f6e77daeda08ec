"""Logins, logouts and failed password attempts go to the audit log."""

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from mutualis.accounts.models import User
from mutualis.accounts.throttle import client_ip
from mutualis.core.audit import audit_record
from mutualis.core.models import AuditAction


@receiver(user_logged_in)
def _logged_in(sender: Any, request: Any, user: User, **kwargs: Any) -> None:
    audit_record(actor=user, action=AuditAction.LOGIN, obj=user, organisation_id=user.organisation_id)


@receiver(user_logged_out)
def _logged_out(sender: Any, request: Any, user: User | None, **kwargs: Any) -> None:
    if user is not None:
        audit_record(actor=user, action=AuditAction.LOGOUT, obj=user, organisation_id=user.organisation_id)


@receiver(user_login_failed)
def _login_failed(sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any) -> None:
    """One entry per refused password: the name tried and the address, never the password (Django
    masks it in `credentials` already; only the username is read here). Single sign-on refusals
    carry no username and are recorded by the identity app."""
    if request is None or "username" not in credentials:
        return
    username = str(credentials.get("username") or "")[:150]
    audit_record(
        actor=None,
        action=AuditAction.LOGIN_FAILED,
        object_repr=username,
        changes={"username": [None, username], "ip_address": [None, client_ip(request)]},
    )
