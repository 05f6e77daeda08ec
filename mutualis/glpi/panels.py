"""What the import shows on the staff ticket page (slot helpdesk.ticket.staff, registered in
GlpiConfig.ready): "Repris de GLPI, n° N", with what the models could not hold — the address of
an anonymous GLPI requester, the GLPI names of people matched to no account. One query."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from mutualis.accounts.requests import signed_in
from mutualis.core.panels import panel_register
from mutualis.core.tenancy import is_operator
from mutualis.glpi.models import ImportRecord
from mutualis.helpdesk.models import Ticket

PREFIX = "glpi:"


def ticket_origin(request: HttpRequest, *, ticket: Ticket) -> dict[str, Any]:
    external = ticket.external_id or ""
    if not external.startswith(PREFIX) or not is_operator(signed_in(request)):
        return {"show": False}
    record = ImportRecord.objects.filter(table="glpi_tickets", object_id=ticket.pk).only("glpi_id", "extra").first()
    extra = (record.extra if record else None) or {}
    return {
        "show": True,
        "number": external.removeprefix(PREFIX),
        "requesters": extra.get("requesters", []),
        "unmatched": extra.get("unmatched", []),
    }


def register() -> None:
    panel_register("helpdesk.ticket.staff", order=40, template="glpi/panels/ticket_origin.html", context=ticket_origin)
