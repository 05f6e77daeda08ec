"""Amounts and rates at the edge: French display (« 1 234,56 € ») and the CLI's plain strings."""

from __future__ import annotations

from decimal import Decimal

NNBSP = "\u202f"  # the thin no-break space French typography puts between thousands
NBSP = "\u00a0"


def euros(value: Decimal | int | None) -> str:
    """1234.5 → « 1 234,50 € » (always two decimals: accounts are kept to the cent)."""
    if value is None:
        return "—"
    text = f"{Decimal(value):,.2f}"
    return text.replace(",", NNBSP).replace(".", ",") + NBSP + "€"


def percent(value: Decimal | None) -> str:
    """12.1 → « 12,1 % »; None (no base to compare with) → « n.s. »."""
    if value is None:
        return "n.s."
    return f"{value:.1f}".replace(".", ",") + NBSP + "%"


def plain(value: Decimal) -> str:
    """The CLI's amount: two decimals, a dot, no grouping (« -1234.56 »)."""
    return f"{value:.2f}"


def plain_rate(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.1f}"
