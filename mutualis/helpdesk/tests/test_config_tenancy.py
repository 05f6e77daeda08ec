"""The tenancy matrix of the configuration pages: operator staff only (refused mail: operator
admins only). Members, elected officials included, are told nothing exists (404); a refusal
writes nothing, an allowed write is audited."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest
from django.urls import resolve

from mutualis.core.models import AuditEntry
from mutualis.helpdesk import config_services as cs
from mutualis.helpdesk.models import Category, SlaPolicy
from mutualis.helpdesk.sla import default_calendar
from mutualis.helpdesk.urls_config import urlpatterns

ROLES = ["operator_admin", "operator_staff", "member_manager", "member_agent", "elected"]

# {cal} the default calendar, {interval} one of its opening intervals, {closure} one of its
# closures, {policy} the default policy, {cat} a category.
#   200 served · 302 done, redirected · 404 an operator page
#
# label            verb  path                                                           adm stf mgr agt elu
TABLE = """
index              GET   /assistance/configuration/                                     200 200 404 404 404
calendars          GET   /assistance/configuration/calendriers/                         200 200 404 404 404
calendar create    GET   /assistance/configuration/calendriers/nouveau/                 200 200 404 404 404
calendar create    POST  /assistance/configuration/calendriers/nouveau/                 302 302 404 404 404
calendar           GET   /assistance/configuration/calendriers/{cal}/                   200 200 404 404 404
calendar edit      GET   /assistance/configuration/calendriers/{cal}/modifier/          200 200 404 404 404
calendar edit      POST  /assistance/configuration/calendriers/{cal}/modifier/          302 302 404 404 404
interval add      POST  /assistance/configuration/calendriers/{cal}/plages/              302 302 404 404 404
interval remove   POST  /assistance/configuration/calendriers/{cal}/plages/{interval}/supprimer/ 302 302 404 404 404
closure add       POST  /assistance/configuration/calendriers/{cal}/fermetures/          302 302 404 404 404
closure remove    POST  /assistance/configuration/calendriers/{cal}/fermetures/{closure}/supprimer/ 302 302 404 404 404
policies           GET   /assistance/configuration/politiques/                          200 200 404 404 404
policy create      GET   /assistance/configuration/politiques/nouvelle/                 200 200 404 404 404
policy create      POST  /assistance/configuration/politiques/nouvelle/                 302 302 404 404 404
policy preview     GET   /assistance/configuration/politiques/apercu/?calendar={cal}&ttr_value=2  200 200 404 404 404
policy edit        GET   /assistance/configuration/politiques/{policy}/                 200 200 404 404 404
policy edit        POST  /assistance/configuration/politiques/{policy}/                 302 302 404 404 404
policy active      POST  /assistance/configuration/politiques/{policy}/activation/      302 302 404 404 404
categories         GET   /assistance/configuration/categories/                          200 200 404 404 404
category create    GET   /assistance/configuration/categories/nouvelle/                 200 200 404 404 404
category create    POST  /assistance/configuration/categories/nouvelle/                 302 302 404 404 404
category edit      GET   /assistance/configuration/categories/{cat}/                    200 200 404 404 404
category edit      POST  /assistance/configuration/categories/{cat}/                    302 302 404 404 404
matrix             GET   /assistance/configuration/matrice/                             200 200 404 404 404
matrix             POST  /assistance/configuration/matrice/                             302 302 404 404 404
matrix restore     POST  /assistance/configuration/matrice/glpi/                        302 302 404 404 404
inbound refused    GET   /assistance/configuration/courriels-refuses/                   200 404 404 404 404
"""


@dataclass(frozen=True)
class Row:
    label: str
    method: str
    path: str
    expected: dict[str, int]


def _parse(table: str) -> list[Row]:
    rows = []
    for line in table.strip().splitlines():
        words = line.split()
        at = next(i for i, word in enumerate(words) if word in {"GET", "POST"})
        cells = words[at + 2 :]
        assert len(cells) == 5, line
        rows.append(Row(" ".join(words[:at]), words[at], words[at + 1], dict(zip(ROLES, map(int, cells), strict=True))))
    return rows


ROWS = _parse(TABLE)
CASES = [
    pytest.param(row, role, expected, id=f"{row.method} {row.label} {role}")
    for row in ROWS
    for role, expected in row.expected.items()
]


@pytest.fixture
def objects(world: Any) -> dict[str, Any]:
    calendar = default_calendar()
    closure = cs.closure_add(
        actor=None, calendar=calendar, label="Pont", start=dt.date(2030, 5, 10), end=dt.date(2030, 5, 10)
    )
    cells = dict(cs.priority_matrix())
    cells[(1, 1)] = 2
    cs.priority_matrix_update(actor=None, cells=cells)
    return {
        "cal": calendar.pk,
        "interval": calendar.intervals.first().pk,
        "closure": closure.pk,
        "policy": SlaPolicy.objects.get(blocking_only=True).pk,
        "cat": cs.category_create(actor=None, data={"name": "Messagerie"}).pk,
    }


def _payload(row: Row, objects: dict[str, Any]) -> dict[str, Any]:
    policy = {
        "name": "Demandes",
        "ticket_type": "request",
        "priority": "3",
        "calendar": objects["cal"],
        "tto_value": "4",
        "tto_unit": "hours",
        "ttr_value": "5",
        "ttr_unit": "days",
        "escalation_percents": "50,100",
    }
    matrix = {f"cell_{u}_{i}": str(p) for (u, i), p in cs.priority_matrix().items()}
    matrix["cell_5_5"] = "4"
    return {
        "calendar create": {"name": "Astreinte", "timezone": "Europe/Paris", "use_french_holidays": "on"},
        "calendar edit": {
            "name": "Horaires",
            "timezone": "Europe/Paris",
            "use_french_holidays": "on",
            "is_default": "on",
        },
        "interval add": {"interval-weekday": "5", "interval-start": "09:00", "interval-end": "12:00"},
        "closure add": {"closure-label": "Séminaire", "closure-start": "2030-06-03", "closure-end": "2030-06-04"},
        "policy create": policy,
        "policy edit": {**policy, "name": "Bloquants"},
        "policy active": {"active": "0"},
        "category create": {"name": "Finances", "position": "1"},
        "category edit": {"name": "Courrier", "slug": "courrier", "position": "2"},
        "matrix": matrix,
    }.get(row.label, {})


def _writes() -> int:
    return AuditEntry.objects.exclude(action__in=["login", "logout"]).count()


@pytest.mark.parametrize(("row", "role", "expected"), CASES)
def test_it_answers_each_role_as_the_matrix_says(client, world, objects, row, role, expected):
    client.force_login(world.by_role()[role])
    url = row.path.format(**objects)
    before = _writes()

    response = client.get(url) if row.method == "GET" else client.post(url, _payload(row, objects))

    assert response.status_code == expected, getattr(response, "content", b"")[:500]
    if expected == 302:
        assert not any(m.level >= 40 for m in response.wsgi_request._messages)
    if row.method == "POST" and expected < 400:
        assert _writes() > before
    else:
        assert _writes() == before


@pytest.mark.parametrize("row", ROWS, ids=lambda r: f"{r.method} {r.label}")
def test_it_sends_anonymous_visitors_to_login(client, world, objects, row):
    url = row.path.format(**objects)
    before = _writes()
    response = client.get(url) if row.method == "GET" else client.post(url, _payload(row, objects))
    assert response.status_code == 302
    assert response["Location"].startswith("/comptes/connexion/")
    assert _writes() == before


def test_it_has_a_line_for_every_configuration_route(world, objects):
    tabled = {resolve(row.path.format(**objects).split("?")[0]).url_name for row in ROWS}
    assert {p.name for p in urlpatterns} - tabled == set()


def test_it_answers_404_for_an_interval_of_another_calendar(client, world, objects):
    other = cs.calendar_create(actor=None, name="Autre")
    client.force_login(world.staff)
    response = client.post(f"/assistance/configuration/calendriers/{other.pk}/plages/{objects['interval']}/supprimer/")
    assert response.status_code == 404
    assert Category.objects.count() == 1
