"""The identity pages' tenancy table: every role × every route × Alpha's object (own) or Bravo's
(foreign) → the answer; then a check that no identity route is missing from it."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.urls import URLResolver, get_resolver, resolve

from mutualis.core.models import AuditEntry
from mutualis.identity.models import Agent, AttributeRelease
from mutualis.testing import factories as f

ROLES = ["operator_admin", "operator_staff", "member_manager", "member_agent", "elected"]
#                                                                  ─────── own ───────   ───── foreign ─────
# label          verb path                                        adm stf mgr agt elu   adm stf mgr agt elu
TABLE = """
portal           GET  /portail/                                   200 200 200 200 200     ·   ·   ·   ·   ·
agents           GET  /annuaire/                                  200 200 200 404 404     ·   ·   ·   ·   ·
agent detail     GET  /annuaire/agents/{agent}/                   200 200 200 404 404   200 200 404 404 404
accounts audit   GET  /annuaire/comptes/                          200 200 200 404 404     ·   ·   ·   ·   ·
releases         GET  /annuaire/attributs/                        200 200 200 200 200     ·   ·   ·   ·   ·
release add      POST /annuaire/attributs/                        302 302 404 404 404     ·   ·   ·   ·   ·
release delete   POST /annuaire/attributs/{release}/supprimer/    302 302 404 404 404     ·   ·   ·   ·   ·
release export   GET  /annuaire/attributs/lemonldap.json          200 200 404 404 404     ·   ·   ·   ·   ·
ldif             GET  /annuaire/annuaire.ldif                     200 200 200 404 404     ·   ·   ·   ·   ·
"""
# Public steps of signing in, tested in test_sso.py.
FLOW_ROUTES = {"oidc_login", "oidc_callback", "sso_refused"}


@dataclass(frozen=True)
class Row:
    label: str
    method: str
    path: str
    own: dict[str, int]
    foreign: dict[str, int] | None


def _parse() -> list[Row]:
    rows = []
    for line in TABLE.strip().splitlines():
        words = line.split()
        at = next(i for i, w in enumerate(words) if w in {"GET", "POST"})
        cells = words[at + 2 :]
        assert len(cells) == 10, line
        own = dict(zip(ROLES, map(int, cells[:5]), strict=True))
        foreign = None if cells[5] == "·" else dict(zip(ROLES, map(int, cells[5:]), strict=True))
        rows.append(Row(" ".join(words[:at]), words[at], words[at + 1], own, foreign))
    return rows


ROWS = _parse()
CASES = [
    pytest.param(row, role, side, expected, id=f"{row.method} {row.label} {side} {role}")
    for row in ROWS
    for side, column in (("own", row.own), ("foreign", row.foreign))
    if column is not None
    for role, expected in column.items()
]


@pytest.fixture
def objects(world):
    app = f.ApplicationFactory(slug="parapheur", name="Parapheur")
    release = AttributeRelease.objects.create(application=app, attribute="email", purpose="notifications")
    agents = {
        side: Agent.objects.create(collectivity=org, hr_id="1", last_name=f"Agent {side}", first_name="Test")
        for side, org in (("own", world.member_a), ("foreign", world.member_b))
    }
    return {"app": app, "release": release, "agents": agents}


def _url(row, objects, side):
    return row.path.format(agent=objects["agents"][side].pk, release=objects["release"].pk)


def _payload(row, objects):
    if row.label == "release add":
        return {"application": objects["app"].pk, "attribute": "family_name", "purpose": "afficher l'auteur"}
    return {}


def _writes():
    return AuditEntry.objects.exclude(action__in=["login", "logout"]).count()


@pytest.mark.parametrize(("row", "role", "side", "expected"), CASES)
def test_it_answers_each_role_as_the_table_says(client, world, objects, row, role, side, expected):
    client.force_login(world.by_role()[role])
    before = _writes()
    url = _url(row, objects, side)

    response = client.get(url) if row.method == "GET" else client.post(url, _payload(row, objects))

    assert response.status_code == expected, response.content[:300]
    if row.method == "POST" and expected < 400:
        assert _writes() > before
    else:
        assert _writes() == before


@pytest.mark.parametrize("row", ROWS, ids=lambda r: f"{r.method} {r.label}")
def test_it_sends_anonymous_visitors_to_login(client, world, objects, row):
    url = _url(row, objects, "own")
    response = client.get(url) if row.method == "GET" else client.post(url, _payload(row, objects))
    assert response.status_code == 302
    assert response["Location"].startswith("/comptes/connexion/")


def test_it_has_a_line_for_every_identity_route(objects):
    tabled = {resolve(_url(r, objects, "own")).url_name for r in ROWS}
    routes = {
        route.name
        for top in get_resolver().url_patterns
        if isinstance(top, URLResolver) and top.namespace == "identity"
        for route in top.url_patterns
    }
    assert routes - FLOW_ROUTES - tabled == set()


def test_it_lists_only_the_managers_own_agents_and_ldif(client, world, objects):
    client.force_login(world.manager_a)
    page = client.get("/annuaire/").content.decode()
    assert "AGENT OWN" in page and "AGENT FOREIGN" not in page
    ldif = client.get("/annuaire/annuaire.ldif").content.decode()
    assert "Agent own" in ldif and "Agent foreign" not in ldif
