"""What procurement shows on the catalogue's pages (the contracts covering an application, those a
vendor holds), registered in ProcurementConfig.ready (core.panels)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from mutualis.accounts.requests import signed_in
from mutualis.catalog.models import Application, Vendor
from mutualis.core.panels import panel_register
from mutualis.procurement.selectors import contract_list_for_application, contract_list_for_vendor


def application_contracts(request: HttpRequest, *, application: Application) -> dict[str, Any]:
    return {"contracts": contract_list_for_application(actor=signed_in(request), application=application)}


def vendor_contracts(request: HttpRequest, *, vendor: Vendor) -> dict[str, Any]:
    return {"vendor": vendor, "contracts": contract_list_for_vendor(actor=signed_in(request), vendor=vendor)}


def register() -> None:
    panel_register(
        "catalog.application",
        order=10,
        template="procurement/panels/application_contracts.html",
        context=application_contracts,
    )
    panel_register(
        "catalog.vendor", order=10, template="procurement/panels/vendor_contracts.html", context=vendor_contracts
    )
