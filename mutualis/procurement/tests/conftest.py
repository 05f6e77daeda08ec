"""Fixtures of the procurement tests: a complete, publishable contract builder."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from mutualis.governance.models import BodyKind
from mutualis.lib.identifiers import luhn_complete
from mutualis.procurement import services
from mutualis.procurement.enums import AwardMode, ContractKind, Procedure
from mutualis.testing import factories as f

HOLDER_SIRET = luhn_complete("5520459990086")  # a valid SIRET (14 digits, Luhn)
BUYER_SIRET = luhn_complete("2569004500001")
DECP_DETAILS = {
    "ccag": "Techniques de l'information et de la communication",
    "offresRecues": 3,
    "lieuExecution": {"code": "69259", "typeCode": "Code commune"},
    "formePrix": "Unitaire",
    "typesPrix": {"typePrix": ["Définitif révisable"]},
}


def contract_data(**overrides: Any) -> dict[str, Any]:
    data = {
        "code": "2024M01",
        "object": "Maintenance du logiciel de gestion du courrier",
        "kind": ContractKind.FRAMEWORK_SINGLE,
        "procedure": Procedure.ADAPTED,
        "award_mode": AwardMode.PUBLICITY,
        "max_amount_ht": Decimal("150000"),
        "cpv_code": "72267000-4",
        "notified_on": dt.date(2024, 5, 2),
        "starts_on": dt.date(2024, 5, 2),
        "duration_months": 12,
        "renewals_allowed": 3,
        "renewal_period_months": 12,
        "decp_details": dict(DECP_DETAILS),
    }
    if "starts_on" in overrides and "notified_on" not in overrides:
        data["notified_on"] = overrides["starts_on"]
    data.update(overrides)
    return data


@pytest.fixture
def make_contract(world):
    def make(*, holders=(), new_holders=None, applications=(), **overrides):
        if new_holders is None:
            new_holders = [services.NewHolder(siret=HOLDER_SIRET, name="Entr'ouvert")]
        return services.contract_create(
            actor=world.staff,
            data=contract_data(**overrides),
            holders=holders,
            new_holders=new_holders,
            applications=applications,
        )

    return make


@pytest.fixture
def bodies(db):
    return {
        "bureau": f.BodyFactory(slug="bureau-syndical", name="Bureau syndical", kind=BodyKind.BUREAU),
        "cao": f.BodyFactory(slug="cao", name="Commission d'appel d'offres", kind=BodyKind.TENDER),
    }


@pytest.fixture
def buyer(world):
    world.operator.siret = BUYER_SIRET
    world.operator.save(update_fields=["siret"])
    return world.operator
