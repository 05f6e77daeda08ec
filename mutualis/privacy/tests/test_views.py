"""The personal-data pages: who reaches what (tenancy), the export's content and its record, the
erasure's confirmation, the rules' form, and query counts that do not grow with the data."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from mutualis.core.models import AuditEntry
from mutualis.helpdesk.models import TicketTask
from mutualis.identity.models import Agent, AgentStatus
from mutualis.privacy.models import PrivacyRequest, RequestKind, RetentionKind, RetentionRule
from mutualis.privacy.pseudonyms import pseudonym
from mutualis.privacy.tests.helpers import at, closed_ticket
from mutualis.testing.factories import PASSWORD

ROLES = ["admin", "staff", "manager_a", "agent_a", "elected_a", "manager_b"]


@pytest.fixture
def people(world):
    own = Agent.objects.create(
        collectivity=world.member_a, hr_id="1", last_name="Dupont", first_name="Jean", status=AgentStatus.INACTIVE
    )
    world.agent_a.agent = own
    world.agent_a.first_name, world.agent_a.last_name = "Jean", "Dupont"
    world.agent_a.save()
    foreign = Agent.objects.create(collectivity=world.member_b, hr_id="2", last_name="Martin", first_name="Léa")
    return {"own": own, "foreign": foreign}


def _client(client, user):
    assert client.login(username=user.username, password=PASSWORD)
    return client


# role → (index, own account page, foreign agent page, own export, erase page, register, rule edit)
EXPECTED = {
    "admin": (200, 200, 200, 200, 200, 200, 302),
    "staff": (404, 404, 404, 404, 404, 404, 404),
    "manager_a": (200, 200, 404, 200, 404, 200, 404),
    "agent_a": (404, 404, 404, 404, 404, 404, 404),
    "elected_a": (404, 404, 404, 404, 404, 404, 404),
}


@pytest.mark.parametrize("role", list(EXPECTED))
def test_it_answers_each_role_on_its_own_and_a_foreign_person(client, world, people, role):
    c = _client(client, getattr(world, role))
    own_user = world.agent_a.pk
    answers = (
        c.get("/donnees-personnelles/").status_code,
        c.get(f"/donnees-personnelles/personnes/compte/{own_user}/").status_code,
        c.get(f"/donnees-personnelles/personnes/agent/{people['foreign'].pk}/").status_code,
        c.post(f"/donnees-personnelles/personnes/compte/{own_user}/export.json").status_code,
        c.get(f"/donnees-personnelles/personnes/compte/{own_user}/effacement/").status_code,
        c.get("/donnees-personnelles/registre/").status_code,
        c.post("/donnees-personnelles/conservation/closed_tickets/", {"closed_tickets-months": "48"}).status_code,
    )
    assert answers == EXPECTED[role]


def test_it_sends_anonymous_visitors_to_login(client, people):
    assert client.get("/donnees-personnelles/").status_code == 302


def test_it_finds_only_the_managers_own_people(client, world, people):
    c = _client(client, world.manager_a)
    page = c.get("/donnees-personnelles/", {"q": "a"}).content.decode()  # too short: no search
    assert "Dupont" not in page
    page = c.get("/donnees-personnelles/", {"q": "dupont"}).content.decode()
    assert "DUPONT Jean" in page
    page = c.get("/donnees-personnelles/", {"q": "martin"}).content.decode()
    assert "MARTIN" not in page
    page = c.get("/donnees-personnelles/", {"q": "manager-b"}).content.decode()
    assert "Aucun compte ne correspond" in page
    page = _client(client, world.admin).get("/donnees-personnelles/", {"q": "martin"}).content.decode()
    assert "MARTIN Léa" in page


def test_it_exports_everything_held_and_records_the_request(client, world, people):
    ticket = closed_ticket(world, opened=at(2025, 3, 4))
    c = _client(client, world.manager_a)
    response = c.post(f"/donnees-personnelles/personnes/agent/{people['own'].pk}/export.json")
    assert response["Content-Disposition"].startswith('attachment; filename="donnees-personnelles-personne-')
    data = json.loads(response.content)
    assert data["account"]["username"] == "agent-a" and data["directory_entry"]["hr_id"] == "1"
    assert [t["reference"] for t in data["tickets_requested"]] == [ticket.reference]
    assert [f["body"] for f in data["followups_written"]] == ["Merci, c'est Jean Dupont."]
    # the log: what the account did (its followup) and what was done to its records
    assert {(e["author"], e["object_type"]) for e in data["audit_log"]} >= {("agent-a", "followup")}
    assert all(e["author"] == "agent-a" or e["object_type"] in {"user", "agent"} for e in data["audit_log"])
    label = pseudonym("user", world.agent_a.pk)
    recorded = PrivacyRequest.objects.get()
    assert (recorded.kind, recorded.subject_label, recorded.handled_by, recorded.organisation) == (
        RequestKind.EXPORT,
        label,
        world.manager_a,
        world.member_a,
    )
    assert recorded.counts["tickets_requested"] == 1
    entry = AuditEntry.objects.get(content_type__model="privacyrequest")
    assert entry.actor == world.manager_a and "Dupont" not in str(entry.changes)
    html = c.post(f"/donnees-personnelles/personnes/agent/{people['own'].pk}/export.html")
    assert html["Content-Type"].startswith("text/html")
    body = html.content.decode()
    assert "Demandes faites" in body and ticket.reference in body and "Merci, c&#x27;est Jean Dupont." in body
    pdf = c.post(f"/donnees-personnelles/personnes/agent/{people['own'].pk}/export.pdf")
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    assert pdf["Content-Disposition"].endswith('.pdf"')
    assert PrivacyRequest.objects.count() == 3  # each download is a request answered
    assert c.post(f"/donnees-personnelles/personnes/agent/{people['own'].pk}/export.xml").status_code == 404
    assert c.get(f"/donnees-personnelles/personnes/agent/{people['own'].pk}/export.json").status_code == 405


def test_it_keeps_the_query_count_flat_as_the_data_grows(client, world, people):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    c = _client(client, world.admin)
    url = f"/donnees-personnelles/personnes/compte/{world.agent_a.pk}/"

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert c.get(url).status_code == 200
        return len(queries)

    closed_ticket(world, opened=at(2025, 3, 4))
    count()  # warm the per-process caches (content types)
    small = count()
    for day in (5, 6, 7):
        closed_ticket(world, opened=at(2025, 3, day))
    assert count() == small

    def export_count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert c.post(url + "export.json").status_code == 200
        return len(queries)

    first = export_count()
    closed_ticket(world, opened=at(2025, 3, 11))
    assert export_count() == first


def test_it_confirms_before_erasing_and_says_why_it_refuses(client, world, people):
    c = _client(client, world.admin)
    url = f"/donnees-personnelles/personnes/compte/{world.agent_a.pk}/effacement/"
    page = c.get(url).content.decode()
    assert "Je confirme l&#x27;effacement" in page
    response = c.post(url, {})
    assert "Cochez la case pour confirmer" in response.content.decode()
    assert not PrivacyRequest.objects.exists()
    erased = client.__class__()  # the person's own browser, signed in before the erasure
    erased.force_login(world.agent_a)
    assert erased.get("/").status_code == 200
    response = c.post(url, {"confirm": "on"}, follow=True)
    label = pseudonym("user", world.agent_a.pk)
    assert f"pseudonyme {label}" in response.content.decode()
    assert PrivacyRequest.objects.get().kind == RequestKind.ERASURE
    # The erased account's session is over: the account is inactive now.
    world.agent_a.refresh_from_db()
    assert not world.agent_a.is_active
    assert erased.get("/").status_code == 302
    # Agent of Bravo, still active: the page says why, the post changes nothing.
    foreign = f"/donnees-personnelles/personnes/agent/{people['foreign'].pk}/effacement/"
    assert "encore actif dans l&#x27;annuaire" in c.get(foreign).content.decode()
    c.post(foreign, {"confirm": "on"})
    assert Agent.objects.get(pk=people["foreign"].pk).last_name == "Martin"


def test_it_changes_a_rule_with_an_audit_entry(client, world):
    c = _client(client, world.admin)
    response = c.post(
        "/donnees-personnelles/conservation/closed_tickets/",
        {"closed_tickets-months": "48", "closed_tickets-enabled": "on"},
        follow=True,
    )
    assert "Règle « demandes closes" in response.content.decode()
    rule = RetentionRule.objects.get(kind=RetentionKind.CLOSED_TICKETS)
    assert rule.months == 48 and rule.enabled
    entry = AuditEntry.objects.get(content_type__model="retentionrule")
    assert entry.actor == world.admin and entry.changes == {"months": [60, 48]}
    response = c.post(
        "/donnees-personnelles/conservation/closed_tickets/", {"closed_tickets-months": "-1"}, follow=True
    )
    assert RetentionRule.objects.get(kind=RetentionKind.CLOSED_TICKETS).months == 48
    assert "supérieure ou égale à 0" in response.content.decode()
    assert c.post("/donnees-personnelles/conservation/tout/", {}).status_code == 404


def test_it_shows_the_register_to_a_manager_for_its_own_organisation_only(client, world, people):
    PrivacyRequest.objects.create(
        kind=RequestKind.EXPORT, subject_label="Personne-AAAA0001", organisation=world.member_a
    )
    PrivacyRequest.objects.create(
        kind=RequestKind.EXPORT, subject_label="Personne-BBBB0002", organisation=world.member_b
    )
    page = _client(client, world.manager_a).get("/donnees-personnelles/registre/").content.decode()
    assert "Personne-AAAA0001" in page and "Personne-BBBB0002" not in page
    page = _client(client, world.admin).get("/donnees-personnelles/registre/").content.decode()
    assert "Personne-AAAA0001" in page and "Personne-BBBB0002" in page


def test_it_counts_on_the_page_what_the_export_holds(world, people):
    from mutualis.privacy.selectors import data_counts, subject_counts, subject_data, subject_get

    closed_ticket(world, opened=at(2025, 3, 4))
    for kind, pk in (("compte", world.agent_a.pk), ("agent", people["foreign"].pk)):
        person = subject_get(actor=world.admin, kind=kind, pk=pk)
        assert subject_counts(person) == data_counts(subject_data(person))
    assert subject_counts(subject_get(actor=world.admin, kind="compte", pk=world.agent_a.pk))["followups_written"] == 1


def test_a_task_without_author_is_nobodys_data(world, people):
    """A task taken over from GLPI whose author had no account has no author: it is in no
    account's export, and the staff's own task still is."""
    from mutualis.privacy.selectors import data_counts, subject_counts, subject_data, subject_get

    ticket = closed_ticket(world, opened=at(2025, 3, 4))
    TicketTask.objects.create(
        ticket=ticket,
        author=None,
        description="*Écrit dans GLPI par Julien Martin (jmartin) (sans compte dans Mutualis)*\n\nPoste remplacé",
        duration_seconds=1800,
        done_on=dt.date(2025, 3, 4),
    )
    for user in (world.staff, world.agent_a, world.admin):
        person = subject_get(actor=world.admin, kind="compte", pk=user.pk)
        data = subject_data(person)
        assert subject_counts(person) == data_counts(data)
        assert all("Poste remplacé" not in t["description"] for t in data.get("tasks_recorded", []))
    staff = subject_data(subject_get(actor=world.admin, kind="compte", pk=world.staff.pk))
    assert [t["description"] for t in staff["tasks_recorded"]] == ["Appel à Jean Dupont"]
