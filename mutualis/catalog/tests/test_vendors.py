"""A vendor's page and its identifiers: SIREN, SIRET (check digits, SIRET within the SIREN)."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.http import Http404
from django.urls import reverse

from mutualis.catalog import services
from mutualis.catalog.models import Vendor
from mutualis.core.models import AuditAction, AuditEntry
from mutualis.lib.identifiers import luhn_complete
from mutualis.procurement import services as procurement
from mutualis.testing import factories as f

pytestmark = pytest.mark.django_db

SIREN = luhn_complete("55204599")
SIRET = luhn_complete(SIREN + "0008")
OTHER_SIRET = luhn_complete(luhn_complete("73282932") + "0007")  # valid, but another company's


@pytest.fixture
def vendor(db):
    return f.VendorFactory(slug="entrouvert", name="Entr'ouvert")


def unchanged(vendor):
    vendor.refresh_from_db()
    return (vendor.name, vendor.siren, vendor.siret) == ("Entr'ouvert", "", "")


def test_it_updates_a_vendor_and_logs_it(world, vendor):
    changes = services.vendor_update(
        actor=world.staff, vendor=vendor, data={"name": "Entr'ouvert SCOP", "siren": SIREN, "siret": SIRET}
    )

    vendor.refresh_from_db()
    assert (vendor.name, vendor.siren, vendor.siret) == ("Entr'ouvert SCOP", SIREN, SIRET)
    assert changes["siret"] == ["", SIRET]
    entry = AuditEntry.objects.get(content_type__model="vendor", action=AuditAction.UPDATE)
    assert entry.actor == world.staff and entry.changes["siren"] == ["", SIREN]


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"siret": SIRET[:-1] + str((int(SIRET[-1]) + 1) % 10)}, "siret", "clé de contrôle du SIRET invalide"),
        ({"siret": "1234"}, "siret", "un SIRET compte 14 chiffres"),
        ({"siren": SIREN, "siret": OTHER_SIRET}, "siret", "le SIRET doit commencer par le SIREN de l'éditeur"),
        ({"siren": "552045990"}, "siren", "clé de contrôle du SIREN invalide"),
    ],
)
def test_it_refuses_an_invalid_identifier_and_writes_nothing(world, vendor, data, field, message):
    before = AuditEntry.objects.count()

    with pytest.raises(ValidationError) as error:
        services.vendor_update(actor=world.staff, vendor=vendor, data={"name": "Entr'ouvert", **data})

    assert error.value.message_dict[field] == [message]
    assert unchanged(vendor) and AuditEntry.objects.count() == before


@pytest.mark.parametrize("user", ["manager_a", "agent_a", "elected_a"])
def test_it_lets_only_operator_staff_update_a_vendor(world, vendor, user):
    with pytest.raises(Http404):
        services.vendor_update(actor=getattr(world, user), vendor=vendor, data={"siret": SIRET})

    assert unchanged(vendor)


def test_it_reaches_the_vendor_page_from_a_contract_and_edits_it(client, world, vendor):
    contract = procurement.contract_create(
        actor=world.staff,
        data={
            "code": "2024M01",
            "object": "Maintenance de Publik",
            "procedure": "mapa",
            "max_amount_ht": Decimal("90000"),
            "notified_on": dt.date(2024, 5, 2),
        },
        holders=[vendor],
    )
    client.force_login(world.staff)

    contract_page = client.get(reverse("procurement:detail", args=[contract.code])).content.decode()
    vendor_page = client.get(reverse("catalog:vendor_detail", args=["entrouvert"])).content.decode()
    response = client.post(
        reverse("catalog:vendor_edit", args=["entrouvert"]),
        {"name": "Entr'ouvert", "siren": SIREN, "siret": f"{SIRET[:3]} {SIRET[3:6]} {SIRET[6:9]} {SIRET[9:]}"},
    )

    assert f'href="{reverse("catalog:vendor_detail", args=["entrouvert"])}"' in contract_page
    assert "2024M01" in vendor_page and reverse("catalog:vendor_edit", args=["entrouvert"]) in vendor_page
    assert response.status_code == 302 and response["Location"] == reverse("catalog:vendor_detail", args=["entrouvert"])
    vendor.refresh_from_db()
    assert vendor.siret == SIRET  # spaces as printed on an invoice are dropped


def test_it_shows_why_a_siret_is_refused_and_writes_nothing(client, world, vendor):
    client.force_login(world.staff)
    before = AuditEntry.objects.exclude(action__in=["login", "logout"]).count()

    response = client.post(
        reverse("catalog:vendor_edit", args=["entrouvert"]),
        {"name": "Nouveau nom", "siren": SIREN, "siret": OTHER_SIRET},
    )

    assert response.status_code == 200
    body = response.content.decode()
    assert "le SIRET doit commencer par le SIREN de l&#x27;éditeur" in body
    assert "<h1>Entr&#x27;ouvert</h1>" in body
    assert unchanged(vendor)
    assert AuditEntry.objects.exclude(action__in=["login", "logout"]).count() == before


@pytest.mark.parametrize("user", ["manager_a", "agent_a", "elected_a"])
def test_it_shows_members_the_vendor_page_but_not_the_edit_page(client, world, vendor, user):
    client.force_login(getattr(world, user))

    page = client.get(reverse("catalog:vendor_detail", args=["entrouvert"]))
    edit = client.get(reverse("catalog:vendor_edit", args=["entrouvert"]))
    post = client.post(reverse("catalog:vendor_edit", args=["entrouvert"]), {"name": "Pirate", "siret": SIRET})

    assert page.status_code == 200 and reverse("catalog:vendor_edit", args=["entrouvert"]) not in page.content.decode()
    assert edit.status_code == 404 and post.status_code == 404
    assert unchanged(vendor)


def test_it_answers_404_for_an_unknown_vendor(client, world):
    client.force_login(world.staff)

    assert client.get(reverse("catalog:vendor_detail", args=["inconnu"])).status_code == 404
    assert not Vendor.objects.filter(slug="inconnu").exists()
