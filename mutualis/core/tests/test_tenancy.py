"""The tenancy matrix: every role × every page and API endpoint × its own member's object (Alpha)
or another member's (Bravo) → the answer. Then what a member's account must not see inside pages
it may open."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from mutualis.catalog.models import Licence, SsoProtocol, Subscription, SubscriptionStatus
from mutualis.conftest import World
from mutualis.core.models import AuditEntry, RunOutcome, ScheduledRun
from mutualis.members.models import Contact, Organisation
from mutualis.testing import factories as f

DECP_EXAMPLE = Path(__file__).resolve().parents[2] / "procurement/tests/data/marches_avec_modifications.json"
ROLES = ["operator_admin", "operator_staff", "member_manager", "member_agent", "elected"]

# Who gets what. Every member account belongs to Alpha: "own" is Alpha's object, "foreign" is
# Bravo's. Applications belong to no member (the catalogue is the operator's offer): there "own"
# and "foreign" are an application Alpha, or Bravo, subscribes to.
#   200/201  served          302  done, redirected          · the column does not apply
#   404      foreign object, or a page reserved to the operator (nothing is disclosed)
#   403      a write refused on an object the account can read (an elected official's own
#            member; in the API, any member account: the collections are documented and readable)
# {org} a member's slug, {contact} one of its contacts, {app} an application it subscribes to,
# {free_app} an application nobody subscribes to, {sub} its subscription, {mandate} a mandate,
# {vendor} a vendor and {contract} a contract: both belong to no member (procurement data is the
# operator's and public), so the "foreign" side does not apply to them.
#
#                                                                       ─────── own ───────   ───── foreign ─────
# label            verb  path                                           adm stf mgr agt elu   adm stf mgr agt elu
TABLE = """
home               GET   /                                              200 200 200 200 200     ·   ·   ·   ·   ·
members list       GET   /adherents/                                    200 200 200 200 200     ·   ·   ·   ·   ·
member detail      GET   /adherents/{org}/                              200 200 200 200 200   200 200 404 404 404
member edit        GET   /adherents/{org}/modifier/                     200 200 200 404 403   200 200 404 404 404
member edit        POST  /adherents/{org}/modifier/                     302 302 302 404 403   302 302 404 404 404
member create      GET   /adherents/nouvelle/                           200 200 404 404 404     ·   ·   ·   ·   ·
member create      POST  /adherents/nouvelle/                           302 302 404 404 404     ·   ·   ·   ·   ·
contact add        POST  /adherents/{org}/contacts/                     302 302 302 404 403   302 302 404 404 404
contact delete     POST  /adherents/{org}/contacts/{contact}/supprimer/ 302 302 302 404 403   302 302 404 404 404
catalogue list     GET   /catalogue/                                    200 200 200 200 200     ·   ·   ·   ·   ·
catalogue detail   GET   /catalogue/{app}/                              200 200 200 200 200   200 200 200 200 200
catalogue edit     GET   /catalogue/{app}/modifier/                     200 200 404 404 404   200 200 404 404 404
catalogue edit     POST  /catalogue/{app}/modifier/                     302 302 404 404 404   302 302 404 404 404
catalogue create   GET   /catalogue/nouvelle/                           200 200 404 404 404     ·   ·   ·   ·   ·
catalogue create   POST  /catalogue/nouvelle/                           302 302 404 404 404     ·   ·   ·   ·   ·
subscribe          GET   /catalogue/{free_app}/abonner/                 200 200 404 404 404     ·   ·   ·   ·   ·
subscribe          POST  /catalogue/{free_app}/abonner/                 302 302 404 404 404   302 302 404 404 404
subscription edit  GET   /catalogue/abonnements/{sub}/                  200 200 404 404 404   200 200 404 404 404
subscription edit  POST  /catalogue/abonnements/{sub}/                  302 302 404 404 404   302 302 404 404 404
vendor create      GET   /catalogue/editeurs/nouveau/                   200 200 404 404 404     ·   ·   ·   ·   ·
vendor page        GET   /catalogue/editeurs/{vendor}/                  200 200 200 200 200     ·   ·   ·   ·   ·
vendor edit        GET   /catalogue/editeurs/{vendor}/modifier/         200 200 404 404 404     ·   ·   ·   ·   ·
vendor edit        POST  /catalogue/editeurs/{vendor}/modifier/         302 302 404 404 404     ·   ·   ·   ·   ·
domain create      GET   /catalogue/domaines/nouveau/                   200 200 404 404 404     ·   ·   ·   ·   ·
matrix             GET   /catalogue/matrice/                            200 200 200 200 200     ·   ·   ·   ·   ·
matrix csv         GET   /catalogue/matrice.csv                         200 200 200 200 200     ·   ·   ·   ·   ·
matrix xlsx        GET   /catalogue/matrice.xlsx                        200 200 200 200 200     ·   ·   ·   ·   ·
governance         GET   /gouvernance/                                  200 200 200 200 200     ·   ·   ·   ·   ·
mandate create     GET   /gouvernance/mandats/nouveau/                  200 200 404 404 404     ·   ·   ·   ·   ·
mandate end        POST  /gouvernance/mandats/{mandate}/fin/            302 302 404 404 404     ·   ·   ·   ·   ·
register           GET   /marches/                                      200 200 200 200 200     ·   ·   ·   ·   ·
register csv       GET   /marches/registre.csv                          200 200 200 200 200     ·   ·   ·   ·   ·
register xlsx      GET   /marches/registre.xlsx                         200 200 200 200 200     ·   ·   ·   ·   ·
contract           GET   /marches/{contract}/                           200 200 200 200 200     ·   ·   ·   ·   ·
contract create    GET   /marches/nouveau/                              200 200 404 404 404     ·   ·   ·   ·   ·
contract create    POST  /marches/nouveau/                              302 302 404 404 404     ·   ·   ·   ·   ·
contract edit      GET   /marches/{contract}/modifier/                  200 200 404 404 404     ·   ·   ·   ·   ·
contract edit      POST  /marches/{contract}/modifier/                  302 302 404 404 404     ·   ·   ·   ·   ·
renewal decide     POST  /marches/{contract}/reconduction/              302 302 404 404 404     ·   ·   ·   ·   ·
lot add            GET   /marches/{contract}/lots/nouveau/              200 200 404 404 404     ·   ·   ·   ·   ·
lot add            POST  /marches/{contract}/lots/nouveau/              302 302 404 404 404     ·   ·   ·   ·   ·
decp import        GET   /marches/import-decp/                          200 200 404 404 404     ·   ·   ·   ·   ·
decp import        POST  /marches/import-decp/                          302 302 404 404 404     ·   ·   ·   ·   ·
decp download      GET   /marches/decp/2024.json                        200 200 404 404 404     ·   ·   ·   ·   ·
thresholds         GET   /marches/seuils/                               200 200 200 200 200     ·   ·   ·   ·   ·
threshold create   GET   /marches/seuils/nouveau/                       200 200 404 404 404     ·   ·   ·   ·   ·
threshold create   POST  /marches/seuils/nouveau/                       302 302 404 404 404     ·   ·   ·   ·   ·
renewal dashboard  GET   /marches/echeances/                            200 200 200 200 200     ·   ·   ·   ·   ·
audit log          GET   /journal/                                      200 404 404 404 404     ·   ·   ·   ·   ·
scheduler          GET   /systeme/planification/                        200 404 404 404 404     ·   ·   ·   ·   ·
scheduler pause    POST  /systeme/planification/clearsessions/suspendre/ 302 404 404 404 404     ·   ·   ·   ·   ·
scheduler retry    POST  /systeme/planification/quality_monthly_reports/relancer/ 302 404 404 404 404 · · · · ·
profile            GET   /comptes/profil/                               200 200 200 200 200     ·   ·   ·   ·   ·
api collectivities GET   /api/v1/collectivities/                        200 200 200 200 200     ·   ·   ·   ·   ·
api collectivity   GET   /api/v1/collectivities/{org}                   200 200 200 200 200   200 200 404 404 404
api collectivity   POST  /api/v1/collectivities/                        201 201 403 403 403     ·   ·   ·   ·   ·
api collectivity   PATCH /api/v1/collectivities/{org}                   200 200 403 403 403   200 200 404 404 404
api applications   GET   /api/v1/applications/                          200 200 200 200 200     ·   ·   ·   ·   ·
api application    GET   /api/v1/applications/{app}                     200 200 200 200 200   200 200 200 200 200
api application    POST  /api/v1/applications/                          201 201 403 403 403     ·   ·   ·   ·   ·
api application    PATCH /api/v1/applications/{app}                     200 200 403 403 403   200 200 403 403 403
api subscriptions  GET   /api/v1/subscriptions/                         200 200 200 200 200     ·   ·   ·   ·   ·
api subscription   GET   /api/v1/subscriptions/{sub}                    200 200 200 200 200   200 200 404 404 404
api subscription   POST  /api/v1/subscriptions/                         201 201 403 403 403   201 201 403 403 403
api subscription   PATCH /api/v1/subscriptions/{sub}                    200 200 403 403 403   200 200 404 404 404
api tickets        GET   /api/v1/tickets/                               200 200 200 200 200     ·   ·   ·   ·   ·
api ticket         POST  /api/v1/tickets/                               201 201 201 201 403   201 201 404 404 404
api ticket         GET   /api/v1/tickets/{ticket}                       200 200 200 200 200   200 200 404 404 404
api followups      GET   /api/v1/tickets/{ticket}/followups             200 200 200 200 200   200 200 404 404 404
api followup       POST  /api/v1/tickets/{ticket}/followups             201 201 201 201 403   201 201 404 404 404
api transition     POST  /api/v1/tickets/{ticket}/transitions           200 200 422 422 403   200 200 404 404 404
api assignment     POST  /api/v1/tickets/{ticket}/assignment            200 200 403 403 403   200 200 404 404 404
api forms          GET   /api/v1/forms/                                 200 200 200 200 200     ·   ·   ·   ·   ·
api form           GET   /api/v1/forms/{form}                           200 200 200 200 200     ·   ·   ·   ·   ·
api form submit    POST  /api/v1/forms/{form}/submit                    403 403 201 201 403     ·   ·   ·   ·   ·
"""


@dataclass(frozen=True)
class Row:
    label: str
    method: str
    path: str
    own: dict[str, int]
    foreign: dict[str, int] | None


def _parse(table: str) -> list[Row]:
    rows = []
    for line in table.strip().splitlines():
        words = line.split()
        at = next(i for i, word in enumerate(words) if word in {"GET", "POST", "PATCH"})
        label, method, path, cells = " ".join(words[:at]), words[at], words[at + 1], words[at + 2 :]
        assert len(cells) == 10, line
        own = dict(zip(ROLES, map(int, cells[:5]), strict=True))
        foreign = None if cells[5] == "·" else dict(zip(ROLES, map(int, cells[5:]), strict=True))
        rows.append(Row(label, method, path, own, foreign))
    return rows


ROWS = _parse(TABLE)
CASES = [
    pytest.param(row, role, side, expected, id=f"{row.method} {row.label} {side} {role}")
    for row in ROWS
    for side, column in (("own", row.own), ("foreign", row.foreign))
    if column is not None
    for role, expected in column.items()
]


@dataclass
class Side:
    """The objects of one member (Alpha or Bravo) the table's paths point to."""

    org: Organisation
    contact: Contact
    app: Any
    free_app: Any
    sub: Subscription
    vendor: Any
    contract: Any
    # {ticket}: a helpdesk ticket of the member, requested by its agent (Alpha's: agent-a).
    ticket: Any = None


@pytest.fixture
def sides(world: World) -> dict[str, Side]:
    domain = f.DomainFactory(slug="metier", name="Métier")
    free_app = f.ApplicationFactory(slug="libre", name="Libre", domain=domain)
    vendor = f.VendorFactory(slug="entrouvert", name="Entr'ouvert")
    contract = _contract(world, vendor)
    result = {}
    for side, org in (("own", world.member_a), ("foreign", world.member_b)):
        app = f.ApplicationFactory(slug=f"appli-{side}", name=f"Appli {side}", domain=domain)
        result[side] = Side(
            org=org,
            contact=f.ContactFactory(organisation=org, full_name=f"Contact {org.name}"),
            app=app,
            free_app=free_app,
            sub=f.SubscriptionFactory(collectivity=org, application=app),
            vendor=vendor,
            contract=contract,
        )
        result[side].ticket = _ticket(world, org)
    from mutualis.questionnaires.models import Questionnaire

    # {form}: a published questionnaire (they belong to no member: the "foreign" side does not apply).
    Questionnaire.objects.create(slug="acces-logiciel", name="Accès à un logiciel", active=True)
    return result


def _ticket(world: World, org: Organisation) -> Any:
    from mutualis.accounts.models import Role
    from mutualis.helpdesk.services import ticket_create

    requester = (
        world.agent_a
        if org == world.member_a
        else f.UserFactory(username="agent-b", role=Role.MEMBER_AGENT, organisation=org)
    )
    return ticket_create(
        actor=requester,
        collectivity=org,
        requester=requester,
        ticket_type="request",
        title="Accès",
        description="Un compte",
    )


def _contract(world: World, vendor: Any) -> Any:
    from mutualis.procurement.services import contract_create

    return contract_create(
        actor=world.staff,
        data={
            "code": "2024M01",
            "object": "Maintenance du logiciel de gestion du courrier",
            "procedure": "mapa",
            "max_amount_ht": Decimal("90000"),
            "notified_on": dt.date(2024, 5, 2),
            "starts_on": dt.date(2024, 5, 2),
            "duration_months": 12,
            "renewals_allowed": 1,
            "renewal_period_months": 12,
        },
        holders=[vendor],
    )


def _contract_form(**changes: Any) -> dict[str, Any]:
    return {
        "code": "2024M01",
        "object": "Maintenance du logiciel de gestion du courrier",
        "kind": "marche",
        "procedure": "mapa",
        "award_mode": "publicite",
        "amount_kind": "maximum",
        "max_amount_ht": "90000",
        "notified_on": "2024-05-02",
        "starts_on": "2024-05-02",
        "duration_months": "12",
        "renewals_allowed": "1",
        "renewal_period_months": "12",
        "decp_details": "{}",
        **changes,
    }


def _url(row: Row, side: Side, mandate_pk: int) -> str:
    return row.path.format(
        org=side.org.slug,
        contact=side.contact.pk,
        app=side.app.slug,
        free_app=side.free_app.slug,
        sub=side.sub.pk,
        mandate=mandate_pk,
        vendor=side.vendor.slug,
        contract=side.contract.code,
        ticket=side.ticket.reference if side.ticket else "",
        form="acces-logiciel",
    )


def _organisation_form(org: Organisation) -> dict[str, Any]:
    """Every field of the edit form, as posted back unchanged but for the agents count."""
    from mutualis.members.services import OPERATOR_EDITABLE_FIELDS

    data = {name: getattr(org, name) for name in OPERATOR_EDITABLE_FIELDS if name != "parent"}
    data = {k: ("" if v is None else v) for k, v in data.items()}
    return {**data, "agents_count": 42}


def _payload(row: Row, side: Side) -> dict[str, Any]:
    """Valid input for each write, so an allowed write really happens (and is audited)."""
    key = (row.label, row.method)
    if row.method == "GET":
        return {}
    if key == ("member edit", "POST"):
        return _organisation_form(side.org)
    if key == ("member create", "POST"):
        return {"slug": "charlie", "name": "Charlie", "kind": "commune"}
    if key == ("contact add", "POST"):
        return {"full_name": "Nouvelle Personne", "role": "dsi", "function": "DSI"}
    if key in {("catalogue edit", "POST"), ("catalogue create", "POST")}:
        return {
            "slug": "nouvelle-appli",
            "name": "Nouvelle appli",
            "domain": side.app.domain_id,
            "licence": Licence.UNKNOWN,
            "sso_protocol": SsoProtocol.UNKNOWN,
            "position": 3,
        }
    if key == ("subscribe", "POST"):
        return {"collectivity": side.org.pk, "status": SubscriptionStatus.PLANNED}
    if key == ("subscription edit", "POST"):
        return {"status": SubscriptionStatus.DEPLOYING, "note": "migration en cours"}
    if key == ("mandate end", "POST"):
        return {"end_on": "2025-06-30"}
    if key == ("scheduler pause", "POST"):
        return {"paused": "1"}
    if key == ("scheduler retry", "POST"):
        # a month's reports that failed: the period exists before the request
        due = dt.datetime(2026, 12, 1, 5, 30, tzinfo=dt.UTC)
        ScheduledRun.objects.create(
            job="quality_monthly_reports", due_at=due, started_at=due, outcome=RunOutcome.FAILURE, host="app-1"
        )
        return {"due": due.isoformat()}
    if key == ("vendor edit", "POST"):
        return {"name": "Entr'ouvert SCOP", "siren": "", "siret": ""}
    if key == ("contract create", "POST"):
        return _contract_form(code="2025M01", object="Téléphonie")
    if key == ("contract edit", "POST"):
        return _contract_form(object="Maintenance et hébergement du logiciel de gestion du courrier")
    if key == ("renewal decide", "POST"):
        return {"decided_on": "2025-03-01", "decision": "renew"}
    if key == ("lot add", "POST"):
        return {"number": "1", "object": "Maintenance", "amount_ht": "10000"}
    if key == ("decp import", "POST"):
        return {"file": SimpleUploadedFile("decp.json", DECP_EXAMPLE.read_bytes(), "application/json")}
    if key == ("threshold create", "POST"):
        return {"kind": "eu_travaux", "amount_ht": "5600000", "valid_from": "2028-01-01"}
    if key == ("api collectivity", "POST"):
        return {"slug": "charlie", "name": "Charlie", "kind": "commune"}
    if key == ("api collectivity", "PATCH"):
        return {"agents_count": 42}
    if key == ("api application", "POST"):
        return {"slug": "nouvelle-appli", "name": "Nouvelle appli", "domain": "metier"}
    if key == ("api application", "PATCH"):
        return {"description": "mise à jour"}
    if key == ("api subscription", "POST"):
        return {"collectivity": side.org.slug, "application": side.free_app.slug}
    if key == ("api subscription", "PATCH"):
        return {"status": SubscriptionStatus.DEPLOYING}
    if key == ("api ticket", "POST"):
        return {"collectivity": side.org.slug, "ticket_type": "request", "title": "Accès", "description": "Un compte"}
    if key == ("api followup", "POST"):
        return {"body": "Des nouvelles ?"}
    if key == ("api transition", "POST"):
        return {"action": "take"}  # staff only: a member's own request is refused by the table (422)
    if key == ("api assignment", "POST"):
        return {"technician": "staff"}
    if key == ("api form submit", "POST"):
        return {"answers": {}}
    assert row.method == "POST" and row.label == "contact delete", key
    return {}


def _request(client: Any, row: Row, url: str, data: dict[str, Any]) -> Any:
    if row.method == "GET":
        return client.get(url)
    if url.startswith("/api/"):
        return client.generic(row.method, url, json.dumps(data), content_type="application/json")
    return client.post(url, data)


def _writes() -> int:
    return AuditEntry.objects.exclude(action__in=["login", "logout"]).count()


@pytest.mark.parametrize(("row", "role", "side", "expected"), CASES)
def test_it_answers_each_role_as_the_matrix_says(client, world, sides, row, role, side, expected):
    mandate = f.MandateFactory(organisation=world.member_a)
    client.force_login(world.by_role()[role])
    target = sides[side]
    before = _writes()

    response = _request(client, row, _url(row, target, mandate.pk), _payload(row, target))

    assert response.status_code == expected, getattr(response, "content", b"")[:300]
    if expected == 302:
        assert "/comptes/connexion/" not in response["Location"]
    # A refusal writes nothing; an allowed write leaves its audit entry; a read writes nothing.
    if row.method != "GET" and expected < 400:
        assert _writes() > before
    else:
        assert _writes() == before


@pytest.mark.parametrize("row", ROWS, ids=lambda r: f"{r.method} {r.label}")
def test_it_sends_anonymous_visitors_to_login_and_answers_401_on_the_api(client, world, sides, row):
    mandate = f.MandateFactory(organisation=world.member_a)
    url = _url(row, sides["own"], mandate.pk)
    before = _writes()  # the contract of the fixture was created through the audited service

    response = _request(client, row, url, _payload(row, sides["own"]))

    if url.startswith("/api/"):
        assert response.status_code == 401
    else:
        assert response.status_code == 302
        assert response["Location"].startswith("/comptes/connexion/")
    assert _writes() == before


# Routes whose access is tested in the accounts app's own tests (sign-in, password reset, second
# factor, tokens).
ACCOUNT_FLOW_ROUTES = {
    "login",
    "logout",
    "password_reset",
    "password_reset_done",
    "password_reset_confirm",
    "password_reset_complete",
    "otp_verify",
    "otp_enrol",
    "token_create",
    "token_revoke",
}
TABLED_APPS = {"core", "accounts", "members", "catalog", "procurement"}
# Apps whose pages have no line yet: listed here so that the next new app cannot slip by unnoticed.
NOT_YET_TABLED_APPS = {
    "finance",
    "identity",
    "helpdesk",
    "questionnaires",
    "quality",
    "privacy",
    "knowledge",
    "notices",
    "ola",  # staff-only pages, their access tested in ola/tests/test_commitments.py
    "governance",  # its lines above still run; every route × role in governance/tests/test_pages.py
    "flows",  # member × own/foreign access tested in flows/tests/test_pages.py
    "flows-api",  # /api/v1/flux/, flow tokens only: their scope tested in flows/tests/test_api.py
    "publication",  # public pages, no login, one member's acts each: publication/tests/test_public.py
}


def test_it_has_a_line_for_every_route_of_the_tabled_apps_and_api(sides):
    """A new page or endpoint must get its line in the table above."""
    import re

    from django.urls import URLResolver, get_resolver, resolve

    from mutualis.api.api import api

    apps = {top.namespace for top in get_resolver().url_patterns if isinstance(top, URLResolver) and top.app_name}
    assert apps - {"api-v1"} <= TABLED_APPS | NOT_YET_TABLED_APPS
    pages = {resolve(_url(r, sides["own"], 1)).view_name for r in ROWS if not r.path.startswith("/api/")}
    routes = {
        f"{top.namespace}:{route.name}"
        for top in get_resolver().url_patterns
        if isinstance(top, URLResolver) and top.namespace in TABLED_APPS
        for route in top.url_patterns
        if not (top.namespace == "accounts" and route.name in ACCOUNT_FLOW_ROUTES)
    }
    assert routes - pages == set()

    def shape(path: str) -> str:
        return re.sub(r"\{[^}]+\}", "{}", path)

    endpoints = {(r.method, shape(r.path)) for r in ROWS if r.path.startswith("/api/")}
    documented = {
        (method.upper(), shape(path))
        for path, operations in api.get_openapi_schema()["paths"].items()
        for method in operations
    }
    assert documented - endpoints == set()


# --- what a member's account must not see inside pages it may open ---------------------------


def test_it_lists_only_the_members_own_organisation(client, world):
    client.force_login(world.manager_a)
    body = client.get(reverse("members:list")).content.decode()
    assert "Alpha" in body
    assert "Bravo" not in body


def test_it_hides_other_members_subscriptions_on_an_application_page(client, world, sides):
    shared = sides["own"].free_app
    f.SubscriptionFactory(collectivity=world.member_a, application=shared)
    f.SubscriptionFactory(collectivity=world.member_b, application=shared)
    client.force_login(world.agent_a)

    body = client.get(reverse("catalog:detail", args=[shared.slug])).content.decode()

    assert "Alpha" in body
    assert "Bravo" not in body


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_it_exports_only_the_members_own_column(client, world, sides, fmt):
    import csv
    import io

    from openpyxl import load_workbook

    client.force_login(world.elected_a)
    response = client.get(reverse("catalog:matrix_export", args=[fmt]))
    if fmt == "csv":
        header = next(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    else:
        header = [c.value for c in next(load_workbook(io.BytesIO(response.content)).active.iter_rows())]
    assert header == ["domaine", "application", "alpha", "total"]


def test_it_shows_the_member_only_its_column_in_the_matrix(client, world, sides):
    client.force_login(world.manager_a)
    body = client.get(reverse("catalog:matrix")).content.decode()
    assert "Alpha" in body
    assert "Bravo" not in body


def test_it_refuses_a_foreign_contact_reached_through_the_members_own_page(client, world, sides):
    client.force_login(world.manager_a)
    foreign = sides["foreign"].contact

    response = client.post(reverse("members:contact_delete", args=[world.member_a.slug, foreign.pk]))

    assert response.status_code == 404
    assert Contact.objects.filter(pk=foreign.pk).exists()


def test_it_lets_a_member_manager_change_only_the_members_fields(client, world):
    client.force_login(world.manager_a)
    data = {**_organisation_form(world.member_a), "name": "Renommée", "website": "https://alpha.example"}

    response = client.post(reverse("members:edit", args=[world.member_a.slug]), data)

    assert response.status_code == 302
    world.member_a.refresh_from_db()
    assert world.member_a.name == "Alpha"
    assert world.member_a.website == "https://alpha.example"
    assert world.member_a.agents_count == 42


def test_it_does_not_let_a_member_manager_edit_another_member(client, world):
    client.force_login(world.manager_b)
    data = {**_organisation_form(world.member_a), "website": "https://pirate.example"}

    assert client.get(reverse("members:edit", args=[world.member_a.slug])).status_code == 404
    assert client.post(reverse("members:edit", args=[world.member_a.slug]), data).status_code == 404
    assert client.get(reverse("members:detail", args=[world.member_a.slug])).status_code == 404
    world.member_a.refresh_from_db()
    assert world.member_a.website == ""


def test_it_filters_api_lists_to_the_members_rows(client, world, sides):
    client.force_login(world.agent_a)

    collectivities = client.get("/api/v1/collectivities/").json()
    foreign_subs = client.get("/api/v1/subscriptions/", {"collectivity": "bravo"}).json()
    all_subs = client.get("/api/v1/subscriptions/").json()

    assert [c["slug"] for c in collectivities["items"]] == ["alpha"]
    assert foreign_subs == {"items": [], "count": 0}
    assert {s["collectivity"] for s in all_subs["items"]} == {"alpha"}


# --- the scoping helpers themselves -------------------------------------------------------------


def test_it_scopes_nothing_for_an_anonymous_user(world):
    from django.contrib.auth.models import AnonymousUser

    assert not Organisation.objects.visible_to(AnonymousUser()).exists()


def test_it_scopes_nothing_for_a_member_account_without_organisation(world):
    orphan = f.UserFactory(username="orphan", organisation=None)
    assert not Organisation.objects.visible_to(orphan).exists()


def test_it_answers_404_for_another_members_object(world):
    from django.http import Http404

    with pytest.raises(Http404):
        Organisation.objects.get_visible(world.manager_a, slug="bravo")
    assert Organisation.objects.get_visible(world.staff, slug="bravo") == world.member_b


def test_it_leaves_subscriptions_unchanged_when_a_member_posts_to_an_operator_page(client, world, sides):
    client.force_login(world.manager_a)
    own = sides["own"].sub

    client.post(reverse("catalog:subscription_edit", args=[own.pk]), {"status": SubscriptionStatus.WITHDRAWN})

    own.refresh_from_db()
    assert own.status == SubscriptionStatus.PRODUCTION
