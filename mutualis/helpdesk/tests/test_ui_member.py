"""Member pages: "Mes demandes", the ticket page, followups, the solution accepted or refused,
reopening and a new request linked to a closed ticket."""

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from mutualis.helpdesk import services
from mutualis.helpdesk.enums import Action, Status
from mutualis.helpdesk.models import Followup, Ticket
from mutualis.helpdesk.tests.ui_helpers import make_ticket
from mutualis.testing import factories as f


def page(ticket):
    return reverse("helpdesk:ticket", args=[ticket.reference])


def solved(world, ticket):
    services.ticket_assign(actor=world.staff, ticket=ticket, group=None, technician=world.staff)
    return services.ticket_transition(actor=world.staff, ticket=ticket, action=Action.SOLVE, comment="Relancé.")


def test_it_lists_an_agents_own_requests_only(client, world):
    mine = make_ticket(world, title="Le mien")
    colleague = f.UserFactory(username="colleague", organisation=world.member_a)
    services.ticket_create(actor=colleague, collectivity=world.member_a, requester=None, ticket_type="request",
                           title="Celui du collègue", description="x")  # fmt: skip
    make_ticket(world, side="foreign", title="Chez Bravo")
    client.force_login(world.agent_a)

    body = client.get(reverse("helpdesk:index")).content.decode()

    assert "Mes demandes" in body
    assert mine.reference in body
    assert "Celui du collègue" not in body
    assert "Chez Bravo" not in body


def test_it_lists_the_whole_collectivity_for_a_member_manager_with_filters(client, world):
    app = f.ApplicationFactory(slug="courrier", name="Courrier")
    make_ticket(world, title="Incident courrier", application=app)
    make_ticket(world, title="Demande de compte", ticket_type="request")
    make_ticket(world, side="foreign", title="Chez Bravo")
    client.force_login(world.manager_a)

    everything = client.get(reverse("helpdesk:index")).content.decode()
    requests_only = client.get(reverse("helpdesk:index"), {"ticket_type": "request"}).content.decode()
    by_app = client.get(reverse("helpdesk:index"), {"application": "courrier"}).content.decode()

    assert "Demandes de ma collectivité" in everything
    assert "Incident courrier" in everything and "Demande de compte" in everything
    assert "Chez Bravo" not in everything
    assert "Incident courrier" not in requests_only and "Demande de compte" in requests_only
    assert "Incident courrier" in by_app and "Demande de compte" not in by_app


def test_it_shows_public_followups_only_to_members(client, world):
    ticket = make_ticket(world)
    services.followup_add(actor=world.staff, ticket=ticket, body="Réponse publique")
    services.followup_add(actor=world.staff, ticket=ticket, body="Note interne secrète", is_private=True)
    client.force_login(world.agent_a)

    body = client.get(page(ticket)).content.decode()

    assert "Réponse publique" in body
    assert "Note interne secrète" not in body


def test_it_adds_a_followup_with_an_attachment(client, world):
    ticket = make_ticket(world)
    client.force_login(world.agent_a)
    upload = SimpleUploadedFile("capture.png", b"\x89PNG\r\n\x1a\n...", content_type="image/png")

    response = client.post(reverse("helpdesk:followup", args=[ticket.reference]),
                           {"body": "Voici la capture", "attachments": [upload]})  # fmt: skip

    assert response.status_code == 302
    followup = ticket.followups.get()
    assert followup.body == "Voici la capture"
    assert not followup.is_private
    assert [a.name for a in followup.attachments.all()] == ["capture.png"]


def test_it_ignores_a_members_attempt_at_a_private_note(client, world):
    ticket = make_ticket(world)
    client.force_login(world.agent_a)

    client.post(reverse("helpdesk:followup", args=[ticket.reference]), {"body": "coucou", "is_private": "on"})

    assert ticket.followups.get().is_private is False


def test_it_refuses_an_empty_followup_and_writes_nothing(client, world):
    ticket = make_ticket(world)
    client.force_login(world.agent_a)

    response = client.post(reverse("helpdesk:followup", args=[ticket.reference]), {"body": "  "})

    assert response.status_code == 200
    assert "errorlist" in response.content.decode()
    assert not ticket.followups.exists()


def test_it_lets_the_requester_accept_the_solution(client, world):
    ticket = solved(world, make_ticket(world))
    client.force_login(world.agent_a)
    assert "Accepter la solution" in client.get(page(ticket)).content.decode()

    response = client.post(reverse("helpdesk:transition", args=[ticket.reference]), {"action": "accept"})

    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == Status.CLOSED


def test_it_asks_why_when_the_requester_refuses_the_solution(client, world):
    ticket = solved(world, make_ticket(world))
    client.force_login(world.agent_a)
    url = reverse("helpdesk:transition", args=[ticket.reference])

    silent = client.post(url, {"action": "refuse", "comment": ""})
    ticket.refresh_from_db()
    assert silent.status_code == 200
    assert "Dites-nous pourquoi" in silent.content.decode()
    assert ticket.status == Status.SOLVED

    client.post(url, {"action": "refuse", "comment": "Toujours en panne"})
    ticket.refresh_from_db()
    assert ticket.status == Status.IN_PROGRESS
    assert ticket.followups.filter(body="Toujours en panne").exists()


def test_it_refuses_a_transition_the_table_does_not_allow_with_a_message(client, world):
    ticket = make_ticket(world)
    client.force_login(world.agent_a)

    response = client.post(reverse("helpdesk:transition", args=[ticket.reference]), {"action": "accept"},
                           follow=True)  # fmt: skip

    assert "transition refusée" in response.content.decode()
    ticket.refresh_from_db()
    assert ticket.status == Status.NEW
    assert not ticket.transitions.exists()


def test_it_offers_reopening_within_the_delay_only(client, world, settings):
    settings.HELPDESK_REOPEN_DAYS = 7
    ticket = solved(world, make_ticket(world))
    services.ticket_transition(actor=world.agent_a, ticket=ticket, action=Action.ACCEPT)
    client.force_login(world.agent_a)
    assert "Rouvrir la demande" in client.get(page(ticket)).content.decode()

    Ticket.objects.filter(pk=ticket.pk).update(closed_at=timezone.now() - dt.timedelta(days=8))
    late = client.get(page(ticket)).content.decode()
    assert "Rouvrir la demande" not in late
    assert "Nouvelle demande liée" in late
    response = client.post(reverse("helpdesk:transition", args=[ticket.reference]), {"action": "reopen"},
                           follow=True)  # fmt: skip
    assert "nouvelle demande liée" in response.content.decode()
    ticket.refresh_from_db()
    assert ticket.status == Status.CLOSED


def test_it_creates_a_linked_request_after_closure(client, world):
    ticket = solved(world, make_ticket(world))
    services.ticket_transition(actor=world.agent_a, ticket=ticket, action=Action.ACCEPT)
    client.force_login(world.agent_a)
    url = reverse("helpdesk:linked_create", args=[ticket.reference])
    assert client.get(url).status_code == 200

    response = client.post(url, {"title": "Ça recommence", "description": "Même panne"})

    created = Ticket.objects.get(title="Ça recommence")
    assert response["Location"] == page(created)
    assert created.linked_to == ticket
    assert created.requester == world.agent_a
    ticket.refresh_from_db()
    assert ticket.status == Status.CLOSED


def test_it_refuses_a_linked_request_on_an_open_ticket(client, world):
    ticket = make_ticket(world)
    client.force_login(world.agent_a)

    client.post(reverse("helpdesk:linked_create", args=[ticket.reference]), {"title": "x", "description": "y"})

    assert Ticket.objects.count() == 1


def test_it_shows_the_elected_official_the_collectivitys_tickets_read_only(client, world):
    ticket = solved(world, make_ticket(world))
    client.force_login(world.elected_a)

    body = client.get(page(ticket)).content.decode()

    assert ticket.title in body
    assert "Accepter la solution" not in body
    assert "Ajouter un message" not in body
    assert client.post(reverse("helpdesk:followup", args=[ticket.reference]), {"body": "x"}).status_code == 403
    assert not Followup.objects.filter(body="x").exists()


@pytest.mark.parametrize("who", ["agent_a", "staff"])
def test_it_escapes_script_in_titles_descriptions_and_followups(client, world, who):
    payload = "<script>alert('xss')</script>"
    ticket = make_ticket(world, title=f"Titre {payload}", description=f"Desc {payload} <b onclick=x>b</b>")
    services.followup_add(actor=world.agent_a, ticket=ticket, body=f"Suivi {payload}")
    client.force_login(getattr(world, who))

    for url in (page(ticket), reverse("helpdesk:index") + "?view=all"):
        body = client.get(url).content.decode()
        assert "<script>alert" not in body
        assert "&lt;script&gt;alert" in body
    assert "<b onclick" not in client.get(page(ticket)).content.decode()
