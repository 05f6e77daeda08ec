"""The stable pseudonym that stands for a person once their data is erased or anonymised."""

from __future__ import annotations

import hashlib
import hmac

from django.conf import settings

# Stored in place of names and in the audit log: plain French, fixed (not translated: it is data).
NEUTRAL_TEXT = "[donnée anonymisée]"
PSEUDONYM_MAIL_DOMAIN = "pseudonyme.invalid"


def pseudonym(kind: str, pk: int) -> str:
    """« Personne-3F9A2C1B »: the same for the same record whenever it is asked (so the ticket, the
    account, the directory entry and the log name the person alike), and not computable back to
    the record without the installation's SECRET_KEY. Eight hex digits: among 30,000 people a
    collision is unlikely (about one chance in ten), and harmless, since no pseudonym is a key."""
    digest = hmac.new(settings.SECRET_KEY.encode(), f"mutualis.privacy:{kind}:{pk}".encode(), hashlib.sha256)
    return f"Personne-{digest.hexdigest()[:8].upper()}"


def pseudonym_mail(label: str) -> str:
    """An address that names the pseudonym and can never be delivered (RFC 2606 `.invalid`)."""
    return f"{label.lower()}@{PSEUDONYM_MAIL_DOMAIN}"
