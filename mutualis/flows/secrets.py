"""Connector secrets encrypted at rest with Fernet (AES-128-CBC + HMAC-SHA256, from `cryptography`).

The key is MUTUALIS_SECRETS_KEY (a Fernet key: `python -c "from cryptography.fernet import Fernet;
print(Fernet.generate_key().decode())"`) when set; otherwise it is derived from SECRET_KEY (SHA-256
under a fixed label), so an installation works without one more setting — but then changing
SECRET_KEY makes the stored secrets unreadable: set MUTUALIS_SECRETS_KEY before rotating it.
Older keys may follow the current one, comma-separated (MultiFernet): secrets are read with any of
them and written with the first."""

from __future__ import annotations

import base64
import hashlib
import json
import os

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


def _fernet() -> MultiFernet:
    raw = os.environ.get("MUTUALIS_SECRETS_KEY", "").strip()
    if not raw:
        digest = hashlib.sha256(b"mutualis.flows.secrets:" + settings.SECRET_KEY.encode()).digest()
        return MultiFernet([Fernet(base64.urlsafe_b64encode(digest))])
    try:
        return MultiFernet([Fernet(key.strip().encode()) for key in raw.split(",") if key.strip()])
    except ValueError as exc:
        raise ImproperlyConfigured(
            "MUTUALIS_SECRETS_KEY must be one or more Fernet keys (32 url-safe base64-encoded bytes), comma-separated"
        ) from exc


def encrypt(values: dict[str, str]) -> str:
    """The secret settings of a connector as one Fernet token (empty when there is none)."""
    if not values:
        return ""
    return _fernet().encrypt(json.dumps(values, sort_keys=True).encode()).decode()


def decrypt(token: str) -> dict[str, str]:
    if not token:
        return {}
    try:
        data = json.loads(_fernet().decrypt(token.encode()))
    except InvalidToken as exc:
        raise ImproperlyConfigured(
            "a connector's secrets cannot be decrypted: MUTUALIS_SECRETS_KEY (or SECRET_KEY, which it is "
            "derived from when unset) changed since they were saved"
        ) from exc
    return {str(k): str(v) for k, v in data.items()}
