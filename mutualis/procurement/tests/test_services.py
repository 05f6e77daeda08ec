"""Writes on the register: contracts, holders, lots and renewal decisions; each bad input gives
a clear message and writes nothing."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.http import Http404

from mutualis.catalog.models import Vendor
from mutualis.core.models import AuditAction, AuditEntry
from mutualis.procurement import services
from mutualis.procurement.enums import RenewalChoice
from mutualis.procurement.models import Contract, Lot, RenewalDecision, add_months
from mutualis.procurement.tests.conftest import HOLDER_SIRET, contract_data
from mutualis.testing import factories as f

pytestmark = pytest.mark.django_db


def counts():
    return (
        Contract.objects.count(),
        Vendor.objects.count(),
        Lot.objects.count(),
        RenewalDecision.objects.count(),
        AuditEntry.objects.count(),
    )


def test_it_creates_a_contract_with_a_new_holder_its_applications_and_an_audit_entry(world, make_contract):
    app = f.ApplicationFactory(name="Courrier")

    contract = make_contract(applications=[app])

    assert contract.ends_on == dt.date(2025, 5, 1)  # one year from 02/05/2024
    holder = contract.holders.get()
    assert (holder.name, holder.siret) == ("Entr'ouvert", HOLDER_SIRET)
    assert list(contract.applications.all()) == [app]
    entry = AuditEntry.objects.filter(
        content_type__model="contract", object_id=str(contract.pk), action=AuditAction.CREATE
    ).get()
    assert entry.actor == world.staff
    assert entry.changes["holders"] == [None, ["Entr'ouvert"]]


def test_it_reuses_the_vendor_that_already_has_the_siret(world, make_contract):
    vendor = f.VendorFactory(name="Entr'ouvert SCOP", siret=HOLDER_SIRET)

    contract = make_contract()

    assert list(contract.holders.all()) == [vendor]


@pytest.mark.parametrize(
    ("overrides", "new_holders", "field", "message"),
    [
        ({}, [services.NewHolder(siret="55204599900868", name="X")], "holders", "clé de contrôle du SIRET invalide"),
        ({}, [services.NewHolder(siret="123", name="X")], "holders", "un SIRET compte 14 chiffres"),
        ({"cpv_code": "7226700"}, None, "cpv_code", "un code CPV compte 8 chiffres"),
        ({"cpv_code": "72267000-45"}, None, "cpv_code", "un code CPV compte 8 chiffres"),
        ({"max_amount_ht": Decimal("-1")}, None, "max_amount_ht", "le montant ne peut pas être négatif"),
        (
            {"duration_months": None, "renewals_allowed": 0, "planned_end_on": dt.date(2024, 4, 30)},
            None,
            "planned_end_on",
            "la date de fin précède la date de début",
        ),
    ],
)
def test_it_refuses_bad_input_and_writes_nothing(world, make_contract, overrides, new_holders, field, message):
    before = counts()

    with pytest.raises(ValidationError) as error:
        make_contract(new_holders=new_holders, **overrides)

    assert message in " ".join(error.value.message_dict[field])
    assert counts() == before


def test_it_accepts_a_cpv_code_with_or_without_its_check_digit(world, make_contract):
    assert make_contract(code="A", cpv_code="72267000").cpv_code == "72267000"
    assert make_contract(code="B", cpv_code="72267000-4").cpv_code == "72267000-4"


def test_it_refuses_writes_from_member_and_elected_accounts(world):
    for user in (world.manager_a, world.agent_a):
        with pytest.raises(Http404):
            services.contract_create(actor=user, data=contract_data())
    from django.core.exceptions import PermissionDenied

    with pytest.raises((Http404, PermissionDenied)):
        services.contract_create(actor=world.elected_a, data=contract_data())
    assert not Contract.objects.exists()


def test_it_adds_lots_whose_holders_and_applications_join_the_contract(world, make_contract):
    contract = make_contract(max_amount_ht=Decimal("1333332"), new_holders=[])
    watcha, opendsi = f.VendorFactory(name="WATCHA"), f.VendorFactory(name="OPEN DSI")
    app = f.ApplicationFactory(name="Watcha")

    services.lot_add(
        actor=world.staff,
        contract=contract,
        number=1,
        object="Watcha",
        amount_ht=Decimal("320833"),
        holder=watcha,
        application=app,
    )
    services.lot_add(
        actor=world.staff, contract=contract, number=2, object="Nextcloud", amount_ht=Decimal("320833"), holder=opendsi
    )

    assert list(contract.lots.values_list("number", flat=True)) == [1, 2]
    assert set(contract.holders.all()) == {watcha, opendsi}
    assert list(contract.applications.all()) == [app]
    assert AuditEntry.objects.filter(content_type__model="lot").count() == 2


def test_it_refuses_lots_adding_up_to_more_than_the_contract(world, make_contract):
    contract = make_contract(max_amount_ht=Decimal("100000"))
    services.lot_add(actor=world.staff, contract=contract, number=1, object="A", amount_ht=Decimal("60000"))
    before = counts()

    with pytest.raises(ValidationError) as error:
        services.lot_add(actor=world.staff, contract=contract, number=2, object="B", amount_ht=Decimal("40000.01"))

    assert "au-delà du montant du marché" in error.value.message_dict["amount_ht"][0]
    assert counts() == before


def test_it_refuses_lowering_the_amount_below_the_lots(world, make_contract):
    contract = make_contract(max_amount_ht=Decimal("100000"))
    services.lot_add(actor=world.staff, contract=contract, number=1, object="A", amount_ht=Decimal("60000"))

    with pytest.raises(ValidationError, match="les lots totalisent déjà"):
        services.contract_update(actor=world.staff, contract=contract, data={"max_amount_ht": Decimal("50000")})
    contract.refresh_from_db()
    assert contract.max_amount_ht == Decimal("100000")


def test_it_updates_a_contract_and_recomputes_its_end(world, make_contract):
    contract = make_contract()

    changes = services.contract_update(actor=world.staff, contract=contract, data={"duration_months": 24})

    contract.refresh_from_db()
    assert changes["duration_months"] == [12, 24]
    assert contract.ends_on == dt.date(2026, 5, 1)
    assert AuditEntry.objects.filter(
        content_type__model="contract", object_id=str(contract.pk), action=AuditAction.UPDATE
    ).exists()


def test_it_records_renewals_and_extends_the_end_each_time(world, make_contract, bodies):
    contract = make_contract()

    first = services.renewal_decide(
        actor=world.staff,
        contract=contract,
        decided_on=dt.date(2025, 3, 1),
        decision=RenewalChoice.RENEW,
        body=bodies["bureau"],
        note="Bureau du 01/03",
    )
    second = services.renewal_decide(
        actor=world.staff, contract=contract, decided_on=dt.date(2026, 3, 1), decision=RenewalChoice.RENEW
    )

    assert first.new_end_on == dt.date(2026, 5, 1)
    assert second.new_end_on == dt.date(2027, 5, 1)
    contract.refresh_from_db()
    assert contract.ends_on == dt.date(2027, 5, 1)
    assert first.decided_by == world.staff and first.decided_by_label == "staff"
    assert list(contract.renewal_decisions.values_list("decision", flat=True)) == ["renew", "renew"]


def test_it_refuses_a_renewal_beyond_the_allowed_count(world, make_contract):
    contract = make_contract(renewals_allowed=1)
    services.renewal_decide(actor=world.staff, contract=contract, decided_on=dt.date(2025, 3, 1), decision="renew")
    before = counts()

    with pytest.raises(ValidationError) as error:
        services.renewal_decide(actor=world.staff, contract=contract, decided_on=dt.date(2026, 3, 1), decision="renew")

    assert "ne peut être reconduit que 1 fois" in error.value.message_dict["decision"][0]
    assert counts() == before
    contract.refresh_from_db()
    assert contract.ends_on == dt.date(2026, 5, 1)


def test_it_ends_the_contract_after_a_decision_not_to_renew(world, make_contract):
    contract = make_contract()

    decision = services.renewal_decide(
        actor=world.staff, contract=contract, decided_on=dt.date(2025, 3, 1), decision=RenewalChoice.NOT_RENEW
    )

    assert decision.new_end_on == dt.date(2025, 5, 1)
    with pytest.raises(ValidationError, match="non-reconduction"):
        services.renewal_decide(actor=world.staff, contract=contract, decided_on=dt.date(2025, 3, 2), decision="renew")


def test_it_refuses_a_renewal_when_the_duration_is_unknown(world, make_contract):
    contract = make_contract(duration_months=None, renewals_allowed=2)

    with pytest.raises(ValidationError, match="durée du marché inconnue"):
        services.renewal_decide(actor=world.staff, contract=contract, decided_on=dt.date(2025, 3, 1), decision="renew")


def test_it_refuses_an_invalid_siret_for_a_vendor_and_keeps_the_old_one(world):
    vendor = f.VendorFactory(siret=HOLDER_SIRET)

    with pytest.raises(ValidationError, match="clé de contrôle"):
        services.vendor_set_siret(actor=world.staff, vendor=vendor, siret="55204599900868")
    vendor.refresh_from_db()
    assert vendor.siret == HOLDER_SIRET


def test_it_adds_months_clamping_to_the_end_of_short_months():
    assert add_months(dt.date(2024, 1, 31), 1) == dt.date(2024, 2, 29)
    assert add_months(dt.date(2022, 5, 2), 12) == dt.date(2023, 5, 2)
    assert add_months(dt.date(2022, 11, 15), 3) == dt.date(2023, 2, 15)
