"""Vendor clock formatting at the edge: business seconds as hours, the French way."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django import template
from django.utils.formats import number_format

register = template.Library()


@register.filter
def business_hours(seconds: Any) -> str:
    """Business seconds as « 12,5 h » (one decimal); « — » when there is no figure."""
    if seconds is None or seconds == "":
        return "—"
    value = (Decimal(str(seconds)) / 3600).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return f"{number_format(value, 1)} h"
