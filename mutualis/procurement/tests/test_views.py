"""Register pages: who reads, who writes, filters, exports, query counts, the application page."""

import csv
import datetime as dt
import io
from decimal import Decimal

import openpyxl
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from mutualis.procurement import services
from mutualis.procurement.models import Contract, RenewalDecision, Threshold
from mutualis.testing import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def contract(world, make_contract):
    app = f.ApplicationFactory(name="Courrier - Maarch", slug="courrier")
    return make_contract(applications=[app])


def test_it_shows_the_register_to_members(client, world, contract):
    client.force_login(world.agent_a)

    response = client.get("/marches/")

    assert response.status_code == 200
    body = response.content.decode()
    assert "2024M01" in body and "Entr&#x27;ouvert" in body and "150\u202f000\u00a0€" in body
    assert reverse("procurement:create") not in body  # no write link for a member


@pytest.mark.parametrize("user", ["agent_a", "manager_a", "elected_a"])
def test_it_answers_404_to_members_on_write_pages(client, world, contract, user):
    client.force_login(getattr(world, user))

    assert client.get(reverse("procurement:create")).status_code == 404
    assert client.get(reverse("procurement:edit", args=[contract.code])).status_code == 404
    assert client.get(reverse("procurement:lot_create", args=[contract.code])).status_code == 404
    assert client.get(reverse("procurement:decp_import")).status_code == 404
    response = client.post(
        reverse("procurement:renew", args=[contract.code]), {"decided_on": "2025-03-01", "decision": "renew"}
    )
    assert response.status_code == 404
    assert not RenewalDecision.objects.exists()


def test_it_requires_a_login(client, contract):
    assert client.get("/marches/").status_code == 302
    assert client.get(f"/marches/{contract.code}/").status_code == 302


def test_it_shows_a_contract_with_its_lots_renewals_and_applications(client, world, contract):
    services.renewal_decide(actor=world.staff, contract=contract, decided_on=dt.date(2025, 3, 1), decision="renew")
    client.force_login(world.manager_a)

    body = client.get(f"/marches/{contract.code}/").content.decode()

    assert "Courrier - Maarch" in body and "reconductible 3 fois" in body
    assert "1 reconduction(s) décidée(s) sur 3 possible(s)." in body
    assert "Enregistrer une décision" not in body  # members do not get the form


def test_it_records_a_renewal_from_the_contract_page(client, world, contract):
    client.force_login(world.staff)

    page = client.get(f"/marches/{contract.code}/").content.decode()
    response = client.post(
        reverse("procurement:renew", args=[contract.code]),
        {"decided_on": "2025-03-01", "decision": "renew", "note": "Bureau"},
    )

    assert "Enregistrer une décision" in page
    assert response.status_code == 302
    contract.refresh_from_db()
    assert contract.ends_on == dt.date(2026, 5, 1)


def test_it_shows_the_refusal_of_a_renewal_beyond_the_count(client, world, make_contract):
    contract = make_contract(renewals_allowed=0)
    client.force_login(world.staff)

    response = client.post(
        reverse("procurement:renew", args=[contract.code]),
        {"decided_on": "2025-03-01", "decision": "renew"},
        follow=True,
    )

    assert "ne peut être reconduit que 0 fois" in response.content.decode()
    assert not RenewalDecision.objects.exists()


def test_it_creates_a_contract_from_the_form_and_shows_errors(client, world):
    client.force_login(world.staff)
    data = {
        "code": "2025M01",
        "object": "Téléphonie",
        "kind": "marche",
        "procedure": "mapa",
        "award_mode": "publicite",
        "amount_kind": "maximum",
        "max_amount_ht": "-10",
        "cpv_code": "123",
        "renewals_allowed": "0",
        "decp_details": "{}",
        "new_holder_name": "SFR",
        "new_holder_siret": "123",
    }

    response = client.post(reverse("procurement:create"), data)

    assert response.status_code == 200
    assert not Contract.objects.exists()
    assert "un SIRET compte 14 chiffres" in response.content.decode()
    data.update(new_holder_siret="", new_holder_name="")
    body = client.post(reverse("procurement:create"), data).content.decode()
    assert "un code CPV compte 8 chiffres" in body and "le montant ne peut pas être négatif" in body
    data.update(max_amount_ht="25000", cpv_code="64200000-8")
    response = client.post(reverse("procurement:create"), data)
    assert response.status_code == 302
    assert Contract.objects.get().cpv_code == "64200000-8"


def test_it_filters_the_register(client, world, make_contract):
    a = make_contract(code="A")
    make_contract(
        code="B",
        procedure="aoo",
        award_mode="aoo",
        notified_on=dt.date(2023, 1, 5),
        starts_on=dt.date(2023, 1, 5),
        new_holders=[],
    )
    app = f.ApplicationFactory(slug="publik", name="Publik")
    a.applications.add(app)
    client.force_login(world.staff)

    def codes(query):
        rows = client.get("/marches/registre.csv?" + query).content.decode("utf-8-sig")
        return [r[0] for r in list(csv.reader(io.StringIO(rows), delimiter=";"))[1:]]

    assert codes("") == ["A", "B"]
    assert codes("annee=2023") == ["B"]
    assert codes("procedure=mapa") == ["A"]
    assert codes(f"titulaire={a.holders.get().slug}") == ["A"]
    assert codes("application=publik") == ["A"]


def test_it_filters_contracts_ending_soon(client, world, make_contract, monkeypatch):
    make_contract(code="SOON", starts_on=dt.date(2024, 5, 2))  # ends 01/05/2025
    make_contract(code="LATER", starts_on=dt.date(2024, 9, 2))
    monkeypatch.setattr("django.utils.timezone.localdate", lambda *a, **k: dt.date(2025, 3, 15))
    client.force_login(world.manager_a)

    body = client.get("/marches/?echeance=60").content.decode()

    assert "SOON" in body and "LATER" not in body


def test_it_exports_the_register_as_xlsx(client, world, contract):
    client.force_login(world.manager_a)

    response = client.get("/marches/registre.xlsx")

    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "numéro" and rows[1][0] == "2024M01"
    assert Decimal(str(rows[1][5])) == Decimal("150000")


def test_the_register_query_count_does_not_grow_with_data(client, world, make_contract, bodies):
    client.force_login(world.staff)
    make_contract(code="C0", award_body=bodies["cao"])

    def queries():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/marches/").status_code == 200
        return len(ctx.captured_queries)

    queries()  # warm the per-process caches (the platform's operator)
    few = queries()
    for n in range(1, 8):
        c = make_contract(code=f"C{n}", award_body=bodies["bureau"], applications=[f.ApplicationFactory()])
        services.lot_add(
            actor=world.staff, contract=c, number=1, object="L", amount_ht=Decimal(1), holder=f.VendorFactory()
        )
    assert queries() == few


def test_the_dashboard_lists_upcoming_events_by_mark(client, world, make_contract, monkeypatch):
    make_contract(code="SOON", starts_on=dt.date(2024, 5, 2), renewals_allowed=0)  # ends 01/05/2025
    monkeypatch.setattr("django.utils.timezone.localdate", lambda *a, **k: dt.date(2025, 4, 10))
    client.force_login(world.agent_a)

    body = client.get(reverse("procurement:dashboard")).content.decode()

    section_30 = body.split('id="j30"')[1].split("</section>")[0]
    assert "SOON" in section_30 and "fin du marché" in section_30


def test_the_thresholds_page_shows_the_values_in_force(client, world, monkeypatch):
    monkeypatch.setattr("django.utils.timezone.localdate", lambda *a, **k: dt.date(2026, 2, 1))
    client.force_login(world.agent_a)

    body = client.get(reverse("procurement:thresholds")).content.decode()

    in_force = body.split("Historique")[0]
    assert "216\u202f000\u00a0€" in in_force and "5\u202f404\u202f000\u00a0€" in in_force
    assert "221\u202f000\u00a0€" not in in_force


def test_the_application_page_lists_its_contracts(client, world, contract):
    client.force_login(world.agent_a)

    body = client.get(reverse("catalog:detail", args=["courrier"])).content.decode()

    assert 'id="marches"' in body and "2024M01" in body


def test_the_import_page_refuses_a_bad_file_naming_the_path(client, world):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(world.staff)
    upload = SimpleUploadedFile("bad.json", b'{"marches": {"marche": [{"id": 1}]}}', "application/json")

    body = client.post(reverse("procurement:decp_import"), {"file": upload}).content.decode()

    assert "$.marches.marche[0].id" in body
    assert not Contract.objects.exists()


def test_it_adds_a_threshold_from_the_thresholds_page(client, world):
    client.force_login(world.staff)

    page = client.get(reverse("procurement:thresholds")).content.decode()
    response = client.post(
        reverse("procurement:threshold_create"),
        {"kind": "eu_travaux", "amount_ht": "5600000", "valid_from": "2028-01-01", "source": "Avis du 01/12/2027"},
    )

    assert f'action="{reverse("procurement:threshold_create")}"' in page
    assert response.status_code == 302 and response["Location"] == reverse("procurement:thresholds")
    added = Threshold.objects.get(valid_from=dt.date(2028, 1, 1))
    assert added.amount_ht == Decimal("5600000") and added.source == "Avis du 01/12/2027"


def test_it_shows_why_a_threshold_is_refused_and_writes_nothing(client, world):
    client.force_login(world.staff)
    count = Threshold.objects.count()

    negative = client.post(
        reverse("procurement:threshold_create"), {"kind": "eu_travaux", "amount_ht": "0", "valid_from": "2028-01-01"}
    )
    twice = client.post(
        reverse("procurement:threshold_create"),
        {"kind": "eu_fournitures_services", "amount_ht": "222000", "valid_from": "2024-01-01"},
    )

    assert negative.status_code == 200 and "le montant d&#x27;un seuil doit être positif" in negative.content.decode()
    assert twice.status_code == 200 and "déjà une valeur en vigueur depuis le 01/01/2024" in twice.content.decode()
    assert Threshold.objects.count() == count


@pytest.mark.parametrize("user", ["agent_a", "manager_a", "elected_a"])
def test_it_answers_404_to_members_adding_a_threshold(client, world, user):
    client.force_login(getattr(world, user))
    count = Threshold.objects.count()

    page = client.get(reverse("procurement:thresholds")).content.decode()
    response = client.post(
        reverse("procurement:threshold_create"), {"kind": "eu_travaux", "amount_ht": "1", "valid_from": "2028-01-01"}
    )

    assert reverse("procurement:threshold_create") not in page
    assert response.status_code == 404
    assert client.get(reverse("procurement:threshold_create")).status_code == 404
    assert Threshold.objects.count() == count


def test_it_shows_the_register_and_its_warnings_in_english(client, world, contract):
    contract.max_amount_ht = Decimal("300000")
    contract.save(update_fields=["max_amount_ht"])
    client.force_login(world.staff)
    client.post("/i18n/setlang/", {"language": "en", "next": "/marches/"})

    register = client.get("/marches/").content.decode()
    detail = client.get(f"/marches/{contract.code}/").content.decode()

    assert "300\u202f000\u00a0€ excl. VAT" in register and " HT" not in register
    assert "Adapted procedure (MAPA) at or above the EU threshold" in detail
    assert "Procédure adaptée au-delà" not in detail
