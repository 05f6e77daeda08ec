"""Who is knocking: the client's address behind the reverse proxies, and the login throttle's
rules for django-axes (which attempts count, which address they come from)."""

from __future__ import annotations

import ipaddress
from typing import Any

from django.conf import settings
from django.http import HttpRequest


def _valid_ip(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def client_ip(request: HttpRequest) -> str:
    """The address the request came from. Behind MUTUALIS_REVERSE_PROXY_COUNT proxies it is the
    entry of X-Forwarded-For that the outermost proxy wrote (the count-th from the right): what
    stands left of it was written by the client itself and would let anyone choose the address
    the throttle counts against. Without proxies, the socket's address."""
    remote = _valid_ip(request.META.get("REMOTE_ADDR", "")) or "0.0.0.0"  # noqa: S104 — a label, never bound
    count = settings.REVERSE_PROXY_COUNT
    if not count:
        return remote
    hops = [hop for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    if len(hops) < count:
        # Reached Mutualis without passing every proxy: only the socket is known.
        return remote
    return _valid_ip(hops[-count]) or remote


def not_a_password_attempt(request: HttpRequest, credentials: dict[str, Any] | None) -> bool:
    """Axes counts password guesses only: a single sign-on callback (no password) is judged by the
    identity provider, and its refusals must not lock a town's shared address out of the form."""
    return not credentials or credentials.get("password") is None
