"""The knowledge base on the quality pages: requests deflected per month and member next to the
tickets filed, and the most read articles with their votes; figures, who sees what, flat queries."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from mutualis.helpdesk import services as helpdesk
from mutualis.knowledge import services as knowledge
from mutualis.knowledge.models import DeflectedTicket
from mutualis.quality.knowledge_figures import deflection_by_month, most_read_articles
from mutualis.quality.kpis import TZ, Month
from mutualis.testing.factories import ApplicationFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db
JANUARY, FEBRUARY = Month(2026, 1), Month(2026, 2)


@pytest.fixture
def figures(world):
    application = ApplicationFactory(slug="messagerie", name="Messagerie")
    for member in (world.member_a, world.member_b):
        SubscriptionFactory(collectivity=member, application=application)
    article = knowledge.article_create(
        actor=world.staff,
        data={"title": "Relever sa messagerie", "body": "Texte", "application": application},
        publish=True,
    )
    other = knowledge.article_create(
        actor=world.staff, data={"title": "Changer d'écran", "body": "Texte"}, publish=True
    )

    def ticket(member, day):
        helpdesk.ticket_create(
            actor=world.staff, collectivity=member, requester=None, ticket_type="request", title="t", description="d",
            application=application, now=dt.datetime(2026, 1, day, 10, tzinfo=TZ),
        )  # fmt: skip

    def deflect(user, when):
        row = knowledge.deflection_record(actor=user, article=article, typed="messagerie")
        DeflectedTicket.objects.filter(pk=row.pk).update(created_at=when)

    for day in (5, 6, 7, 8):
        ticket(world.member_a, day)
    ticket(world.member_b, 9)
    deflect(world.agent_a, dt.datetime(2026, 1, 12, 9, tzinfo=TZ))
    deflect(world.manager_a, dt.datetime(2026, 1, 31, 23, 30, tzinfo=TZ))  # Paris time: still January
    deflect(world.agent_a, dt.datetime(2026, 2, 3, 9, tzinfo=TZ))
    deflect(world.manager_b, dt.datetime(2025, 12, 31, 9, tzinfo=TZ))  # before the period
    for _ in range(3):
        knowledge.article_read(article=article)
    knowledge.article_read(article=other)
    knowledge.article_vote(actor=world.agent_a, article=article, useful=True)
    knowledge.article_vote(actor=world.manager_a, article=article, useful=True)
    knowledge.article_vote(actor=world.manager_b, article=article, useful=False)
    return article, other


def _table(rows):
    return [(str(r.month), r.collectivity, r.deflected, r.filed, r.per_hundred) for r in rows]


def test_it_counts_deflected_requests_next_to_tickets_filed(world, figures):
    rows = deflection_by_month(actor=world.staff, first=JANUARY, last=FEBRUARY)

    assert _table(rows) == [
        ("2026-02", "Alpha", 1, 0, None),
        ("2026-01", "Alpha", 2, 4, 50.0),
        ("2026-01", "Bravo", 0, 1, 0.0),
    ]


def test_it_shows_a_member_manager_its_own_collectivity_only(world, figures):
    rows = deflection_by_month(actor=world.manager_b, first=Month(2025, 12), last=FEBRUARY)

    assert _table(rows) == [("2026-01", "Bravo", 0, 1, 0.0), ("2025-12", "Bravo", 1, 0, None)]


def test_it_lists_the_most_read_articles_with_votes_and_deflections(world, figures):
    staff = [(a.title, a.read_count, a.useful, a.useless, a.deflected) for a in most_read_articles(actor=world.staff)]
    member = [(a.title, a.deflected) for a in most_read_articles(actor=world.manager_a)]

    assert staff == [("Relever sa messagerie", 3, 2, 1, 4), ("Changer d'écran", 1, 0, 0, 0)]
    assert member == [("Relever sa messagerie", 3), ("Changer d'écran", 0)]


def test_it_renders_the_page_for_staff_and_member_managers_only(client, world, figures):
    client.force_login(world.staff)
    page = client.get("/qualite/connaissances/", {"month": "2026-02"}).content.decode()
    assert "Relever sa messagerie" in page and "Bravo" in page
    assert '<td class="num">50,0</td>' in page
    assert 'href="/qualite/connaissances/?month=' in client.get("/qualite/").content.decode()

    client.force_login(world.manager_a)
    page = client.get("/qualite/connaissances/", {"month": "2026-02"}).content.decode()
    assert "Alpha" in page and "Bravo" not in page

    client.force_login(world.agent_a)
    assert client.get("/qualite/connaissances/").status_code == 404
    assert client.get("/qualite/connaissances/", {"month": "2026-13"}).status_code == 404


def test_it_keeps_the_page_query_count_flat(client, world, figures):
    client.force_login(world.staff)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/qualite/connaissances/", {"month": "2026-02"}).status_code == 200
        return len(queries)

    count()
    small = count()
    article = figures[0]
    for n in range(8):
        other = knowledge.article_create(actor=world.staff, data={"title": f"Article {n}", "body": "x"}, publish=True)
        knowledge.article_read(article=other)
        knowledge.deflection_record(actor=world.agent_a, article=article, typed="x")
    assert count() == small
