"""The vendor clock on the staff ticket page (slot helpdesk.ticket.staff), never on a member's."""

from __future__ import annotations

import pytest
from django.urls import reverse

from mutualis.ola import panels
from mutualis.ola.tests.conftest import at, open_ticket, wait_vendor


@pytest.fixture(autouse=True)
def _panels():
    panels.register()


def test_the_staff_page_shows_the_running_vendor_clock_in_words(client, world, ola):
    ticket = open_ticket(world, ola.application, now=at(16, 8, 30))
    wait_vendor(world, ticket, at(16, 9))
    client.force_login(world.staff)
    body = client.get(reverse("helpdesk:ticket", args=[ticket.reference])).content.decode()
    assert 'id="ola-horloge"' in body
    # still waiting since November 2026: far past its 4 business hours
    assert '<span class="badge ola-late">dépassé</span>' in body
    assert "en cours" in body
    assert "M-ARPEGE" in body and "Arpège" in body
    assert "sur 4,0 h engagées" in body


def test_it_says_when_no_maintenance_contract_applies(client, world, ola):
    ticket = open_ticket(world, ola.bare_application, now=at(16, 8, 30))
    wait_vendor(world, ticket, at(16, 9))
    client.force_login(world.staff)
    body = client.get(reverse("helpdesk:ticket", args=[ticket.reference])).content.decode()
    assert "aucun contrat de maintenance" in body
    assert "sans engagement" in body


def test_the_member_page_shows_no_vendor_clock(client, world, ola):
    ticket = open_ticket(world, ola.application, now=at(16, 8, 30))
    wait_vendor(world, ticket, at(16, 9))
    client.force_login(world.agent_a)
    response = client.get(reverse("helpdesk:ticket", args=[ticket.reference]))
    assert response.status_code == 200
    assert "ola-horloge" not in response.content.decode()
