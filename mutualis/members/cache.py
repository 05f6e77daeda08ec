"""The operator's name for every page (the layout prints it): kept as frozen values in Django's
cache (core.reference_data), shared by every process when CACHE_URL is set, and dropped by the
members' services when they write the operator organisation."""

from __future__ import annotations

from mutualis.core.reference_data import ReferenceData
from mutualis.members.models import Organisation, OrganisationKind


def _load() -> tuple[tuple[str, str], ...]:
    operator = Organisation.objects.filter(kind=OrganisationKind.OPERATOR).only("name", "short_name").first()
    return (("name", operator.name), ("label", operator.label)) if operator else ()


_operator = ReferenceData("members:operator", _load)


def operator_label() -> dict[str, str] | None:
    """The operator's name and short label, or None before an operator exists."""
    return dict(_operator.get()) or None


def operator_changed() -> None:
    """The operator organisation was written: every process reads its name again."""
    _operator.changed()
