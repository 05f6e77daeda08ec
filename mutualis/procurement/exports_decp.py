"""Building the DECP 2.0.3 document of a year's contracts."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import Prefetch
from django.utils import timezone

from mutualis.catalog.models import Vendor
from mutualis.members.selectors import operator_siret
from mutualis.procurement import decp
from mutualis.procurement.models import Contract, Lot


@dataclass
class DecpExport:
    document: dict[str, Any]
    skipped: dict[str, list[str]] = field(default_factory=dict)  # code → what is missing


def decp_threshold() -> Decimal:
    return Decimal(getattr(settings, "DECP_THRESHOLD", 40000))


def decp_export(*, year: int, threshold: Decimal | None = None, today: dt.date | None = None) -> DecpExport:
    """Contracts notified in `year` at or above the threshold, as a schema-valid document;
    contracts lacking a mandatory fact are left out and listed with the reason."""
    limit = decp_threshold() if threshold is None else threshold
    buyer_siret = operator_siret()
    contracts = (
        Contract.objects.filter(notified_on__year=year, max_amount_ht__gte=limit)
        .prefetch_related(
            Prefetch("holders", queryset=Vendor.objects.only("pk", "siret", "name")),
            Prefetch("lots", queryset=Lot.objects.select_related("holder").order_by("number")),
        )
        .order_by("notified_on", "code")
    )
    published_on = today or timezone.localdate()
    entries: list[dict[str, Any]] = []
    result = DecpExport(document={})
    for contract in contracts:
        found, missing = decp.contract_entries(contract, buyer_siret=buyer_siret, published_on=published_on)
        if missing:
            result.skipped[contract.code] = missing
        entries += found
    result.document = {"marches": {"marche": entries}}
    return result
