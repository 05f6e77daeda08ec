"""Applications by slug for the hot paths (a ticket created through the API names its
application): the catalogue holds tens of applications and changes a few times a year, so they
are kept as frozen values in Django's cache (core.reference_data) instead of one query per
request. The catalogue's services drop them when they write an application."""

from __future__ import annotations

from dataclasses import dataclass

from mutualis.catalog.models import Application
from mutualis.core.reference_data import ReferenceData


@dataclass(frozen=True)
class ApplicationRef:
    """What a ticket needs of its application: ids and the name, not the row."""

    id: int
    slug: str
    name: str
    support_group_id: int | None

    def __str__(self) -> str:
        return self.name


def _load() -> tuple[ApplicationRef, ...]:
    return tuple(
        ApplicationRef(id=pk, slug=slug, name=name, support_group_id=group_id)
        for pk, slug, name, group_id in Application.objects.order_by("slug").values_list(
            "pk", "slug", "name", "support_group_id"
        )
    )


_applications = ReferenceData("catalog:applications", _load)


def application_by_slug(slug: str) -> ApplicationRef | None:
    """The application of that slug, or None."""
    return next((a for a in _applications.get() if a.slug == slug), None)


def applications_changed() -> None:
    """An application was written: every process reads them again."""
    _applications.changed()
