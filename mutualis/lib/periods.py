"""The years a user may type (URL, form, command line): one bound for every page and command."""

from __future__ import annotations

# datetime stops at years 1..9999, and a period's window reaches outside the typed year (the next
# month, a trend's months before it, the UTC offset of its start), so a year at either end fails
# deep in a query as a 500. No ticket, contract or report of a public operator lies outside these
# centuries: anything beyond is a typing error, refused up front.
MIN_YEAR, MAX_YEAR = 1900, 2999


def year_in_range(year: int) -> bool:
    return MIN_YEAR <= year <= MAX_YEAR


def parse_year(value: str | int) -> int:
    """A year within MIN_YEAR..MAX_YEAR, else ValueError with a French message."""
    try:
        year = int(value)
    except (TypeError, ValueError):
        raise ValueError(f"année invalide : {value!r} (attendu AAAA)") from None
    if not year_in_range(year):
        raise ValueError(f"année hors limites : {year} (de {MIN_YEAR} à {MAX_YEAR})")
    return year
