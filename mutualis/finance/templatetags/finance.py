"""Template filters of the finance pages: amounts and rates the French way, dictionary lookups."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import template

from mutualis.finance import formatting

register = template.Library()


@register.filter
def eur(value: Decimal | int | None) -> str:
    return formatting.euros(value)


@register.filter
def pct(value: Decimal | None) -> str:
    return formatting.percent(value)


@register.filter
def get(mapping: Any, key: Any) -> Any:
    try:
        return mapping.get(key)
    except AttributeError:
        return None
