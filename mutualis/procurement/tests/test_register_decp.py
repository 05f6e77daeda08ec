"""« Télécharger les DECP » from the register, with what each contract still lacks and a link to
complete it; operator staff only."""

import html as html_lib
import json

import pytest
from django.urls import reverse

from mutualis.procurement.decp import schema_errors

pytestmark = pytest.mark.django_db


def test_it_downloads_the_years_decp_from_the_register(client, world, make_contract, buyer):
    make_contract(code="2024M01")
    client.force_login(world.admin)

    page = client.get(reverse("procurement:list")).content.decode()
    download = reverse("procurement:decp_download", args=[2024])
    assert download in page and "Télécharger les DECP 2024" in page

    response = client.get(download)
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="decp-2024.json"'
    document = json.loads(response.content)
    assert [entry["id"] for entry in document["marches"]["marche"]] == ["2024M01"]
    assert schema_errors(document) == []


def test_it_lists_what_each_contract_lacks_with_a_link_to_complete_it(client, world, make_contract, buyer):
    make_contract(code="2024M01")
    make_contract(code="2024M02", cpv_code="", decp_details={})
    client.force_login(world.staff)

    response = client.get(reverse("procurement:list"), {"annee": 2024})

    gaps = {contract.code: missing for contract, missing in response.context["decp"]["gaps"]}
    assert list(gaps) == ["2024M02"] and "code CPV" in gaps["2024M02"]
    html = html_lib.unescape(response.content.decode())
    assert reverse("procurement:edit", args=["2024M02"]) in html
    assert "code CPV" in html and "nombre d'offres reçues (offresRecues)" in html


@pytest.mark.parametrize("who", ["manager_a", "elected_a"])
def test_it_keeps_the_decp_actions_to_the_operator(client, world, make_contract, buyer, who):
    make_contract(code="2024M01")
    client.force_login(getattr(world, who))
    page = client.get(reverse("procurement:list"))
    assert page.context["decp"] is None
    assert reverse("procurement:decp_download", args=[2024]) not in page.content.decode()
    assert client.get(reverse("procurement:decp_download", args=[2024])).status_code == 404


@pytest.mark.parametrize("year", [0, 1, 99999999999])
def test_it_answers_404_to_a_decp_download_of_an_absurd_year(client, world, year):
    client.force_login(world.admin)
    assert client.get(reverse("procurement:decp_download", args=[year])).status_code == 404
