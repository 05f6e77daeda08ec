"""Applications by slug for the hot paths (a ticket created through the API names its
application): the catalogue holds tens of applications and changes a few times a year, so each
process keeps them all, with their support group, instead of one query per request.

Kept under a version token in Django's cache, as the helpdesk's service-level configuration is
(mutualis.helpdesk.sla): saving or deleting an application or an operator service drops the token,
so this process reloads at once and, with a shared cache, every process; with the default
in-process cache, other processes reload within TTL_S at worst. The instances are shared between
requests: read them, never change them."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save

from mutualis.catalog.models import Application
from mutualis.members.models import OperatorService

TTL_S = 60
_VERSION_KEY = "catalog:applications-version"


@dataclass(frozen=True)
class _Applications:
    version: str
    loaded_at: float
    by_slug: dict[str, Application]


_loaded: _Applications | None = None


def _version() -> str:
    version = cache.get(_VERSION_KEY)
    if version is None:
        cache.add(_VERSION_KEY, uuid.uuid4().hex, None)
        version = cache.get(_VERSION_KEY) or ""
    return str(version)


def application_by_slug(slug: str) -> Application | None:
    """The application of that slug with its support group, or None."""
    global _loaded
    version = _version()
    loaded = _loaded
    if loaded is None or loaded.version != version or time.monotonic() - loaded.loaded_at > TTL_S:
        applications = Application.objects.select_related("support_group")
        loaded = _Applications(version, time.monotonic(), {a.slug: a for a in applications})
        _loaded = loaded
    return loaded.by_slug.get(slug)


def applications_changed() -> None:
    """Forget the applications, here at once and in every process sharing the cache."""
    global _loaded
    _loaded = None
    cache.delete(_VERSION_KEY)


def _changed(sender: type, **kwargs: object) -> None:
    applications_changed()
    # Also after the commit: a process that reloaded meanwhile read the rows before the change.
    transaction.on_commit(applications_changed)


for _model in (Application, OperatorService):
    post_save.connect(_changed, sender=_model, dispatch_uid=f"catalog-cache-save-{_model.__name__}")
    post_delete.connect(_changed, sender=_model, dispatch_uid=f"catalog-cache-delete-{_model.__name__}")
