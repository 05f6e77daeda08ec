"""The dated threshold table and the warnings when a procedure or award body does not fit."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.http import Http404

from mutualis.core.models import AuditAction, AuditEntry
from mutualis.procurement import selectors, services
from mutualis.procurement.enums import AwardMode, Procedure, ThresholdKind
from mutualis.procurement.models import Threshold

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("day", "supplies", "works"),
    [
        (dt.date(2022, 7, 21), 215000, 5382000),
        (dt.date(2023, 12, 31), 215000, 5382000),
        (dt.date(2024, 1, 1), 221000, 5538000),
        (dt.date(2025, 12, 31), 221000, 5538000),
        (dt.date(2026, 1, 1), 216000, 5404000),
        (dt.date(2027, 6, 30), 216000, 5404000),
    ],
)
def test_it_gives_the_thresholds_in_force_on_a_date(day, supplies, works):
    in_force = selectors.thresholds_in_force(on=day)

    assert in_force[ThresholdKind.EU_SUPPLIES_SERVICES].amount_ht == Decimal(supplies)
    assert in_force[ThresholdKind.EU_WORKS].amount_ht == Decimal(works)
    assert in_force[ThresholdKind.NO_PUBLICITY].amount_ht == Decimal(40000)


def test_it_adds_a_threshold_through_the_service(world):
    services.threshold_create(
        actor=world.staff,
        data={
            "kind": ThresholdKind.EU_SUPPLIES_SERVICES,
            "amount_ht": Decimal("230000"),
            "valid_from": dt.date(2028, 1, 1),
        },
    )

    assert selectors.thresholds_in_force(on=dt.date(2028, 2, 1))[ThresholdKind.EU_SUPPLIES_SERVICES].amount_ht == 230000
    assert Threshold.objects.filter(valid_from=dt.date(2028, 1, 1)).count() == 1


def test_it_audits_a_new_threshold(world):
    threshold = services.threshold_create(
        actor=world.staff,
        data={"kind": ThresholdKind.EU_WORKS, "amount_ht": Decimal("5600000"), "valid_from": dt.date(2028, 1, 1)},
    )

    entry = AuditEntry.objects.get(content_type__model="threshold", object_id=str(threshold.pk))
    assert entry.action == AuditAction.CREATE and entry.actor == world.staff
    assert entry.changes["amount_ht"] == [None, "5600000"]


@pytest.mark.parametrize("amount", [Decimal(0), Decimal("-1"), None])
def test_it_refuses_a_threshold_that_is_not_positive(world, amount):
    before = (Threshold.objects.count(), AuditEntry.objects.count())

    with pytest.raises(ValidationError) as error:
        services.threshold_create(
            actor=world.staff,
            data={"kind": ThresholdKind.EU_WORKS, "amount_ht": amount, "valid_from": dt.date(2028, 1, 1)},
        )

    assert "amount_ht" in error.value.error_dict
    assert (Threshold.objects.count(), AuditEntry.objects.count()) == before


def test_it_refuses_a_threshold_without_a_date(world):
    with pytest.raises(ValidationError) as error:
        services.threshold_create(
            actor=world.staff, data={"kind": ThresholdKind.EU_WORKS, "amount_ht": Decimal(1), "valid_from": None}
        )

    assert "valid_from" in error.value.error_dict


def test_it_refuses_a_second_value_for_the_same_kind_and_date(world):
    # The migration seeded the supplies and services threshold in force from 01/01/2024.
    before = (Threshold.objects.count(), AuditEntry.objects.count())

    with pytest.raises(ValidationError, match="déjà une valeur en vigueur depuis le 01/01/2024"):
        services.threshold_create(
            actor=world.staff,
            data={
                "kind": ThresholdKind.EU_SUPPLIES_SERVICES,
                "amount_ht": Decimal("222000"),
                "valid_from": dt.date(2024, 1, 1),
            },
        )

    assert (Threshold.objects.count(), AuditEntry.objects.count()) == before
    assert selectors.thresholds_in_force(on=dt.date(2024, 6, 1))[ThresholdKind.EU_SUPPLIES_SERVICES].amount_ht == 221000


def test_it_lets_only_operator_staff_add_a_threshold(world):
    with pytest.raises(Http404):
        services.threshold_create(
            actor=world.manager_a,
            data={"kind": ThresholdKind.EU_WORKS, "amount_ht": Decimal(1), "valid_from": dt.date(2028, 1, 1)},
        )

    assert not Threshold.objects.filter(valid_from=dt.date(2028, 1, 1)).exists()


def test_it_warns_about_a_mapa_above_the_european_threshold(world, make_contract):
    contract = make_contract(max_amount_ht=Decimal("221000"))  # notified 02/05/2024: threshold 221 000

    assert any("Procédure adaptée au-delà du seuil européen" in w for w in selectors.contract_warnings(contract))
    below = make_contract(code="B", max_amount_ht=Decimal("220999.99"))
    assert selectors.contract_warnings(below) == []


def test_it_uses_the_threshold_of_the_notification_date(world, make_contract):
    # 218 000 € is above the 2022–2023 threshold (215 000) but below the 2024–2025 one (221 000).
    old = make_contract(
        code="A", max_amount_ht=Decimal("218000"), notified_on=dt.date(2023, 3, 1), starts_on=dt.date(2023, 3, 1)
    )
    new = make_contract(code="B", max_amount_ht=Decimal("218000"))

    assert selectors.contract_warnings(old) and not selectors.contract_warnings(new)


def test_it_warns_when_the_bureau_awards_above_the_european_threshold(world, make_contract, bodies):
    contract = make_contract(
        procedure=Procedure.OPEN_TENDER,
        award_mode=AwardMode.OPEN_TENDER,
        max_amount_ht=Decimal("600000"),
        award_body=bodies["bureau"],
    )

    warnings = selectors.contract_warnings(contract)

    assert len(warnings) == 1 and "Le Bureau n'a délégation" in warnings[0]


def test_it_accepts_the_cao_awarding_a_formalised_contract(world, make_contract, bodies):
    contract = make_contract(
        procedure=Procedure.OPEN_TENDER,
        award_mode=AwardMode.OPEN_TENDER,
        max_amount_ht=Decimal("600000"),
        award_body=bodies["cao"],
    )

    assert selectors.contract_warnings(contract) == []


def test_it_accepts_the_bureau_below_the_threshold(world, make_contract, bodies):
    assert selectors.contract_warnings(make_contract(award_body=bodies["bureau"])) == []


def test_it_uses_the_works_threshold_for_works(world, make_contract):
    contract = make_contract(
        cpv_code="45000000-7",
        max_amount_ht=Decimal("1000000"),
        procedure=Procedure.OPEN_TENDER,
        award_mode=AwardMode.OPEN_TENDER,
    )

    assert selectors.contract_warnings(contract) == []


def test_it_flags_a_contract_without_publicity_above_40000(world, make_contract):
    contract = make_contract(award_mode=AwardMode.WITHOUT_PUBLICITY, max_amount_ht=Decimal("60000"))

    assert any("cas dérogatoire" in w for w in selectors.contract_warnings(contract))
    assert (
        selectors.contract_warnings(
            make_contract(code="B", award_mode=AwardMode.WITHOUT_PUBLICITY, max_amount_ht=Decimal("39999"))
        )
        == []
    )
