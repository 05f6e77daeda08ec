"""Values every page needs: the operator's name (an organisation, hence in members) and whether
the demo banner shows."""

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from mutualis.members.cache import operator_label


def platform(request: HttpRequest) -> dict[str, Any]:
    return {"platform": {"operator": operator_label, "demo_banner": not settings.REQUIRE_2FA_FOR_STAFF}}
