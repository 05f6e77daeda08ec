"""What the knowledge base shows on lower apps' pages, registered in KnowledgeConfig.ready
(core.panels): suggested articles under a new request's form, and the article picker that cites
an article in a staff answer on the staff ticket page."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from mutualis.core.panels import panel_register
from mutualis.core.tenancy import is_operator, may_write


def request_suggestions(request: HttpRequest, **page: Any) -> dict[str, Any]:
    return {}


def staff_cite(request: HttpRequest, **page: Any) -> dict[str, Any]:
    return {"show": is_operator(request.user) and may_write(request.user)}


def register() -> None:
    panel_register(
        "questionnaires.fill", order=10, template="knowledge/panels/suggestions.html", context=request_suggestions
    )
    panel_register("helpdesk.ticket.staff", order=10, template="knowledge/panels/cite.html", context=staff_cite)
