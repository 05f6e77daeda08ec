"""Applications by slug for the hot paths (a ticket created through the API names its
application): the catalogue holds tens of applications and changes a few times a year, so each
process keeps them all, with their support group (core.process_cache), instead of one query per
request. Saving or deleting an application or an operator service drops them."""

from __future__ import annotations

from mutualis.catalog.models import Application
from mutualis.core.process_cache import ProcessCache
from mutualis.members.models import OperatorService

TTL_S = 60


def _load() -> dict[str, Application]:
    return {a.slug: a for a in Application.objects.select_related("support_group")}


_applications = ProcessCache("catalog:applications-version", _load, ttl_s=TTL_S)
_applications.forget_on_change(Application, OperatorService)


def application_by_slug(slug: str) -> Application | None:
    """The application of that slug with its support group, or None."""
    return _applications.get().get(slug)


def applications_changed() -> None:
    """Forget the applications, here at once and in every process sharing the cache."""
    _applications.forget()
