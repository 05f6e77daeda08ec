"""Decisions taken on delegation: within the delegation's dates and its ceiling, optionally tied
to a contract of the register."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from mutualis.governance import services
from mutualis.governance.enums import Delegate

pytestmark = pytest.mark.django_db


@pytest.fixture
def delegation(committee):
    return services.delegation_create(
        actor=committee.world.staff,
        data={
            "delegate": Delegate.PRESIDENT,
            "scope": "Marchés à procédure adaptée",
            "deliberation_reference": "2020-031 du 15/07/2020",
            "threshold_ht": Decimal("40000"),
            "valid_from": dt.date(2020, 7, 15),
        },
    )


def test_it_records_a_decision_within_the_ceiling_linked_to_a_contract(committee, delegation):
    from mutualis.procurement.services import contract_create

    contract = contract_create(
        actor=committee.world.staff,
        data={
            "code": "2026M01",
            "object": "Maintenance du logiciel de courrier",
            "procedure": "mapa",
            "max_amount_ht": Decimal("40000"),
            "notified_on": dt.date(2026, 2, 3),
            "starts_on": dt.date(2026, 2, 3),
            "duration_months": 12,
        },
        holders=[],
    )
    decision = services.delegated_decision_create(
        actor=committee.world.staff,
        data={
            "delegation": delegation,
            "object": "Maintenance du logiciel de courrier",
            "decided_on": dt.date(2026, 2, 3),
            "amount_ht": Decimal("40000.00"),
            "contract": contract,
        },
    )
    assert decision.delegation.reference == "2020-031 du 15/07/2020"
    assert decision.contract == contract


def test_it_refuses_a_decision_above_the_ceiling(committee, delegation):
    with pytest.raises(ValidationError, match="dépasse le plafond"):
        services.delegated_decision_create(
            actor=committee.world.staff,
            data={
                "delegation": delegation,
                "object": "Serveurs",
                "decided_on": dt.date(2026, 2, 3),
                "amount_ht": Decimal("40000.01"),
            },
        )
    with pytest.raises(ValidationError, match="indiquez le montant"):
        services.delegated_decision_create(
            actor=committee.world.staff,
            data={"delegation": delegation, "object": "Serveurs", "decided_on": dt.date(2026, 2, 3), "amount_ht": None},
        )


def test_it_refuses_a_decision_outside_the_delegations_dates(committee, delegation):
    with pytest.raises(ValidationError, match="pas en vigueur"):
        services.delegated_decision_create(
            actor=committee.world.staff,
            data={
                "delegation": delegation,
                "object": "Serveurs",
                "decided_on": dt.date(2019, 2, 3),
                "amount_ht": Decimal("1"),
            },
        )


def test_it_accepts_any_amount_without_a_ceiling(committee, delegation):
    unlimited = services.delegation_create(
        actor=committee.world.staff,
        data={
            "delegate": Delegate.BUREAU,
            "scope": "Conventions",
            "deliberation_reference": "2020-032",
            "valid_from": dt.date(2020, 7, 15),
        },
    )
    decision = services.delegated_decision_create(
        actor=committee.world.staff,
        data={
            "delegation": unlimited,
            "object": "Convention",
            "decided_on": dt.date(2026, 2, 3),
            "amount_ht": Decimal("1000000"),
        },
    )
    assert decision.pk


def test_it_requires_the_delegating_deliberation(committee):
    with pytest.raises(ValidationError, match="délibération qui donne la délégation"):
        services.delegation_create(
            actor=committee.world.staff,
            data={"delegate": Delegate.BUREAU, "scope": "Conventions", "valid_from": dt.date(2020, 7, 15)},
        )
