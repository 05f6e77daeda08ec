"""A home per role (issue 14 point 3): the panels the helpdesk and quality register in the home
page's core.home.role slot, each for its role only, scoped to the account's collectivity, in a
constant number of queries."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from mutualis.helpdesk import services
from mutualis.helpdesk.enums import Action
from mutualis.helpdesk.models import Ticket
from mutualis.helpdesk.tests.ui_helpers import make_ticket
from mutualis.quality.models import MonthlyReport

HOME = "/"
HEADINGS = {
    "member": ["Demandes ouvertes de ma collectivité", "En attente de votre réponse", "Niveau de service en"],
    "agent": ["Mes demandes ouvertes", "En attente de votre réponse"],
    "technician": ["Ma file", "Bientôt en dépassement"],
    "admin": ["Indicateurs de"],
    "elected": ["Rapport de service mensuel"],
}
WHO = {"manager_a": "member", "agent_a": "agent", "staff": "technician", "admin": "admin", "elected_a": "elected"}


def _report(collectivity, month, **figures):
    return MonthlyReport.objects.create(
        collectivity=collectivity, month=month, html="<p>r</p>", pdf=f"quality/reports/{month}.pdf", sha256="0" * 64,
        figures={"month": month, "opened": 12, "solved": 10, "sla_tto_pct": 95.0, "sla_ttr_pct": 87.5, **figures},
    )  # fmt: skip


ALL = sorted({h for headings in HEADINGS.values() for h in headings})


def _headings(body):
    return [h for h in ALL if f">{h}" in body]


@pytest.mark.parametrize("who", list(WHO))
def test_it_shows_each_role_its_panels_and_not_the_others(client, world, who):
    make_ticket(world)
    _report(world.member_a, "2026-10")
    client.force_login(getattr(world, who))

    body = client.get(HOME).content.decode()

    assert _headings(body) == sorted(HEADINGS[WHO[who]])
    assert 'class="cards home-cards"' in body and 'class="card"' in body  # members' and catalog's cards


def test_it_shows_a_member_manager_its_collectivitys_requests_only(client, world):
    own = make_ticket(world, title="Imprimante de la mairie")
    waiting = make_ticket(world, title="Question au demandeur")
    services.ticket_transition(actor=world.staff, ticket=waiting, action=Action.WAIT, pending_reason="requester")
    make_ticket(world, side="foreign", title="Chez Bravo")
    client.force_login(world.manager_a)

    response = client.get(HOME)
    body = response.content.decode()

    assert own.reference in body and waiting.reference in body
    assert "Chez Bravo" not in body
    assert body.count("En attente de votre réponse") == 3  # the heading and the row in both lists
    assert "2 <small>demandes en cours</small>" in body
    assert "1 <small>demande attend une réponse</small>" in body


def test_it_shows_a_technician_its_tickets_and_those_about_to_breach(client, world):
    mine = make_ticket(world, title="À moi")
    services.ticket_assign(actor=world.staff, ticket=mine, group=None, technician=world.staff)
    soon = make_ticket(world, side="foreign", title="Bientôt dû")
    Ticket.objects.filter(pk=soon.pk).update(ttr_due_at=timezone.now() + dt.timedelta(hours=1), ttr_breached=False)
    make_ticket(world, title="À personne")
    client.force_login(world.staff)

    body = client.get(HOME).content.decode()
    mine_panel, risk_panel = body.split('id="home-mine-title"')[1].split('id="home-risk-title"')

    assert "À moi" in mine_panel and "À personne" not in mine_panel
    assert "Bientôt dû" in risk_panel and '<span class="badge sla-at_risk">menacé</span>' in risk_panel


def test_it_shows_an_elected_official_the_latest_report_of_its_collectivity(client, world):
    _report(world.member_a, "2026-09")
    _report(world.member_a, "2026-10", sla_ttr_pct=91.25)
    _report(world.member_b, "2026-11")
    client.force_login(world.elected_a)

    body = client.get(HOME).content.decode()

    assert "Le dernier rapport porte sur octobre 2026." in body
    assert "/qualite/adherents/alpha/rapports/2026-10/v1.html" in body
    assert "91,2 %" in body or "91,3 %" in body
    assert "bravo" not in body.lower().split("<main")[1]


def test_it_says_when_no_report_was_produced_yet(client, world):
    client.force_login(world.elected_a)
    assert "Aucun rapport mensuel" in client.get(HOME).content.decode()


def _queries(client):
    client.get(HOME)
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(HOME).status_code == 200
    return len(ctx)


def _grow(world, n):
    for i in range(n):
        ticket = make_ticket(world, side="own" if i % 2 else "foreign", title=f"T{i}")
        if i % 3 == 0:
            services.ticket_assign(actor=world.staff, ticket=ticket, group=None, technician=world.staff)
        if i % 4 == 0:
            services.ticket_transition(actor=world.staff, ticket=ticket, action=Action.WAIT, pending_reason="requester")


@pytest.mark.parametrize("who", list(WHO))
def test_it_answers_each_home_in_a_constant_number_of_queries(client, world, who):
    client.force_login(getattr(world, who))
    _grow(world, 3)
    _report(world.member_a, "2026-09")
    small = _queries(client)
    _grow(world, 15)
    _report(world.member_a, "2026-10")
    assert _queries(client) == small
