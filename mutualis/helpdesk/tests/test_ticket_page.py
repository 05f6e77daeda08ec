"""The ticket page (issue 14): the panels the apps above show beside it, the single timeline, the
service-level bars, the live updates and presence, and the satisfaction survey answered inline."""

import pytest
from django.urls import reverse

from mutualis.core import panels
from mutualis.core.panels import panel_register
from mutualis.helpdesk.tests.ui_helpers import make_ticket

pytestmark = pytest.mark.django_db

PANEL = "members/panels/home_card.html"


def page(ticket):
    return reverse("helpdesk:ticket", args=[ticket.reference])


@pytest.fixture
def ticket_slots():
    yield
    for slot in ("helpdesk.ticket.staff", "helpdesk.ticket.member"):
        panels._slots.pop(slot, None)


# -- panels -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(("who", "slot"), [("staff", "helpdesk.ticket.staff"), ("agent_a", "helpdesk.ticket.member")])
def test_it_shows_the_panels_registered_for_the_ticket_page_with_the_ticket(client, world, ticket_slots, who, slot):
    ticket = make_ticket(world)
    seen = []

    def context(request, *, ticket):
        seen.append(ticket.pk)
        return {"member_count": 4242}

    panel_register(slot, order=10, template=PANEL, context=context)
    client.force_login(getattr(world, who))

    body = client.get(page(ticket)).content.decode()

    assert '<p class="figure">4242</p>' in body
    assert seen == [ticket.pk]
