"""« Mes demandes » (issue 14 point 2, for members): counts per status equal to the rows each
status lists and scoped like the list, the requests waiting for the member, status and time left
in words."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from mutualis.helpdesk import services
from mutualis.helpdesk.enums import Action, Status
from mutualis.helpdesk.models import Ticket
from mutualis.helpdesk.tests.ui_helpers import make_ticket

INDEX = "/assistance/"
NOW = dt.datetime(2026, 12, 8, 9, 0, tzinfo=ZoneInfo("Europe/Paris"))  # a Tuesday morning


@pytest.fixture
def frozen(monkeypatch):
    monkeypatch.setattr(timezone, "now", lambda: NOW)


def _tickets(world):
    make_ticket(world, title="Nouvelle")
    asked = make_ticket(world, title="Question posée")
    services.ticket_transition(actor=world.staff, ticket=asked, action=Action.WAIT, pending_reason="requester")
    vendor = make_ticket(world, title="Chez l'éditeur")
    services.ticket_transition(actor=world.staff, ticket=vendor, action=Action.WAIT, pending_reason="vendor")
    done = make_ticket(world, title="Réglée")
    services.ticket_transition(actor=world.staff, ticket=done, action=Action.SOLVE, comment="fait")
    make_ticket(world, side="foreign", title="Chez Bravo")
    make_ticket(world, side="foreign", title="Chez Bravo aussi")


def test_it_counts_each_status_as_many_as_it_lists_for_the_collectivity_only(client, world, frozen):
    _tickets(world)
    client.force_login(world.manager_a)

    context = client.get(INDEX).context
    counts = context["counts"]

    assert counts["total"] == context["page"].paginator.count == 4  # Bravo's two are not counted
    for entry in counts["statuses"]:
        assert entry["count"] == client.get(INDEX, {"status": entry["key"]}).context["page"].paginator.count
    assert {e["key"]: e["count"] for e in counts["statuses"]}[Status.PENDING] == 2
    assert counts["waiting"] == 1


def test_it_says_what_waits_for_the_member_and_the_time_left(client, world, frozen):
    _tickets(world)
    soon = Ticket.objects.get(title="Nouvelle")
    Ticket.objects.filter(pk=soon.pk).update(ttr_due_at=NOW + dt.timedelta(hours=3), ttr_budget_s=8 * 3600)
    client.force_login(world.manager_a)

    body = client.get(INDEX).content.decode()

    assert "1 demande attend votre réponse" in body
    assert "en attente de votre réponse" in body and "en attente de l&#x27;éditeur" in body
    assert "résolu, à confirmer" in body
    assert '<span class="badge sla-at_risk">menacé</span> <span class="left">reste 3 h</span>' in body
    assert "Chez Bravo" not in body


def test_it_counts_an_agents_own_requests_only(client, world, frozen):
    _tickets(world)
    client.force_login(world.agent_a)
    assert client.get(INDEX).context["counts"]["total"] == 4  # agent_a requested Alpha's four
    client.force_login(world.manager_b)
    assert client.get(INDEX).context["counts"]["total"] == 2


def test_it_counts_in_one_query_whatever_the_number_of_requests(client, world, frozen):
    def queries():
        client.get(INDEX)
        with CaptureQueriesContext(connection) as ctx:
            client.get(INDEX)
        return len(ctx)

    client.force_login(world.manager_a)
    _tickets(world)
    small = queries()
    for _ in range(3):
        _tickets(world)
    assert queries() == small
