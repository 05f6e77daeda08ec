"""Operator staff must pass a second factor (TOTP) when MUTUALIS_REQUIRE_2FA is on."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

# Only what it takes to sign in and pass the second factor. The rest of /comptes/ (the profile,
# where API tokens are made) stays behind it: a token made there would bypass the second factor.
# The API checks the factor itself (api.auth.BrowserSession).
EXEMPT_PREFIXES = ("/comptes/connexion/", "/comptes/deconnexion/", "/comptes/2fa/", "/static/", "/i18n/", "/api/")


def second_factor_url(name: str, next_url: str) -> str:
    """The verification or enrolment page, coming back to `next_url` (query string kept whole)."""
    return f"{reverse(name)}?{urlencode({'next': next_url})}"


class SecondFactorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if (
            settings.REQUIRE_2FA_FOR_STAFF
            and user.is_authenticated
            and user.is_operator  # type: ignore[union-attr]
            and not user.is_verified()  # type: ignore[union-attr,attr-defined]
            and not request.path.startswith(EXEMPT_PREFIXES)
        ):
            return redirect(second_factor_url("accounts:otp_verify", request.get_full_path()))
        return self.get_response(request)
