"""The contracts on the catalogue's pages come from procurement's panels (catalog sits below
procurement and does not import it)."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from mutualis.procurement import services
from mutualis.testing import factories as f

pytestmark = pytest.mark.django_db


def contract_for(world, vendor):
    data = {
        "code": "2024M01",
        "object": "Maintenance de Publik",
        "procedure": "mapa",
        "max_amount_ht": Decimal("90000"),
        "notified_on": dt.date(2024, 5, 2),
    }
    return services.contract_create(actor=world.staff, data=data, holders=[vendor])


def test_it_lists_a_vendors_contracts_and_asks_for_its_siret_for_open_data(client, world):
    vendor = f.VendorFactory(slug="entrouvert", name="Entr'ouvert", siret="")
    contract_for(world, vendor)
    client.force_login(world.staff)

    page = client.get(reverse("catalog:vendor_detail", args=["entrouvert"])).content.decode()

    assert page.index("<h2>Marchés</h2>") < page.index("requis pour publier ses marchés en données ouvertes (DECP)")
    assert "2024M01" in page


def test_it_asks_for_no_siret_when_the_vendor_holds_no_contract(client, world):
    f.VendorFactory(slug="entrouvert", name="Entr'ouvert", siret="")
    client.force_login(world.staff)

    page = client.get(reverse("catalog:vendor_detail", args=["entrouvert"])).content.decode()

    assert "Aucun marché enregistré." in page and "DECP" not in page
