"""The tenancy matrix of the ticket pages: every role × route × Alpha's ticket (own) or Bravo's
(foreign) → the answer, as in core/tests/test_tenancy.py. A refusal writes nothing; an allowed
write leaves its audit entry."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import resolve

from mutualis.core.models import AuditEntry
from mutualis.helpdesk import services
from mutualis.helpdesk.enums import Action
from mutualis.helpdesk.models import AnswerTemplate, SavedView, Ticket
from mutualis.helpdesk.tests.ui_helpers import make_ticket
from mutualis.helpdesk.urls_tickets import urlpatterns

ROLES = ["operator_admin", "operator_staff", "member_manager", "member_agent", "elected"]

# {ref} an open ticket of the side (Alpha's requested by agent_a, Bravo's by manager_b),
# {closed} a closed one, {other} a second open ticket of the side (a merge target), {att} an
# attachment of {ref}, {tpl} an answer template, {view} a saved view of the acting account.
#   200 served · 302 done, redirected · 403 a write refused on what the account may read (elected)
#   404 a foreign ticket, or an operator page · "·" the column does not apply
#
#                                                                   ─────── own ───────   ───── foreign ─────
# label            verb  path                                       adm stf mgr agt elu   adm stf mgr agt elu
TABLE = """
index              GET   /assistance/                               200 200 200 200 200     ·   ·   ·   ·   ·
ticket             GET   /assistance/tickets/{ref}/                 200 200 200 200 200   200 200 404 404 404
followup           POST  /assistance/tickets/{ref}/suivi/           302 302 302 302 403   302 302 404 404 404
live               GET   /assistance/tickets/{ref}/direct/          200 200 200 200 200   200 200 404 404 404
satisfaction       POST  /assistance/tickets/{closed}/satisfaction/ 403 403 403 302 403   403 403 404 404 404
reopen             POST  /assistance/tickets/{closed}/statut/       302 302 302 302 403   302 302 404 404 404
attach             POST  /assistance/tickets/{ref}/pieces-jointes/  302 302 302 302 403   302 302 404 404 404
attachment         GET   /assistance/tickets/{ref}/pieces-jointes/{att}/ 200 200 200 200 200   200 200 404 404 404
linked request     GET   /assistance/tickets/{closed}/demande-liee/ 200 200 200 200 403   200 200 404 404 404
linked request     POST  /assistance/tickets/{closed}/demande-liee/ 302 302 302 302 403   302 302 404 404 404
assign             POST  /assistance/tickets/{ref}/attribuer/       302 302 404 404 404   302 302 404 404 404
task               POST  /assistance/tickets/{ref}/taches/          302 302 404 404 404   302 302 404 404 404
requalify          POST  /assistance/tickets/{ref}/requalifier/     302 302 404 404 404   302 302 404 404 404
merge              POST  /assistance/tickets/{ref}/fusionner/       302 302 404 404 404   302 302 404 404 404
bulk               POST  /assistance/lot/                           302 302 404 404 404   302 302 404 404 404
view save          POST  /assistance/vues/                          302 302 404 404 404     ·   ·   ·   ·   ·
view delete        POST  /assistance/vues/{view}/supprimer/         302 302 404 404 404     ·   ·   ·   ·   ·
templates          GET   /assistance/modeles/                       200 200 404 404 404     ·   ·   ·   ·   ·
template create    GET   /assistance/modeles/nouveau/               200 200 404 404 404     ·   ·   ·   ·   ·
template create    POST  /assistance/modeles/nouveau/               302 302 404 404 404     ·   ·   ·   ·   ·
template body      GET   /assistance/modeles/texte/?template={tpl}  200 200 404 404 404     ·   ·   ·   ·   ·
template edit      GET   /assistance/modeles/{tpl}/                 200 200 404 404 404     ·   ·   ·   ·   ·
template edit      POST  /assistance/modeles/{tpl}/                 302 302 404 404 404     ·   ·   ·   ·   ·
template delete    POST  /assistance/modeles/{tpl}/supprimer/       302 302 404 404 404     ·   ·   ·   ·   ·
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
        at = next(i for i, word in enumerate(words) if word in {"GET", "POST"})
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
    ticket: Ticket
    closed: Ticket
    other: Ticket
    att: int


def _closed(world: Any, side: str) -> Ticket:
    ticket = make_ticket(world, side=side, title="Clos")
    services.ticket_transition(actor=world.staff, ticket=ticket, action=Action.SOLVE, comment="fait")
    return services.ticket_transition(actor=world.staff, ticket=ticket, action=Action.CLOSE)


@pytest.fixture
def sides(world: Any) -> dict[str, Side]:
    result = {}
    for side in ("own", "foreign"):
        ticket = make_ticket(world, side=side, attachments=[SimpleUploadedFile("note.txt", b"bonjour")])
        result[side] = Side(
            ticket=ticket,
            closed=_closed(world, side),
            other=make_ticket(world, side=side, title="Conservé"),
            att=ticket.attachments.get().pk,
        )
    return result


def _url(row: Row, side: Side, user: Any, template: AnswerTemplate) -> str:
    view = SavedView.objects.create(owner=user, name="ma vue", query="view=all") if "{view}" in row.path else None
    return row.path.format(
        ref=side.ticket.reference,
        closed=side.closed.reference,
        att=side.att,
        tpl=template.pk,
        view=view.pk if view else 0,
    )


def _payload(row: Row, side: Side, world: Any) -> dict[str, Any]:
    if row.method == "GET":
        return {}
    return {
        "followup": {"body": "Un message", "attachments": [SimpleUploadedFile("a.txt", b"x")]},
        "reopen": {"action": "reopen"},
        "satisfaction": {"rating": 4, "comment": "Rapide"},
        "attach": {"attachments": [SimpleUploadedFile("b.txt", b"y")]},
        "linked request": {"title": "Ça recommence", "description": "Encore"},
        "assign": {"technician": world.staff.pk},
        "task": {"description": "Appel", "minutes": 10},
        "requalify": {"title": "Requalifié", "ticket_type": "request", "urgency": 4, "impact": 4},
        "merge": {"into": side.other.reference},
        "bulk": {"tickets": [side.ticket.reference], "operation": "assign", "technician": world.staff.pk},
        "view save": {"name": "Urgents", "query": "priority=5"},
        "template create": {"name": "Nouveau", "body": "Texte"},
        "template edit": {"name": "Accusé", "body": "Texte modifié"},
    }.get(row.label, {})


def _writes() -> int:
    return AuditEntry.objects.exclude(action__in=["login", "logout"]).count()


@pytest.mark.parametrize(("row", "role", "side", "expected"), CASES)
def test_it_answers_each_role_as_the_matrix_says(client, world, sides, row, role, side, expected):
    user = world.by_role()[role]
    template = AnswerTemplate.objects.create(name="Accusé", body="Bien reçu")
    client.force_login(user)
    target = sides[side]
    url = _url(row, target, user, template)
    before = _writes()

    response = client.get(url) if row.method == "GET" else client.post(url, _payload(row, target, world))

    assert response.status_code == expected, getattr(response, "content", b"")[:300]
    if expected == 302:
        assert "/comptes/connexion/" not in response["Location"]
        messages = [str(m) for m in response.wsgi_request._messages]
        assert not any(m.level >= 40 for m in response.wsgi_request._messages), messages
    if row.method != "GET" and expected < 400:
        assert _writes() > before
    else:
        assert _writes() == before


@pytest.mark.parametrize("row", ROWS, ids=lambda r: f"{r.method} {r.label}")
def test_it_sends_anonymous_visitors_to_login(client, world, sides, row):
    template = AnswerTemplate.objects.create(name="Accusé", body="Bien reçu")
    url = _url(row, sides["own"], world.staff, template)
    before = _writes()

    response = client.get(url) if row.method == "GET" else client.post(url, _payload(row, sides["own"], world))

    assert response.status_code == 302
    assert response["Location"].startswith("/comptes/connexion/")
    assert _writes() == before


def test_it_has_a_line_for_every_ticket_route(world, sides):
    template = AnswerTemplate.objects.create(name="Accusé", body="Bien reçu")
    tabled = {resolve(_url(r, sides["own"], world.staff, template).split("?")[0]).url_name for r in ROWS}
    assert {p.name for p in urlpatterns} - tabled == set()


def test_it_hides_another_members_tickets_from_a_member_managers_list(client, world, sides):
    client.force_login(world.manager_a)
    body = client.get("/assistance/").content.decode()
    assert sides["own"].ticket.reference in body
    assert sides["foreign"].ticket.reference not in body


def test_it_refuses_a_bulk_action_on_a_ticket_the_account_cannot_see(client, world, sides):
    client.force_login(world.manager_b)
    response = client.post("/assistance/lot/", {"tickets": [sides["own"].ticket.reference], "operation": "assign",
                                                "technician": world.staff.pk})  # fmt: skip
    assert response.status_code == 404
    sides["own"].ticket.refresh_from_db()
    assert sides["own"].ticket.technician is None
