"""Where a `next=` sends the browser: only somewhere on this site. A path check such as
`startswith("/")` lets `//evil.example` (a scheme-relative URL to another host) through."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.http import url_has_allowed_host_and_scheme


def safe_next(request: HttpRequest, target: str | None, *, fallback: str) -> str:
    """`target` when it stays on this host (and on HTTPS when the request came over it), else `fallback`."""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback
