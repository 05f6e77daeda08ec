"""The reference operator's 2022 contracts, loaded by load_demo."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db.models import Sum

from mutualis.demo.loader import load_demo
from mutualis.procurement import selectors
from mutualis.procurement.models import Contract, Lot

pytestmark = pytest.mark.django_db


def test_it_loads_the_ten_2022_contracts_with_their_links():
    load_demo()

    assert Contract.objects.count() == 10
    assert Contract.objects.aggregate(total=Sum("max_amount_ht"))["total"] == Decimal("2992332")
    tno = Contract.objects.get(code="22TNOO3")
    # Holders are the source's names, or the catalogue's vendor of the same name (Watcha).
    lots = [
        (n, a, h.upper()) for n, a, h in tno.lots.order_by("number").values_list("number", "amount_ht", "holder__name")
    ]
    assert lots == [
        (1, 320833, "WATCHA"),
        (2, 320833, "OPEN DSI"),
        (3, 320833, "APITECH"),
        (4, 320833, "BATISSEURS NUMERIQUES"),
        (5, 50000, "WATCHA"),
    ]
    assert Lot.objects.filter(contract=tno).aggregate(t=Sum("amount_ht"))["t"] == tno.max_amount_ht
    assert sorted(tno.applications.values_list("software", flat=True)) == ["Chamilo", "Jitsi", "Nextcloud", "Watcha"]
    assert Contract.objects.get(code="2022M09").award_body.slug == "cao"
    assert sorted(Contract.objects.get(code="2022M02").applications.values_list("name", flat=True)) == [
        "GRC portail association - Publik",
        "GRC portail usager - Publik",
    ]
    publik = Contract.objects.get(code="2022M02")
    assert (publik.duration_months, publik.renewals_allowed, publik.ends_on) == (12, 3, dt.date(2023, 5, 1))
    assert publik.holders.get().name == "ENTR'OUVERT SCOP ARL"
    assert Contract.objects.get(code="2022M01").ends_on is None  # the source gives no duration


def test_it_changes_nothing_when_loaded_twice():
    load_demo()
    before = list(Contract.objects.order_by("code").values_list("code", "max_amount_ht", "ends_on"))

    load_demo()

    assert list(Contract.objects.order_by("code").values_list("code", "max_amount_ht", "ends_on")) == before
    assert Lot.objects.count() == 5


def test_the_demo_register_raises_no_false_alarm_on_the_cao_contract():
    load_demo()

    warnings = selectors.contract_warnings(Contract.objects.get(code="2022M09"))

    assert warnings == []
