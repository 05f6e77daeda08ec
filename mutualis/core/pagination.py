"""Pages of a list: a page number that is not a number, or past the end, is a 404 (an invented or
stale link), never silently another page and never an OFFSET the database cannot hold."""

from __future__ import annotations

from typing import Any

from django.core.paginator import InvalidPage, Page, Paginator
from django.http import Http404
from django.utils.translation import gettext as _


def page_or_404(paginator: Paginator, number: Any) -> Page:
    """The requested page (the first when none is asked for)."""
    try:
        return paginator.page(1 if number in {None, ""} else number)
    except (InvalidPage, OverflowError, ValueError):
        raise Http404(_("page introuvable")) from None
