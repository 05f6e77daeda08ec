"""What the vendor clocks show on lower apps' pages, registered in OlaConfig.ready (core.panels):
a maintenance contract's commitments on its page, a ticket's vendor clock on the staff page."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils import timezone

from mutualis.accounts.requests import signed_in
from mutualis.core.panels import panel_register
from mutualis.core.tenancy import is_operator, may_write
from mutualis.helpdesk.models import Ticket
from mutualis.ola.selectors import commitment_list, ticket_vendor_clocks
from mutualis.procurement.models import Contract


def contract_commitments(request: HttpRequest, *, contract: Contract) -> dict[str, Any]:
    actor = signed_in(request)
    return {
        "show": is_operator(actor),
        "contract": contract,
        "commitments": commitment_list(actor=actor, contract=contract),
        "can_write": is_operator(actor) and may_write(actor),
    }


def ticket_clocks(request: HttpRequest, *, ticket: Ticket) -> dict[str, Any]:
    actor = signed_in(request)
    return {"show": is_operator(actor), "clocks": ticket_vendor_clocks(actor=actor, ticket=ticket, now=timezone.now())}


def register() -> None:
    panel_register(
        "procurement.contract", order=10, template="ola/panels/contract_commitments.html", context=contract_commitments
    )
    panel_register("helpdesk.ticket.staff", order=30, template="ola/panels/ticket_clocks.html", context=ticket_clocks)
