"""The staff queue's redesign (issue 14 point 2): counts per view in one query and equal to the
rows each view lists, priority and service level in words, business time left in the row, the
bulk bar after the table (queue.js shows it on selection), and the shortcuts' help."""

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from mutualis.helpdesk import services
from mutualis.helpdesk.enums import Action
from mutualis.helpdesk.models import SavedView, Ticket
from mutualis.helpdesk.sla_display import business_duration, priority_label
from mutualis.helpdesk.tests.ui_helpers import make_ticket
from mutualis.helpdesk.views.staff import SIDE_VIEWS

INDEX = "/assistance/"
PARIS = ZoneInfo("Europe/Paris")
# A Tuesday morning, inside the default calendar's hours (08:30–12:30, 13:30–17:30).
NOW = dt.datetime(2026, 12, 8, 9, 0, tzinfo=PARIS)


@pytest.fixture
def frozen(monkeypatch):
    monkeypatch.setattr(timezone, "now", lambda: NOW)
    return NOW


def _queue(world, frozen):
    """One ticket per situation the side list counts, and a closed one no view but « tous » lists."""
    mine = make_ticket(world, title="À moi")
    services.ticket_assign(actor=world.staff, ticket=mine, group=None, technician=world.staff)
    make_ticket(world, side="foreign", title="Personne")
    breached = make_ticket(world, title="En retard")
    Ticket.objects.filter(pk=breached.pk).update(ttr_breached=True)
    waiting = make_ticket(world, title="En attente")
    services.ticket_transition(actor=world.staff, ticket=waiting, action=Action.WAIT, pending_reason="vendor")
    soon = make_ticket(world, side="foreign", title="Bientôt")
    Ticket.objects.filter(pk=soon.pk).update(ttr_due_at=frozen + dt.timedelta(hours=2), ttr_breached=False)
    done = make_ticket(world, title="Fini")
    services.ticket_transition(actor=world.staff, ticket=done, action=Action.SOLVE, comment="fait")
    services.ticket_transition(actor=world.staff, ticket=done, action=Action.CLOSE)


def _rows(client, href):
    return client.get(INDEX + href).context["page"].paginator.count


def test_it_counts_in_each_view_the_rows_that_view_lists(client, world, frozen):
    _queue(world, frozen)
    SavedView.objects.create(owner=world.staff, name="Bravo", query="view=open&collectivity=bravo")
    SavedView.objects.create(owner=world.staff, name="Tout Alpha", query="view=all&collectivity=alpha")
    client.force_login(world.staff)

    context = client.get(INDEX).context
    views = {entry["key"]: entry for entry in context["views"]}
    assert list(views) == list(SIDE_VIEWS)
    for key, entry in views.items():
        if key == "all":
            assert entry["count"] is None  # over every status: not counted, as the paginator caps it
        else:
            assert entry["count"] == _rows(client, entry["href"]), key
    assert {k: views[k]["count"] for k in ("open", "mine", "unassigned", "breached", "pending", "at_risk")} == {
        "open": 5, "mine": 1, "unassigned": 4, "breached": 1, "pending": 1, "at_risk": 1,
    }  # fmt: skip
    saved = {entry["view"].name: entry for entry in context["saved_views"]}
    assert saved["Bravo"]["count"] == _rows(client, "?view=open&collectivity=bravo") == 2
    assert saved["Tout Alpha"]["count"] is None


def test_it_shows_the_counts_and_marks_the_current_view(client, world, frozen):
    _queue(world, frozen)
    client.force_login(world.staff)

    body = client.get(INDEX, {"view": "breached"}).content.decode()

    current = re.search(r'<a href="\?view=breached" aria-current="page">(.*?)</a>', body, re.S)
    assert current is not None
    assert "Délai dépassé" in current.group(1) and '<span class="count">1<' in current.group(1)
    assert 'href="?view=open" aria-current' not in body


def test_it_counts_every_view_and_saved_view_in_one_query(client, world, frozen):
    _queue(world, frozen)
    client.force_login(world.staff)

    def queries():
        client.get(INDEX)
        with CaptureQueriesContext(connection) as ctx:
            client.get(INDEX)
        return len(ctx)

    before = queries()
    for n in range(4):
        SavedView.objects.create(owner=world.staff, name=f"v{n}", query=f"view=open&priority={n + 1}")
    assert queries() == before


def test_it_says_priority_and_service_level_in_words_with_the_business_time_left(client, world, frozen):
    soon = make_ticket(world, title="Bientôt", urgency=4, impact=4)
    late = make_ticket(world, title="En retard", urgency=5, impact=5)
    calm = make_ticket(world, title="Tranquille", urgency=1, impact=1)
    waiting = make_ticket(world, title="En attente")
    services.ticket_transition(actor=world.staff, ticket=waiting, action=Action.WAIT, pending_reason="requester")
    # 09:00 to 12:00 on a Tuesday: 3 business hours. Friday 09:00 to Tuesday 09:00: 16 business
    # hours, two days of the default calendar's 8.
    Ticket.objects.filter(pk=soon.pk).update(ttr_due_at=NOW + dt.timedelta(hours=3), ttr_budget_s=8 * 3600)
    Ticket.objects.filter(pk=late.pk).update(ttr_due_at=NOW - dt.timedelta(days=4), ttr_breached=True)
    Ticket.objects.filter(pk=calm.pk).update(ttr_due_at=NOW + dt.timedelta(days=14), ttr_budget_s=100 * 3600)
    client.force_login(world.staff)

    rows = {row["ticket"].title: row for row in client.get(INDEX, {"view": "open"}).context["rows"]}

    assert (rows["Bientôt"]["sla"].label, rows["Bientôt"]["sla"].left) == ("menacé", "reste 3 h")
    assert (rows["En retard"]["sla"].label, rows["En retard"]["sla"].left) == ("dépassé", "dépassé de 2 j")
    assert (rows["Tranquille"]["sla"].label, rows["Tranquille"]["sla"].left) == ("dans les délais", "reste 10 j")
    assert rows["En attente"]["sla"].label == "suspendu"
    assert rows["En retard"]["priority"] == "P5 très haute"
    body = client.get(INDEX, {"view": "open"}).content.decode()
    assert '<span class="badge sla-at_risk">menacé</span> <span class="left">reste 3 h</span>' in body
    assert '<span class="badge prio-5">P5 très haute</span>' in body


def test_it_puts_the_bulk_bar_after_the_rows_and_its_behaviour_in_a_static_file(client, world, frozen):
    make_ticket(world)
    client.force_login(world.staff)

    body = client.get(INDEX).content.decode()

    assert body.index('<table class="hd-queue') < body.index('id="hd-bulk"')
    assert "helpdesk/queue.js" in body
    assert "<script>" not in body and not re.search(r"\son[a-z]+=", body)
    assert "Raccourcis clavier" in body and "<kbd>j</kbd>" in body
    assert 'data-href="/assistance/tickets/' in body


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0 min"), (59, "1 min"), (25 * 60, "25 min"), (3 * 3600 + 1800, "3 h"), (8 * 3600, "1 j"), (17 * 3600, "2 j")],
)
def test_it_rounds_business_durations_down(seconds, text):
    assert business_duration(seconds) == text


def test_it_names_the_priorities_as_glpi_does():
    assert [priority_label(n) for n in (1, 4, 6)] == ["P1 très basse", "P4 haute", "P6 majeure"]
