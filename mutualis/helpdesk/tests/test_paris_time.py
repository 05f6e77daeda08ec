"""Every time a person reads is Europe/Paris: the staff queue formatted its times in Python from
the UTC values the database returns, so it showed UTC while the ticket page showed Paris time."""

import datetime as dt

import pytest
from django.urls import reverse

from mutualis.helpdesk.tests.ui_helpers import make_ticket
from mutualis.testing.factories import PASSWORD

pytestmark = pytest.mark.django_db

WINTER = dt.datetime(2026, 1, 13, 8, 0, tzinfo=dt.UTC)  # a Tuesday: 09:00 in Paris (UTC+1)
SUMMER = dt.datetime(2026, 7, 14, 8, 0, tzinfo=dt.UTC)  # 10:00 in Paris (UTC+2)


def login(client, user):
    assert client.login(username=user.username, password=PASSWORD)
    return client


@pytest.mark.parametrize(("opened", "shown"), [(WINTER, "13/01/2026 09:00"), (SUMMER, "14/07/2026 10:00")])
def test_it_shows_paris_time_in_the_staff_queue(client, world, opened, shown):
    make_ticket(world, title="Courrier", now=opened)

    page = login(client, world.staff).get(reverse("helpdesk:index"), {"view": "all"}).content.decode()

    assert shown in page
    assert opened.strftime("%d/%m/%Y %H:%M") not in page  # the UTC reading


def test_it_shows_paris_time_for_the_due_date_in_the_queue_and_on_the_ticket_page(client, world):
    # A blocking incident: the default policy gives it a due date, an instant like the opening.
    ticket = make_ticket(world, title="Courrier", blocking=True, now=WINTER)
    due = ticket.ttr_due_at.astimezone(dt.UTC)
    paris_due = ticket.ttr_due_at.astimezone(dt.timezone(dt.timedelta(hours=1))).strftime("%d/%m/%Y %H:%M")
    client = login(client, world.staff)

    queue = client.get(reverse("helpdesk:index"), {"view": "all"}).content.decode()
    detail = client.get(reverse("helpdesk:ticket", kwargs={"reference": ticket.reference})).content.decode()

    for page in (queue, detail):
        assert "13/01/2026 09:00" in page
        assert paris_due in page
        assert due.strftime("%d/%m/%Y %H:%M") not in page


def test_it_shows_paris_time_to_the_member(client, world):
    ticket = make_ticket(world, title="Courrier", now=WINTER)
    client = login(client, world.agent_a)

    index = client.get(reverse("helpdesk:index")).content.decode()
    detail = client.get(reverse("helpdesk:ticket", kwargs={"reference": ticket.reference})).content.decode()

    assert "13/01/2026 09:00" in index and "13/01/2026 09:00" in detail
    assert "13/01/2026 08:00" not in index + detail
