"""Settings of the identity app, derived from the environment by config/settings.py.

Framework-free on purpose: settings.py calls it while Django is not yet configured.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mutualis.lib.env import ConfigError

# Generic shared accounts (fnmatch patterns on the login and the mail's local part): listed on the
# accounts audit page and refused by single sign-on.
DEFAULT_GENERIC_PATTERNS = [
    "accueil*",
    "mairie*",
    "contact*",
    "secretariat*",
    "standard*",
    "courrier*",
    "info*",
    "noreply*",
    "no-reply*",
    "bal-*",
    "partage*",
]

# LemonLDAP::NG's endpoints, relative to its issuer.
ENDPOINTS = {
    "OIDC_OP_AUTHORIZATION_ENDPOINT": "/oauth2/authorize",
    "OIDC_OP_TOKEN_ENDPOINT": "/oauth2/token",
    "OIDC_OP_USER_ENDPOINT": "/oauth2/userinfo",
    "OIDC_OP_JWKS_ENDPOINT": "/oauth2/jwks",
    "OIDC_OP_LOGOUT_ENDPOINT": "/oauth2/logout",
}


def parse_share(name: str, raw: str) -> float:
    """A share given as "10", "10%" or "12,5 %" → 0.10 / 0.125."""
    text = raw.strip().rstrip("%").strip().replace(",", ".")
    try:
        value = float(text)
    except ValueError:
        raise ConfigError(name, f"should be a percentage such as 10 or 10%, got {raw!r}") from None
    if not 0 <= value <= 100:
        raise ConfigError(name, f"should be between 0 and 100, got {raw!r}")
    return value / 100


def acr_level(value: Any) -> int:
    """LemonLDAP::NG's `loa-N` (or a bare number) → N; anything else → 0."""
    text = str(value or "").strip().lower()
    if text.startswith("loa-"):
        text = text[4:]
    return int(text) if text.isdigit() else 0


def oidc_settings(environ: Mapping[str, str]) -> dict[str, Any]:
    """The mozilla-django-oidc settings; OIDC_ENABLED is False unless MUTUALIS_OIDC_ISSUER is set."""
    issuer = environ.get("MUTUALIS_OIDC_ISSUER", "").strip().rstrip("/")
    staff_acr = environ.get("MUTUALIS_OIDC_STAFF_ACR", "loa-3").strip()
    if acr_level(staff_acr) == 0:
        raise ConfigError("MUTUALIS_OIDC_STAFF_ACR", f"should look like loa-3, got {staff_acr!r}")
    conf: dict[str, Any] = {
        "OIDC_ENABLED": bool(issuer),
        "OIDC_ISSUER": issuer,
        "OIDC_STAFF_ACR": staff_acr,
        "OIDC_RP_CLIENT_ID": environ.get("OIDC_RP_CLIENT_ID", "mutualis").strip(),
        "OIDC_RP_CLIENT_SECRET": environ.get("OIDC_RP_CLIENT_SECRET", "").strip(),
        "OIDC_RP_SIGN_ALGO": environ.get("OIDC_RP_SIGN_ALGO", "RS256").strip(),
        "OIDC_RP_SCOPES": "openid profile email directory",
        "OIDC_USE_PKCE": True,
        "OIDC_PKCE_CODE_CHALLENGE_METHOD": "S256",
        "OIDC_USE_NONCE": True,
        "OIDC_STORE_ID_TOKEN": True,
        "OIDC_CREATE_USER": False,
        "OIDC_TIMEOUT": 10,
        "OIDC_AUTHENTICATION_CALLBACK_URL": "identity:oidc_callback",
        "OIDC_OP_LOGOUT_URL_METHOD": "mutualis.identity.oidc.provider_logout_url",
        "LOGIN_REDIRECT_URL_FAILURE": "identity:sso_refused",
    }
    for name, suffix in ENDPOINTS.items():
        conf[name] = environ.get(name, "").strip() or (issuer + suffix if issuer else "")
    if issuer and not conf["OIDC_RP_CLIENT_SECRET"]:
        raise ConfigError("OIDC_RP_CLIENT_SECRET", "is required when MUTUALIS_OIDC_ISSUER is set")
    if issuer and not issuer.startswith(("http://", "https://")):
        raise ConfigError("MUTUALIS_OIDC_ISSUER", f"should be an http(s) URL, got {issuer!r}")
    return conf
