"""French public identifiers: SIREN, SIRET (Luhn check digit) and INSEE commune codes."""

from __future__ import annotations

import re

from django.utils.translation import gettext

_INSEE = re.compile(r"^(?:\d{2}|2A|2B)\d{3}$")
# La Poste's establishments share one SIREN and do not follow Luhn; their SIRET digits sum to a
# multiple of 5 instead (INSEE's documented exception).
_LA_POSTE_SIREN = "356000000"


def luhn_ok(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def siren_error(value: str) -> str | None:
    """Why `value` is not a valid SIREN, or None."""
    if not re.fullmatch(r"\d{9}", value):
        return gettext("un SIREN compte 9 chiffres")
    if not luhn_ok(value):
        return gettext("clé de contrôle du SIREN invalide")
    return None


def siret_error(value: str) -> str | None:
    """Why `value` is not a valid SIRET, or None."""
    if not re.fullmatch(r"\d{14}", value):
        return gettext("un SIRET compte 14 chiffres")
    if value.startswith(_LA_POSTE_SIREN) and value != _LA_POSTE_SIREN + "00001":
        if sum(int(c) for c in value) % 5 != 0:
            return gettext("clé de contrôle du SIRET invalide")
        return None
    if not luhn_ok(value):
        return gettext("clé de contrôle du SIRET invalide")
    return None


def insee_error(value: str) -> str | None:
    """Why `value` is not an INSEE commune code (5 characters, Corsica 2A/2B), or None."""
    if not _INSEE.fullmatch(value):
        return gettext("un code INSEE compte 5 caractères (chiffres, ou 2A/2B pour la Corse)")
    return None


def luhn_complete(prefix: str) -> str:
    """`prefix` followed by the digit that makes it pass Luhn (used by tests and fixtures)."""
    for digit in "0123456789":
        if luhn_ok(prefix + digit):
            return prefix + digit
    raise AssertionError("unreachable")
