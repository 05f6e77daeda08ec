"""API v1 endpoints: lists with filters and pages, details, writes by operator staff, refusals
and the 422 answers to bad input."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.conf import settings

from mutualis.catalog.models import Application, Licence, Subscription, SubscriptionStatus
from mutualis.core.models import AuditAction, AuditEntry
from mutualis.lib.identifiers import luhn_complete
from mutualis.members.models import Organisation, OrganisationKind
from mutualis.testing import factories as f


def _send(client: Any, method: str, url: str, data: dict[str, Any]) -> Any:
    return client.generic(method, url, json.dumps(data), content_type="application/json")


@pytest.fixture
def catalogue(world):
    """Two domains, three applications; Alpha subscribes to two, Bravo to one."""
    rh = f.DomainFactory(slug="rh", name="Ressources humaines", position=1)
    finance = f.DomainFactory(slug="finances", name="Finances", position=2)
    vendor = f.VendorFactory(slug="civitas", name="Civitas")
    paie = f.ApplicationFactory(
        slug="paie", name="Paie", domain=rh, position=1, software="Ciril RH", licence=Licence.PROPRIETARY, vendor=vendor
    )
    conges = f.ApplicationFactory(
        slug="conges", name="Congés", domain=rh, position=2, software="Libre RH", licence=Licence.FREE
    )
    compta = f.ApplicationFactory(
        slug="compta", name="Comptabilité", domain=finance, position=1, licence=Licence.PROPRIETARY
    )
    return {
        "paie": paie,
        "conges": conges,
        "compta": compta,
        "alpha_paie": f.SubscriptionFactory(collectivity=world.member_a, application=paie),
        "alpha_compta": f.SubscriptionFactory(
            collectivity=world.member_a, application=compta, status=SubscriptionStatus.PLANNED
        ),
        "bravo_paie": f.SubscriptionFactory(collectivity=world.member_b, application=paie),
    }


# --- reads ------------------------------------------------------------------------------------


def test_it_lists_collectivities_with_a_count_and_filters_by_kind(client, world):
    f.OrganisationFactory(slug="ccas-alpha", name="CCAS d'Alpha", kind=OrganisationKind.CCAS)
    client.force_login(world.staff)

    everything = client.get("/api/v1/collectivities/").json()
    ccas = client.get("/api/v1/collectivities/", {"kind": "ccas"}).json()

    assert everything["count"] == 3
    assert [c["slug"] for c in everything["items"]] == ["alpha", "bravo", "ccas-alpha"]
    assert ccas["count"] == 1
    assert [c["slug"] for c in ccas["items"]] == ["ccas-alpha"]


def test_it_pages_a_list_with_the_configured_page_size(client, world):
    for n in range(settings.API_PAGE_SIZE + 1):
        f.OrganisationFactory(slug=f"z-commune-{n:03d}", name=f"Z commune {n:03d}")
    client.force_login(world.staff)

    first = client.get("/api/v1/collectivities/").json()
    last = client.get("/api/v1/collectivities/", {"page": 2}).json()

    assert first["count"] == last["count"] == settings.API_PAGE_SIZE + 3
    assert len(first["items"]) == settings.API_PAGE_SIZE
    assert [c["slug"] for c in last["items"]] == ["z-commune-048", "z-commune-049", "z-commune-050"]


def test_it_pages_with_a_requested_page_size(client, world, catalogue):
    client.force_login(world.staff)

    page = client.get("/api/v1/applications/", {"page_size": 2, "page": 2}).json()

    assert page["count"] == 3
    assert [a["slug"] for a in page["items"]] == ["compta"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, ["paie", "conges", "compta"]),
        ({"domain": "rh"}, ["paie", "conges"]),
        ({"licence": "libre"}, ["conges"]),
        ({"member": "bravo"}, ["paie"]),
        ({"q": "ciril"}, ["paie"]),
        ({"domain": "finances", "licence": "libre"}, []),
    ],
)
def test_it_filters_applications(client, world, catalogue, query, expected):
    client.force_login(world.staff)

    page = client.get("/api/v1/applications/", query).json()

    assert [a["slug"] for a in page["items"]] == expected
    assert page["count"] == len(expected)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"collectivity": "alpha"}, {"alpha_paie", "alpha_compta"}),
        ({"application": "paie"}, {"alpha_paie", "bravo_paie"}),
        ({"status": "planned"}, {"alpha_compta"}),
        ({"collectivity": "bravo", "status": "planned"}, set()),
    ],
)
def test_it_filters_subscriptions(client, world, catalogue, query, expected):
    client.force_login(world.staff)

    page = client.get("/api/v1/subscriptions/", query).json()

    assert {item["id"] for item in page["items"]} == {catalogue[name].pk for name in expected}
    assert page["count"] == len(expected)


def test_it_counts_only_the_members_rows_in_a_members_list(client, world, catalogue):
    client.force_login(world.manager_a)

    page = client.get("/api/v1/subscriptions/", {"application": "paie"}).json()

    assert page["count"] == 1
    assert page["items"][0]["collectivity"] == "alpha"


def test_it_shows_a_collectivity(client, world):
    client.force_login(world.agent_a)

    body = client.get("/api/v1/collectivities/alpha").json()

    assert body["name"] == "Alpha"
    assert body["siren"] == world.member_a.siren
    assert body["kind"] == "commune"


def test_it_shows_an_application_with_its_references_as_slugs(client, world, catalogue):
    client.force_login(world.elected_a)

    body = client.get("/api/v1/applications/paie").json()

    assert body["domain"] == "rh"
    assert body["vendor"] == "Civitas"
    assert body["software"] == "Ciril RH"


def test_it_shows_a_subscription(client, world, catalogue):
    client.force_login(world.manager_a)

    body = client.get(f"/api/v1/subscriptions/{catalogue['alpha_compta'].pk}").json()

    assert body == {
        "id": catalogue["alpha_compta"].pk,
        "collectivity": "alpha",
        "application": "compta",
        "status": "planned",
        "started_on": None,
        "ended_on": None,
        "note": "",
    }


@pytest.mark.parametrize(
    "url", ["/api/v1/collectivities/nope", "/api/v1/applications/nope", "/api/v1/subscriptions/999"]
)
def test_it_answers_404_with_a_detail_for_an_unknown_object(client, world, url):
    client.force_login(world.staff)

    response = client.get(url)

    assert response.status_code == 404
    assert "introuvable" in response.json()["detail"]


def test_it_does_not_serve_the_operator_as_a_collectivity(client, world):
    client.force_login(world.staff)
    assert client.get(f"/api/v1/collectivities/{world.operator.slug}").status_code == 404


# --- writes -----------------------------------------------------------------------------------


def test_it_creates_a_collectivity_and_audits_it_as_an_api_write(client, world):
    client.force_login(world.staff)
    siren = luhn_complete("21690099")
    siret = luhn_complete(siren + "0001")

    response = _send(
        client,
        "POST",
        "/api/v1/collectivities/",
        {"slug": "charlie", "name": "Charlie", "kind": "commune", "siren": siren, "siret": siret},
    )

    assert response.status_code == 201
    assert response.json()["slug"] == "charlie"
    entry = AuditEntry.objects.get(action=AuditAction.CREATE, object_repr="Charlie")
    assert (entry.via, entry.actor) == ("api", world.staff)


def test_it_patches_only_the_fields_sent(client, world):
    world.member_a.website = "https://alpha.example"
    world.member_a.save()
    client.force_login(world.admin)

    response = _send(client, "PATCH", "/api/v1/collectivities/alpha", {"population": 1234})

    assert response.status_code == 200
    world.member_a.refresh_from_db()
    assert (world.member_a.population, world.member_a.website) == (1234, "https://alpha.example")
    assert AuditEntry.objects.get(action=AuditAction.UPDATE).changes["population"][1] == 1234


def test_it_creates_and_patches_an_application(client, world, catalogue):
    client.force_login(world.staff)

    created = client.post(
        "/api/v1/applications/",
        {"slug": "gru", "name": "GRU", "domain": "rh", "vendor": "civitas", "support_group": "relations-adherents"},
        content_type="application/json",
    )
    patched = _send(client, "PATCH", "/api/v1/applications/gru", {"domain": "finances", "vendor": None})

    assert created.status_code == 201
    assert (created.json()["vendor"], created.json()["support_group"]) == ("Civitas", "relations-adherents")
    assert patched.status_code == 200
    assert (patched.json()["domain"], patched.json()["vendor"]) == ("finances", None)


def test_it_creates_and_patches_a_subscription(client, world, catalogue):
    client.force_login(world.staff)

    created = client.post(
        "/api/v1/subscriptions/", {"collectivity": "bravo", "application": "conges"}, content_type="application/json"
    )
    pk = created.json()["id"]
    patched = _send(
        client, "PATCH", f"/api/v1/subscriptions/{pk}", {"status": "production", "started_on": "2025-01-06"}
    )

    assert created.status_code == 201
    assert created.json()["status"] == "planned"
    assert patched.status_code == 200
    assert Subscription.objects.get(pk=pk).status == SubscriptionStatus.PRODUCTION


@pytest.mark.parametrize("who", ["manager_a", "agent_a", "elected_a"])
def test_it_refuses_writes_to_member_accounts_with_403_and_a_reason(client, world, catalogue, who):
    client.force_login(getattr(world, who))
    own = catalogue["alpha_paie"]

    answers = [
        client.post(
            "/api/v1/collectivities/", {"slug": "x", "name": "X", "kind": "commune"}, content_type="application/json"
        ),
        _send(client, "PATCH", "/api/v1/collectivities/alpha", {"website": "https://alpha.example"}),
        _send(client, "POST", "/api/v1/applications/", {"slug": "x", "name": "X", "domain": "rh"}),
        _send(client, "PATCH", "/api/v1/applications/paie", {"name": "Paie !"}),
        client.post(
            "/api/v1/subscriptions/",
            {"collectivity": "alpha", "application": "conges"},
            content_type="application/json",
        ),
        _send(client, "PATCH", f"/api/v1/subscriptions/{own.pk}", {"status": "withdrawn"}),
    ]

    assert [a.status_code for a in answers] == [403] * 6
    assert {a.json()["detail"] for a in answers} == {"écriture réservée aux agents de l'opérateur"}
    assert AuditEntry.objects.exclude(action=AuditAction.LOGIN).count() == 0


def test_it_answers_404_not_403_on_a_foreign_object(client, world, catalogue):
    """Refusing a write must not disclose that another member's object exists."""
    client.force_login(world.manager_a)

    collectivity = _send(client, "PATCH", "/api/v1/collectivities/bravo", {"website": "https://x.example"})
    subscription = _send(client, "PATCH", f"/api/v1/subscriptions/{catalogue['bravo_paie'].pk}", {"note": "x"})

    assert (collectivity.status_code, subscription.status_code) == (404, 404)


# --- bad input: 422 naming the field ----------------------------------------------------------


def test_it_answers_422_naming_the_field_for_an_invalid_siret(client, world):
    client.force_login(world.staff)

    response = client.post(
        "/api/v1/collectivities/",
        {"slug": "charlie", "name": "Charlie", "kind": "commune", "siret": "12345678901234"},
        content_type="application/json",
    )

    assert response.status_code == 422
    body = response.json()
    assert body["errors"] == {"siret": ["clé de contrôle du SIRET invalide"]}
    assert body["detail"] == "siret: clé de contrôle du SIRET invalide"
    assert not Organisation.objects.filter(slug="charlie").exists()


def test_it_answers_422_for_a_duplicate_subscription(client, world, catalogue):
    client.force_login(world.staff)

    response = client.post(
        "/api/v1/subscriptions/", {"collectivity": "alpha", "application": "paie"}, content_type="application/json"
    )

    assert response.status_code == 422
    assert response.json()["errors"] == {
        "application": ["Alpha est déjà abonnée à Paie : modifiez l'abonnement existant."]
    }
    assert Subscription.objects.filter(collectivity=world.member_a, application=catalogue["paie"]).count() == 1


@pytest.mark.parametrize(
    ("method", "url", "payload", "field", "words"),
    [
        ("POST", "/api/v1/applications/", {"slug": "x", "name": "X", "domain": "inconnu"}, "domain", "'inconnu'"),
        ("PATCH", "/api/v1/applications/paie", {"domain": "inconnu"}, "domain", "'inconnu'"),
        ("PATCH", "/api/v1/applications/paie", {"vendor": "personne"}, "vendor", "'personne'"),
        (
            "POST",
            "/api/v1/subscriptions/",
            {"collectivity": "alpha", "application": "inconnue"},
            "application",
            "'inconnue'",
        ),
        (
            "POST",
            "/api/v1/subscriptions/",
            {"collectivity": "nulle-part", "application": "conges"},
            "collectivity",
            "'nulle-part'",
        ),
        (
            "POST",
            "/api/v1/subscriptions/",
            {"collectivity": "operateur", "application": "conges"},
            "collectivity",
            "opérateur",
        ),
        ("PATCH", "/api/v1/subscriptions/{sub}", {"status": "abandonné"}, "status", "abandonné"),
        (
            "PATCH",
            "/api/v1/subscriptions/{sub}",
            {"started_on": "2025-02-01", "ended_on": "2025-01-01"},
            "ended_on",
            "précède",
        ),
        ("PATCH", "/api/v1/collectivities/alpha", {"kind": "planète"}, "kind", "planète"),
    ],
)
def test_it_answers_422_naming_the_field_for_unknown_references_and_values(
    client, world, catalogue, method, url, payload, field, words
):
    client.force_login(world.staff)

    response = _send(client, method, url.format(sub=catalogue["alpha_paie"].pk), payload)

    assert response.status_code == 422
    body = response.json()
    assert list(body["errors"]) == [field]
    assert body["detail"].startswith(f"{field}: ")
    assert words in body["detail"]


def test_it_answers_422_naming_a_missing_field(client, world):
    client.force_login(world.staff)

    response = client.post(
        "/api/v1/collectivities/", {"slug": "charlie", "kind": "commune"}, content_type="application/json"
    )

    assert response.status_code == 422
    # the declared error shape (ErrorOut), not pydantic's list
    assert response.json() == {"detail": "name: champ obligatoire", "errors": {"name": ["champ obligatoire"]}}


def test_it_writes_nothing_when_the_input_is_refused(client, world, catalogue):
    client.force_login(world.staff)
    applications = Application.objects.count()

    _send(client, "POST", "/api/v1/applications/", {"slug": "x", "name": "X", "domain": "inconnu"})

    assert Application.objects.count() == applications
    assert AuditEntry.objects.exclude(action=AuditAction.LOGIN).count() == 0
