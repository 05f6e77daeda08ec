"""Indicator formatting at the edge: business seconds as hours, percentages, the French way."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django import template
from django.utils.formats import number_format

register = template.Library()
DASH = "—"


@register.filter
def hours(seconds: Any) -> str:
    if seconds is None or seconds == "":
        return DASH
    value = (Decimal(str(seconds)) / 3600).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return f"{number_format(value, 1)} h"


@register.filter
def pct(value: Any) -> str:
    # A month without tickets has no rate: its row lacks the key, which a template passes as "".
    if value is None or value == "":
        return DASH
    return f"{number_format(value, 1)} %"


@register.filter
def dash(value: Any) -> Any:
    return DASH if value is None else value
