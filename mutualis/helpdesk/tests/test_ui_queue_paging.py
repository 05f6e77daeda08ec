"""The queue at volume: a capped count for long lists, the filters by slug, the widgets rendered in
Python exactly as Django's templates render them, and the clocks computed from business offsets."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from mutualis.helpdesk import selectors, services, sla
from mutualis.helpdesk.enums import Action, Clock
from mutualis.helpdesk.tests.ui_helpers import make_ticket
from mutualis.helpdesk.views import shared
from mutualis.helpdesk.views.staff import clock_elapsed
from mutualis.testing import factories as f

INDEX = "/assistance/"


@pytest.fixture
def small_pages(monkeypatch):
    monkeypatch.setattr(shared, "PAGE_SIZE", 2)
    monkeypatch.setattr(shared.CappedPaginator, "cap", 3)


def test_it_counts_exactly_up_to_the_cap(client, world, small_pages):
    for i in range(3):
        make_ticket(world, title=f"T{i}")
    client.force_login(world.staff)

    response = client.get(INDEX, {"view": "open"})
    body = response.content.decode()

    assert response.context["page"].paginator.count == 3
    assert "3 tickets" in body and "Page 1 sur 2" in body


def test_it_says_more_than_the_cap_and_pages_without_a_total(client, world, small_pages):
    for i in range(5):
        make_ticket(world, title=f"T{i}")
    client.force_login(world.staff)

    first = client.get(INDEX, {"view": "open"})
    body = first.content.decode()
    assert "plus de 3 tickets" in body
    assert "Page 1<" in body and "sur" not in body.split('class="pagination"')[1].split("</nav>")[0]
    assert "page=2" in body

    seen = [t.title for t in first.context["page"]]
    third = client.get(INDEX, {"view": "open", "page": 3})
    seen += [t.title for t in client.get(INDEX, {"view": "open", "page": 2}).context["page"]]
    seen += [t.title for t in third.context["page"]]
    assert sorted(seen) == [f"T{i}" for i in range(5)]
    assert not third.context["page"].has_next()
    assert "Page suivante" not in third.content.decode()


def test_it_answers_a_page_past_the_end_or_not_a_number_with_404(client, world, small_pages):
    for i in range(5):
        make_ticket(world, title=f"T{i}")
    client.force_login(world.staff)

    assert client.get(INDEX, {"view": "open", "page": 3}).context["page"].number == 3
    assert client.get(INDEX, {"view": "open", "page": 40}).status_code == 404
    assert client.get(INDEX, {"view": "open", "page": "x"}).status_code == 404
    assert client.get(INDEX, {"view": "open", "page": "999999999999999999999"}).status_code == 404


def test_it_caps_the_member_list_too(client, world, small_pages):
    for i in range(5):
        make_ticket(world, title=f"T{i}")
    client.force_login(world.manager_a)

    assert "plus de 3 demandes" in client.get(INDEX).content.decode()


def test_it_filters_by_slug_and_finds_nothing_for_an_unknown_one(client, world):
    app = f.ApplicationFactory(slug="urbanisme", name="Urbanisme")
    make_ticket(world, title="Permis", application=app)
    make_ticket(world, side="foreign", title="Ailleurs")
    client.force_login(world.staff)

    def titles(**query):
        return {t.title for t in client.get(INDEX, {"view": "all", **query}).context["page"]}

    assert titles(application="urbanisme") == {"Permis"}
    assert titles(collectivity=world.member_b.slug) == {"Ailleurs"}
    assert not selectors.ticket_queue(actor=world.staff, view="all", application="inconnue").exists()
    assert not selectors.ticket_queue(actor=world.staff, view="all", collectivity="inconnue").exists()


def test_it_computes_the_clocks_from_business_offsets(world):
    ticket = make_ticket(world, blocking=True, urgency=5, impact=5)
    now = ticket.opened_at + dt.timedelta(days=3, hours=2)
    services.ticket_transition(actor=world.staff, ticket=ticket, action=Action.TAKE)
    services.ticket_transition(actor=world.staff, ticket=ticket, action=Action.WAIT, pending_reason="vendor")
    ticket.refresh_from_db()
    spec, table = ticket.calendar.spec(), ticket.calendar.offsets()

    for clock in (Clock.TTO, Clock.TTR):
        assert abs(clock_elapsed(ticket, table, clock, now) - sla.clock_elapsed(ticket, spec, clock, now)) <= 2


def test_it_shows_linked_and_merged_tickets_on_the_ticket_page(client, world):
    ticket = make_ticket(world, title="Principal")
    duplicate = make_ticket(world, title="Doublon")
    services.ticket_merge(actor=world.staff, duplicate=duplicate, into=ticket)
    client.force_login(world.staff)

    response = client.get(reverse("helpdesk:ticket", args=[ticket.reference]))

    assert response.context["linked"] == []
    assert duplicate.reference in response.content.decode()
    assert timezone.now() >= ticket.opened_at


def test_the_queue_reads_only_the_columns_a_row_shows(client, world):
    make_ticket(world, title="Sans description", description="x" * 5000)
    client.force_login(world.staff)
    response = client.get(INDEX, {"view": "open"})
    [ticket] = list(response.context["page"])
    assert "description" in ticket.get_deferred_fields()
    assert "Sans description" in response.content.decode()
