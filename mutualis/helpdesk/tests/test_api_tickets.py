"""API v1 tickets: tenancy as on the pages, private followups hidden, the transition table's
refusals as 422, creation's validations, and the OpenAPI description."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from mutualis.accounts.models import Role
from mutualis.accounts.services import api_token_create
from mutualis.core.models import AuditEntry
from mutualis.helpdesk import config_services as cs
from mutualis.helpdesk import services, sla
from mutualis.helpdesk.enums import Status
from mutualis.helpdesk.models import Followup, Ticket
from mutualis.testing import factories as f


def _post(client: Any, url: str, data: dict[str, Any], **extra: Any) -> Any:
    return client.post(url, json.dumps(data), content_type="application/json", **extra)


@pytest.fixture
def tickets(world):
    agent_b = f.UserFactory(username="agent-b", role=Role.MEMBER_AGENT, organisation=world.member_b)
    alpha = services.ticket_create(
        actor=world.agent_a,
        collectivity=world.member_a,
        requester=None,
        ticket_type="incident",
        title="Alpha en panne",
        description="rien ne marche",
    )
    bravo = services.ticket_create(
        actor=agent_b,
        collectivity=world.member_b,
        requester=None,
        ticket_type="request",
        title="Bravo demande",
        description="un compte",
    )
    services.followup_add(actor=world.staff, ticket=alpha, body="note interne", is_private=True)
    services.followup_add(actor=world.staff, ticket=alpha, body="nous regardons")
    return {"alpha": alpha, "bravo": bravo, "agent_b": agent_b}


def test_it_answers_404_to_a_member_on_another_members_ticket(client, world, tickets):
    client.force_login(tickets["agent_b"])
    ref = tickets["alpha"].reference
    before = Followup.objects.count()

    assert client.get(f"/api/v1/tickets/{ref}").status_code == 404
    assert client.get(f"/api/v1/tickets/{ref}/followups").status_code == 404
    assert _post(client, f"/api/v1/tickets/{ref}/followups", {"body": "coucou"}).status_code == 404
    assert _post(client, f"/api/v1/tickets/{ref}/transitions", {"action": "accept"}).status_code == 404
    assert Followup.objects.count() == before


def test_it_lists_only_the_tickets_the_account_may_see(client, world, tickets):
    client.force_login(world.manager_a)
    mine = client.get("/api/v1/tickets/").json()
    foreign = client.get("/api/v1/tickets/", {"collectivity": "bravo"}).json()
    client.force_login(world.staff)
    everything = client.get("/api/v1/tickets/").json()
    requests = client.get("/api/v1/tickets/", {"type": "request", "view": "unassigned"}).json()

    assert [t["reference"] for t in mine["items"]] == [tickets["alpha"].reference]
    assert mine["items"][0]["collectivity"] == "alpha"
    assert foreign == {"items": [], "count": 0}
    assert everything["count"] == 2
    assert [t["title"] for t in requests["items"]] == ["Bravo demande"]


def test_it_refuses_an_unknown_view_with_422(client, world, tickets):
    client.force_login(world.staff)
    response = client.get("/api/v1/tickets/", {"view": "everything"})
    assert response.status_code == 422
    assert "vue inconnue" in response.json()["errors"]["view"][0]


def test_it_hides_private_followups_from_members(client, world, tickets):
    ref = tickets["alpha"].reference
    client.force_login(world.agent_a)
    member_view = client.get(f"/api/v1/tickets/{ref}/followups").json()
    client.force_login(world.staff)
    staff_view = client.get(f"/api/v1/tickets/{ref}/followups").json()

    assert [f["body"] for f in member_view] == ["nous regardons"]
    assert [f["body"] for f in staff_view] == ["note interne", "nous regardons"]


def test_it_refuses_a_private_followup_from_a_member_with_403(client, world, tickets):
    client.force_login(world.agent_a)
    ref = tickets["alpha"].reference

    response = _post(client, f"/api/v1/tickets/{ref}/followups", {"body": "secret", "is_private": True})
    public = _post(client, f"/api/v1/tickets/{ref}/followups", {"body": "merci"})

    assert response.status_code == 403
    assert public.status_code == 201
    assert public.json()["author"] == "agent-a"
    assert not Followup.objects.filter(body="secret").exists()


def test_it_answers_422_with_the_reason_to_a_transition_the_table_refuses(client, world, tickets):
    client.force_login(world.agent_a)
    ref = tickets["alpha"].reference

    response = _post(client, f"/api/v1/tickets/{ref}/transitions", {"action": "accept"})

    assert response.status_code == 422
    assert "transition refusée" in response.json()["detail"]
    assert "accepter la solution" in response.json()["detail"]
    assert Ticket.objects.get(reference=ref).status == Status.NEW


def test_it_runs_the_lifecycle_through_the_api(client, world, tickets):
    ref = tickets["alpha"].reference
    client.force_login(world.staff)
    assigned = _post(client, f"/api/v1/tickets/{ref}/assignment", {"technician": "staff"})
    waiting = _post(client, f"/api/v1/tickets/{ref}/transitions", {"action": "wait"})
    waited = _post(client, f"/api/v1/tickets/{ref}/transitions", {"action": "wait", "pending_reason": "vendor"})
    solved = _post(client, f"/api/v1/tickets/{ref}/transitions", {"action": "solve", "comment": "redémarré"})
    client.force_login(world.agent_a)
    detail = client.get(f"/api/v1/tickets/{ref}").json()
    closed = _post(client, f"/api/v1/tickets/{ref}/transitions", {"action": "accept"})

    assert assigned.status_code == 200
    assert assigned.json()["technician"] == "staff"
    assert assigned.json()["group"] == "relations-adherents"
    assert assigned.json()["status"] == "assigned"
    assert waiting.status_code == 422
    assert "pending_reason" in waiting.json()["errors"]
    assert waited.json()["pending_reason"] == "vendor"
    assert solved.json()["status"] == "solved"
    assert detail["actions"] == ["accept", "refuse"]
    assert closed.json()["status"] == "closed"


def test_it_refuses_assignment_to_members_with_403(client, world, tickets):
    client.force_login(world.manager_a)
    response = _post(client, f"/api/v1/tickets/{tickets['alpha'].reference}/assignment", {"technician": "staff"})
    assert response.status_code == 403
    assert Ticket.objects.get(pk=tickets["alpha"].pk).technician is None


def test_it_creates_a_ticket_for_the_members_own_collectivity(client, world, tickets):
    app = f.ApplicationFactory(slug="paie", name="Paie")
    f.SubscriptionFactory(collectivity=world.member_a, application=app)
    client.force_login(world.agent_a)

    response = _post(
        client,
        "/api/v1/tickets/",
        {
            "ticket_type": "incident",
            "title": "Paie bloquée",
            "description": "<script>x</script>",
            "application": "paie",
            "urgency": 5,
            "impact": 4,
            "blocking": True,
        },
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["collectivity"] == "alpha"
    assert body["requester"] == "agent-a"
    assert body["application"] == app.slug
    assert body["priority"] == 5
    assert body["source"] == "api"
    assert body["ttr_due_at"] is not None  # the default policy: blocking incidents in 2 days
    assert body["description"] == "<script>x</script>"  # stored as typed, escaped on display


def test_it_answers_404_when_a_member_files_for_another_collectivity(client, world, tickets):
    client.force_login(world.agent_a)
    before = Ticket.objects.count()
    response = _post(
        client,
        "/api/v1/tickets/",
        {"ticket_type": "request", "title": "x", "description": "y", "collectivity": "bravo"},
    )
    assert response.status_code == 404
    assert Ticket.objects.count() == before


def test_it_lets_staff_file_for_any_collectivity_with_a_requester(client, world, tickets):
    client.force_login(world.staff)
    ok = _post(
        client,
        "/api/v1/tickets/",
        {
            "ticket_type": "request",
            "title": "Compte",
            "description": "y",
            "collectivity": "bravo",
            "requester": "agent-b",
            "group": "relations-adherents",
        },
    )
    wrong = _post(
        client,
        "/api/v1/tickets/",
        {
            "ticket_type": "request",
            "title": "Compte",
            "description": "y",
            "collectivity": "bravo",
            "requester": "agent-a",
        },
    )
    missing = _post(client, "/api/v1/tickets/", {"ticket_type": "request", "title": "Compte", "description": "y"})

    assert ok.status_code == 201
    assert (ok.json()["collectivity"], ok.json()["requester"], ok.json()["group"]) == (
        "bravo",
        "agent-b",
        "relations-adherents",
    )
    assert wrong.status_code == 422
    assert "requester" in wrong.json()["errors"]
    assert missing.status_code == 422
    assert "collectivity" in missing.json()["errors"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"description": "x" * (1024 * 1024 + 1)}, "description"),
        ({"title": "   "}, "title"),
        ({"ticket_type": "bug"}, "ticket_type"),
        ({"urgency": 9}, "urgency"),
        ({"application": "inconnue"}, "application"),
        ({"category": "inconnue"}, "category"),
    ],
)
def test_it_refuses_bad_input_on_creation_with_422_naming_the_field(client, world, tickets, change, field):
    client.force_login(world.agent_a)
    before = (Ticket.objects.count(), AuditEntry.objects.count())
    payload = {"ticket_type": "request", "title": "Titre", "description": "texte", **change}

    response = _post(client, "/api/v1/tickets/", payload)

    assert response.status_code == 422, response.content[:300]
    assert field in response.json()["errors"]
    assert (Ticket.objects.count(), AuditEntry.objects.count()) == before


def test_it_refuses_creation_by_an_elected_official_with_403(client, world, tickets):
    client.force_login(world.elected_a)
    response = _post(client, "/api/v1/tickets/", {"ticket_type": "request", "title": "x", "description": "y"})
    assert response.status_code == 403


def test_it_creates_with_a_token_in_a_bounded_number_of_queries(client, world, tickets):
    _token, secret = api_token_create(actor=world.agent_a, name="bench")
    headers = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
    payload = {"ticket_type": "request", "title": "Rapide", "description": "y"}
    _post(client, "/api/v1/tickets/", payload, **headers)  # warms the caches, records the token's use

    with CaptureQueriesContext(connection) as queries:
        response = _post(client, "/api/v1/tickets/", payload, **headers)

    assert response.status_code == 201
    # The token, the reference (one UPDATE … RETURNING), the ticket, the audit entry, the
    # notification's outbox row (what makes its mail leave once), and the savepoint pair standing
    # for the transaction; the matrix, the policies and the calendar come from the caches, the
    # token's use was recorded less than a minute ago. (The task row is written after the commit.)
    assert len(queries) <= 7, "\n".join(q["sql"][:160] for q in queries.captured_queries)


def test_it_creates_with_an_application_in_one_query_more(client, world, tickets):
    application = f.ApplicationFactory(slug="voirie", support_group=world.staff.service)
    f.SubscriptionFactory(collectivity=world.member_a, application=application)
    _token, secret = api_token_create(actor=world.agent_a, name="bench")
    headers = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
    payload = {"ticket_type": "request", "title": "Rapide", "description": "y", "application": "voirie"}
    _post(client, "/api/v1/tickets/", payload, **headers)  # warms the caches, records the token's use

    with CaptureQueriesContext(connection) as queries:
        response = _post(client, "/api/v1/tickets/", payload, **headers)

    assert response.status_code == 201
    assert (response.json()["application"], response.json()["group"]) == ("voirie", world.staff.service.slug)
    # The above, the subscription check, and the answer's application and group (one query by
    # primary key): the application itself comes from the cached reference data.
    assert len(queries) <= 9, "\n".join(q["sql"][:160] for q in queries.captured_queries)


def test_it_caches_the_calendar_spec_until_the_calendar_changes(world, django_assert_num_queries):
    calendar = sla.default_calendar()
    first = sla.calendar_spec(calendar)
    with django_assert_num_queries(0):
        assert sla.calendar_spec(calendar) == first

    # The service moves the calendar's version, the key of its spec.
    cs.closure_add(
        actor=world.staff, calendar=calendar, label="Pont", start=dt.date(2026, 12, 24), end=dt.date(2026, 12, 31)
    )

    assert dt.date(2026, 12, 28) in sla.calendar_spec(calendar).closed_days
    assert dt.date(2026, 12, 28) in sla.sla_calendar(calendar.pk).spec.closed_days


def test_it_describes_the_ticket_paths_in_openapi(client, world):
    client.force_login(world.staff)
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    assert {
        "/api/v1/tickets/",
        "/api/v1/tickets/{reference}",
        "/api/v1/tickets/{reference}/followups",
        "/api/v1/tickets/{reference}/transitions",
        "/api/v1/tickets/{reference}/assignment",
    } <= set(paths)
    assert set(paths["/api/v1/tickets/"]) == {"get", "post"}


def test_a_private_transition_comment_through_the_api(client, world, tickets):
    ref = tickets["alpha"].reference
    client.force_login(world.staff)
    _post(client, f"/api/v1/tickets/{ref}/assignment", {"technician": "staff"})
    body = {"action": "wait", "pending_reason": "vendor", "comment": "ticket éditeur 4711", "is_private": True}
    assert _post(client, f"/api/v1/tickets/{ref}/transitions", body).status_code == 200
    private = _post(client, f"/api/v1/tickets/{ref}/transitions", {"action": "resume"})
    assert private.status_code == 200
    refused = _post(
        client, f"/api/v1/tickets/{ref}/transitions", {"action": "solve", "comment": "fait", "is_private": True}
    )
    assert refused.status_code == 422 and "is_private" in refused.json()["errors"]

    staff_view = client.get(f"/api/v1/tickets/{ref}/followups").json()
    client.force_login(world.agent_a)
    member_view = client.get(f"/api/v1/tickets/{ref}/followups").json()
    assert ("ticket éditeur 4711", True) in [(f["body"], f["is_private"]) for f in staff_view]
    assert "ticket éditeur 4711" not in [f["body"] for f in member_view]
