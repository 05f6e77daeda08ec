"""Single sign-on through LemonLDAP::NG (OpenID Connect, authorization code with PKCE).

The backend matches the provider's user to the directory (by `preferred_username`, then mail),
refuses unknown, inactive and generic accounts and operator staff who came without a second
factor (`acr` below MUTUALIS_OIDC_STAFF_ACR), and refreshes the account's name and mail from the
claims. A refusal's reason is kept in the session for the refusal page.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import auth
from django.core.exceptions import SuspiciousOperation
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

from mutualis.accounts.middleware import SSO_SECOND_FACTOR_KEY as SECOND_FACTOR_KEY
from mutualis.accounts.models import User
from mutualis.core.audit import audit_record
from mutualis.core.models import AuditAction
from mutualis.identity import selectors, services
from mutualis.identity.conf import acr_level

logger = logging.getLogger("mutualis.identity.sso")

REFUSAL_KEY = "identity_sso_refusal"
ACR_KEY = "identity_sso_acr"


class Refused(Exception):
    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


class DirectoryOIDCBackend(OIDCAuthenticationBackend):
    def get_or_create_user(self, access_token: str, id_token: str, payload: dict[str, Any]) -> User | None:
        userinfo = self.get_userinfo(access_token, id_token, payload)
        claims = {**userinfo, **payload}  # the ID token's acr and sub win over userinfo's
        try:
            user = self.match(claims)
        except Refused as refusal:
            logger.warning("SSO refused (%s): %s", refusal.reason, refusal)
            self.request.session[REFUSAL_KEY] = refusal.reason
            audit_record(
                actor=None,
                action=AuditAction.LOGIN,
                object_repr=f"connexion SSO refusée ({refusal.reason}) : {claims.get('preferred_username', '')}",
                changes={"refused": [None, str(refusal)]},
                via="sso",
            )
            return None
        user.sso_acr = str(claims.get("acr", ""))  # type: ignore[attr-defined]
        return user

    def match(self, claims: dict[str, Any]) -> User:
        username = str(claims.get("preferred_username") or "").strip()
        mail = str(claims.get("email") or "").strip()
        agent = selectors.agent_for_sso(username=username, mail=mail)
        if agent is None:
            raise Refused("unknown", f"no directory entry for {username or mail!r}")
        if not agent.is_active:
            raise Refused("inactive", f"directory entry {agent.pk} is inactive")
        user = services.account_for_sso(agent=agent, username=username, claims=claims)
        if not user.is_active:
            raise Refused("inactive", f"account {user.username} is disabled")
        if selectors.is_generic_account(user):
            raise Refused("generic", f"account {user.username} is a generic account")
        if user.is_operator and acr_level(claims.get("acr")) < acr_level(settings.OIDC_STAFF_ACR):
            raise Refused("second_factor", f"operator account {user.username} came with acr={claims.get('acr')!r}")
        return user

    def get_user(self, user_id: Any) -> User | None:
        try:
            user = User._default_manager.select_related("organisation", "service").get(pk=user_id)
        except User.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None


def provider_logout_url(request: HttpRequest) -> str:
    """The provider's end_session endpoint, so that logging out of Mutualis ends the SSO session."""
    query = {"post_logout_redirect_uri": request.build_absolute_uri(reverse(settings.LOGOUT_REDIRECT_URL))}
    id_token = request.session.get("oidc_id_token")
    if id_token:
        query["id_token_hint"] = id_token
    return f"{settings.OIDC_OP_LOGOUT_ENDPOINT}?{urlencode(query)}"


def sso_logout_target(request: HttpRequest) -> str | None:
    """After a single sign-on session, the provider's logout page (accounts' logout view asks,
    registered in IdentityConfig.ready)."""
    if settings.OIDC_ENABLED and request.session.get("oidc_id_token"):
        return provider_logout_url(request)
    return None


def _sso_required(request: HttpRequest) -> HttpResponse | None:
    if not settings.OIDC_ENABLED:
        return render(request, "404.html", status=404)
    return None


class LoginView(OIDCAuthenticationRequestView):
    def get(self, request: HttpRequest) -> HttpResponse:
        return _sso_required(request) or super().get(request)


class CallbackView(OIDCAuthenticationCallbackView):
    """The library's callback, with a refusal page instead of a bare 400 on a forged or replayed
    answer (wrong state, token signed by another key), and the second factor noted in the session."""

    @property
    def failure_url(self) -> str:
        return reverse("identity:sso_refused")

    def get(self, request: HttpRequest) -> HttpResponse:
        if (response := _sso_required(request)) is not None:
            return response
        if "code" in request.GET and "oidc_states" not in request.session:
            return self._refuse(request, "callback without a login in progress in this session")
        try:
            return super().get(request)
        except SuspiciousOperation as error:
            return self._refuse(request, str(error))

    def _refuse(self, request: HttpRequest, detail: str) -> HttpResponse:
        logger.warning("SSO callback refused: %s", detail)
        audit_record(
            actor=None,
            action=AuditAction.LOGIN,
            object_repr="réponse du fournisseur d'identité refusée",
            changes={"refused": [None, detail]},
            via="sso",
        )
        if request.user.is_authenticated:
            auth.logout(request)
        return render(request, "identity/sso_refused.html", {"reason": "invalid"}, status=400)

    def login_success(self) -> HttpResponse:
        response = super().login_success()
        acr = getattr(self.user, "sso_acr", "")
        self.request.session[ACR_KEY] = acr
        self.request.session[SECOND_FACTOR_KEY] = acr_level(acr) >= acr_level(settings.OIDC_STAFF_ACR)
        return response
