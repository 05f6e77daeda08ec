"""The notices banner on every page (config/settings.py lists this processor; base.html prints
`notices_banner`), so core's layout shows it without importing this app. Computed only when a
template prints it: a fragment answered to htmx costs no query."""

from __future__ import annotations

from typing import Any

from django.db import DatabaseError
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe

from mutualis.accounts.models import User
from mutualis.notices import selectors

DISMISSED = "notices_dismissed"


def banner(request: HttpRequest) -> dict[str, Any]:
    def render() -> SafeString:
        user = getattr(request, "user", None)
        if not isinstance(user, User):
            return mark_safe("")
        dismissed = request.session.get(DISMISSED, []) if hasattr(request, "session") else []
        try:
            notices = selectors.banner_notices(actor=user, dismissed=[int(n) for n in dismissed if str(n).isdigit()])
        except DatabaseError:
            # An error page rendered because the database failed must still render.
            return mark_safe("")
        if not notices:
            return mark_safe("")
        return render_to_string("notices/includes/banner.html", {"banner_notices": notices}, request=request)

    return {"notices_banner": render}
