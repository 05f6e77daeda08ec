"""Bearer-token authentication for the API (personal tokens), sessions for the browser."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.security import HttpBearer, SessionAuth

from mutualis.accounts.middleware import second_factor_missing
from mutualis.accounts.services import api_token_authenticate


class TokenAuth(HttpBearer):
    openapi_description = (
        "Jeton personnel créé sur la page « Mon compte » (Authorization: Bearer mtl_…). Le jeton d'un agent "
        "de l'opérateur est refusé (403) tant que son compte n'a pas de second facteur confirmé, lorsque "
        "la double authentification est exigée."
    )

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        # Raises TokenNeedsSecondFactor (PermissionDenied): the API's 403 error shape says why.
        user = api_token_authenticate(token)
        if user is not None:
            request.user = user
        return user


class BrowserSession(SessionAuth):
    """The logged-in browser session; operator staff must have passed their second factor."""

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = super().authenticate(request, key)
        if user and second_factor_missing(request, user):
            return None
        return user
