"""Values every page needs: the operator's name (an organisation, hence in members) and whether
the demo banner shows."""

from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

from mutualis.members.models import Organisation, OrganisationKind

OPERATOR_CACHE_KEY = "mutualis:operator-label"


def operator_label() -> dict[str, str] | None:
    """The operator's name, cached a minute: every page prints it, it almost never changes."""
    value = cache.get(OPERATOR_CACHE_KEY)
    if value is None:
        operator = Organisation.objects.filter(kind=OrganisationKind.OPERATOR).only("name", "short_name").first()
        value = {"name": operator.name, "label": operator.label} if operator else {}
        cache.set(OPERATOR_CACHE_KEY, value, 60)
    return value or None


def platform(request: HttpRequest) -> dict[str, Any]:
    return {"platform": {"operator": operator_label, "demo_banner": not settings.REQUIRE_2FA_FOR_STAFF}}
