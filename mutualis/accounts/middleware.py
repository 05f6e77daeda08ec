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
# Set by mutualis.identity.oidc when the provider's `acr` proves a second factor.
SSO_SECOND_FACTOR_KEY = "identity_sso_second_factor"
EXEMPT_PREFIXES = (
    "/comptes/connexion/",
    "/comptes/deconnexion/",
    "/comptes/2fa/",
    "/static/",
    "/i18n/",
    "/api/",
    "/oidc/",
    "/connexion-refusee/",
    # For machines (a load balancer, Prometheus), which sign in to nothing.
    "/sante/",
    "/metriques/",
)


def second_factor_url(name: str, next_url: str) -> str:
    """The verification or enrolment page, coming back to `next_url` (query string kept whole)."""
    return f"{reverse(name)}?{urlencode({'next': next_url})}"


def second_factor_missing(request: HttpRequest, user: object) -> bool:
    """Operator staff who must pass a second factor and have not, by TOTP here or at the provider.
    With single sign-on on, a password login is the break-glass superuser's: TOTP always."""
    required = settings.REQUIRE_2FA_FOR_STAFF or settings.OIDC_ENABLED
    return bool(
        required
        and getattr(user, "is_authenticated", False)
        and user.is_operator  # type: ignore[attr-defined]
        and not user.is_verified()  # type: ignore[attr-defined]
        and not request.session.get(SSO_SECOND_FACTOR_KEY)
    )


class SecondFactorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if second_factor_missing(request, request.user) and not request.path.startswith(EXEMPT_PREFIXES):
            return redirect(second_factor_url("accounts:otp_verify", request.get_full_path()))
        return self.get_response(request)
