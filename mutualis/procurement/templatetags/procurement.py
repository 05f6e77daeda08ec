"""Template filters of the register: amounts the French way."""

from __future__ import annotations

from decimal import Decimal

from django import template

register = template.Library()


@register.filter
def euros(value: Decimal | int | None) -> str:
    """1333332 → « 1 333 332 € » ; cents are shown only when there are some."""
    if value is None or value == "":
        return "—"
    amount = Decimal(value)
    text = f"{amount:,.0f}" if amount == amount.to_integral_value() else f"{amount:,.2f}"
    return text.replace(",", "\u202f").replace(".", ",") + "\u00a0€"
