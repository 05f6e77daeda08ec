"""What the notices show on pages below them (core.panels): the home page's list of notices
about the member's applications, and on the staff ticket page the major incidents the ticket is
linked to. Registered in NoticesConfig.ready."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from mutualis.accounts.requests import signed_in
from mutualis.core.panels import panel_register
from mutualis.notices import selectors
from mutualis.notices.enums import CURRENT_STATES


def home_notices(request: HttpRequest) -> dict[str, Any]:
    return {"home_notices": selectors.home_notices(actor=signed_in(request))}


def ticket_incidents(request: HttpRequest, *, ticket: Any) -> dict[str, Any]:
    return {"ticket_notices": list(selectors.ticket_notices(actor=signed_in(request), ticket_id=ticket.pk))}


def member_notices(request: HttpRequest, *, organisation: Any) -> dict[str, Any]:
    notices = selectors.notice_list(actor=signed_in(request), organisation=organisation)
    return {"organisation": organisation, "member_notices": list(notices.filter(state__in=CURRENT_STATES)[:5])}


def register() -> None:
    panel_register("core.home.sections", order=5, template="notices/panels/home.html", context=home_notices)
    panel_register("members.detail", order=40, template="notices/panels/member.html", context=member_notices)
    panel_register("helpdesk.ticket.staff", order=30, template="notices/panels/ticket.html", context=ticket_incidents)
