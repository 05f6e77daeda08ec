"""Erasure by pseudonymisation: the person's name, address, login and phone become their pseudonym
across accounts, the directory, contacts, tickets and the audit log; the guards; the audit."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.http import Http404

from mutualis.accounts.models import ApiToken
from mutualis.core.audit import audit_record
from mutualis.core.models import AuditAction, AuditEntry
from mutualis.governance.models import Mandate
from mutualis.helpdesk import services as helpdesk
from mutualis.helpdesk.models import Followup, Ticket
from mutualis.identity.models import Agent, AgentStatus
from mutualis.members.models import Contact
from mutualis.privacy.models import PrivacyRequest, RequestKind
from mutualis.privacy.pseudonyms import pseudonym
from mutualis.privacy.selectors import subject_get
from mutualis.privacy.services import erasure_refusals, subject_erase
from mutualis.privacy.tests.helpers import at, closed_ticket
from mutualis.testing import factories as f


@pytest.fixture
def jean(world):
    """agent_a is Jean Dupont of Alpha: an account linked to a directory entry that has left, with a
    closed ticket, a contact card with his phone, a past mandate and a token."""
    agent = Agent.objects.create(
        collectivity=world.member_a,
        hr_id="42",
        last_name="Dupont",
        first_name="Jean",
        mail="jean.dupont@alpha.test",
        login="jdupont",
        function="DGS",
        status=AgentStatus.INACTIVE,
        end_on=dt.date(2026, 1, 31),
    )
    user = world.agent_a
    user.first_name, user.last_name, user.email, user.agent = "Jean", "Dupont", "jean.dupont@alpha.test", agent
    user.save()
    audit_record(
        actor=world.admin,
        action=AuditAction.UPDATE,
        obj=user,
        changes={"first_name": ["", "Jean"], "email": ["", "jean.dupont@alpha.test"]},
    )
    audit_record(actor=user, action=AuditAction.LOGIN, obj=user)
    ticket = closed_ticket(world, opened=at(2025, 3, 4))
    helpdesk.ticket_create(
        actor=world.staff,
        collectivity=world.member_a,
        requester=world.manager_a,
        ticket_type="request",
        title="Départ de Jean Dupont",
        description="Fermer la boîte jean.dupont@alpha.test",
        now=at(2025, 3, 5),
    )
    Contact.objects.create(
        organisation=world.member_a,
        full_name="Jean Dupont",
        function="DGS",
        email="jean.dupont@alpha.test",
        phone="06 12 34 56 78",
    )
    other_town = Contact.objects.create(organisation=world.member_b, full_name="Jean Dupont", function="DSI")
    person = f.PersonFactory.create(full_name="Jean Dupont")
    f.MandateFactory.create(person=person, start_on=dt.date(2020, 1, 1), end_on=dt.date(2024, 12, 31))
    ApiToken.objects.create(user=user, name="script", prefix="abc", digest="d" * 64)
    return {"user": user, "agent": agent, "ticket": ticket, "other_town": other_town, "person": person}


def _all_text() -> str:
    """Every place the name could hide, as one string."""
    parts = []
    for entry in AuditEntry.objects.all():
        parts += [entry.actor_label, entry.object_repr, str(entry.changes)]
    for t in Ticket.objects.all():
        parts += [t.title, t.description, t.satisfaction_comment]
    parts += list(Followup.objects.values_list("body", flat=True))
    return "\n".join(parts)


def test_it_replaces_the_person_everywhere_with_one_pseudonym(world, jean):
    subject = subject_get(actor=world.admin, kind="compte", pk=jean["user"].pk)
    label = pseudonym("user", jean["user"].pk)
    assert "Jean Dupont" in _all_text() and "jean.dupont@alpha.test" in _all_text()

    done = subject_erase(actor=world.admin, subject=subject)

    text = _all_text()
    for trace in ("Jean Dupont", "jean.dupont@alpha.test", "06 12 34 56 78", "DUPONT Jean", "agent-a"):
        assert trace.lower() not in text.lower(), trace
    assert label in text
    user = jean["user"]
    user.refresh_from_db()
    assert (user.username, user.first_name, user.last_name, user.email) == (label.lower(), "", label, "")
    assert not user.is_active and not user.has_usable_password()
    assert ApiToken.objects.get(user=user).revoked_at is not None
    agent = Agent.objects.get(pk=jean["agent"].pk)
    assert (agent.last_name, agent.first_name, agent.mail, agent.login, agent.hr_id) == (label, "", "", "", "42")
    contact = Contact.objects.get(organisation=world.member_a)
    assert (contact.full_name, contact.email, contact.phone) == (label, "", "")
    jean["other_town"].refresh_from_db()
    assert jean["other_town"].full_name == "Jean Dupont"  # another town's namesake is someone else
    jean["person"].refresh_from_db()
    assert jean["person"].full_name == label and Mandate.objects.filter(person=jean["person"]).count() == 1
    # What happened stays: the ticket, its dates and figures, the log's entries by the account.
    ticket = Ticket.objects.get(pk=jean["ticket"].pk)
    assert ticket.requester_id == user.pk and ticket.closed_at == jean["ticket"].closed_at
    assert ticket.title == f"Mot de passe de {label}"
    by_him = AuditEntry.objects.filter(actor=user)
    assert by_him.exists() and set(by_him.values_list("actor_label", flat=True)) == {label.lower()}
    about_him = AuditEntry.objects.get(action=AuditAction.UPDATE, object_id=str(user.pk), content_type__model="user")
    assert about_him.changes == {"first_name": ["", ""], "email": ["", f"{label.lower()}@pseudonyme.invalid"]}
    # The erasure is in the register and the log, by pseudonym only.
    assert done.kind == RequestKind.ERASURE and done.subject_label == label and done.handled_by == world.admin
    assert done.counts["audit_entries"] >= 3 and done.counts["member_contacts"] == 1
    entry = AuditEntry.objects.filter(content_type__model="privacyrequest").get()
    assert entry.actor == world.admin and entry.action == AuditAction.CREATE
    assert "Dupont" not in str(entry.changes) and label in str(entry.changes)


def test_it_gives_the_same_pseudonym_whichever_record_is_chosen(world, jean):
    by_account = subject_get(actor=world.admin, kind="compte", pk=jean["user"].pk)
    by_entry = subject_get(actor=world.admin, kind="agent", pk=jean["agent"].pk)
    assert by_account.pseudonym == by_entry.pseudonym == pseudonym("user", jean["user"].pk)


def test_it_refuses_twice_and_says_under_which_pseudonym(world, jean):
    subject_erase(actor=world.admin, subject=subject_get(actor=world.admin, kind="compte", pk=jean["user"].pk))
    again = subject_get(actor=world.admin, kind="compte", pk=jean["user"].pk)
    with pytest.raises(ValidationError, match="déjà été effacées"):
        subject_erase(actor=world.admin, subject=again)
    assert PrivacyRequest.objects.filter(kind=RequestKind.ERASURE).count() == 1


def test_it_refuses_an_agent_still_in_the_directory_or_a_person_with_open_tickets(world, jean):
    Agent.objects.filter(pk=jean["agent"].pk).update(status=AgentStatus.ACTIVE)
    helpdesk.ticket_create(
        actor=world.staff,
        collectivity=world.member_a,
        requester=jean["user"],
        ticket_type="request",
        title="t",
        description="d",
    )
    subject = subject_get(actor=world.admin, kind="compte", pk=jean["user"].pk)
    refusals = erasure_refusals(actor=world.admin, subject=subject)
    assert any("encore actif dans l'annuaire" in r for r in refusals)
    assert any("1 demande non close est à son nom" in r for r in refusals)
    with pytest.raises(ValidationError):
        subject_erase(actor=world.admin, subject=subject)
    assert Agent.objects.get(pk=jean["agent"].pk).last_name == "Dupont"
    assert not PrivacyRequest.objects.exists()


def test_it_refuses_operator_staff_with_tickets_assigned_and_admins(world):
    ticket = helpdesk.ticket_create(
        actor=world.staff,
        collectivity=world.member_a,
        requester=world.agent_a,
        ticket_type="request",
        title="t",
        description="d",
    )
    helpdesk.ticket_assign(actor=world.staff, ticket=ticket, group=None, technician=world.staff)
    staff = subject_get(actor=world.admin, kind="compte", pk=world.staff.pk)
    assert any("lui est attribuée" in r for r in erasure_refusals(actor=world.admin, subject=staff))
    admin = subject_get(actor=world.admin, kind="compte", pk=world.admin.pk)
    refusals = erasure_refusals(actor=world.admin, subject=admin)
    assert any("vos propres données" in r for r in refusals) and any("administre la plateforme" in r for r in refusals)


def test_it_refuses_a_namesake_with_a_current_mandate(world, jean):
    f.MandateFactory.create(person=jean["person"], start_on=dt.date(2025, 1, 1), end_on=None, role="membre")
    subject = subject_get(actor=world.admin, kind="compte", pk=jean["user"].pk)
    assert any("mandat en cours" in r for r in erasure_refusals(actor=world.admin, subject=subject))


def test_it_lets_only_operator_admins_erase(world, jean):
    subject = subject_get(actor=world.manager_a, kind="compte", pk=jean["user"].pk)
    with pytest.raises(Http404):
        subject_erase(actor=world.manager_a, subject=subject)
    with pytest.raises(Http404):
        subject_erase(actor=world.staff, subject=subject)


def test_it_erases_a_directory_entry_without_account(world):
    agent = Agent.objects.create(
        collectivity=world.member_b,
        hr_id="7",
        last_name="Martin",
        first_name="Léa",
        mail="lea.martin@bravo.test",
        status=AgentStatus.INACTIVE,
    )
    audit_record(
        actor=None,
        action=AuditAction.CREATE,
        obj=agent,
        changes={"last_name": [None, "Martin"], "first_name": [None, "Léa"]},
        via="import",
    )
    subject = subject_get(actor=world.admin, kind="agent", pk=agent.pk)
    done = subject_erase(actor=world.admin, subject=subject)
    label = pseudonym("agent", agent.pk)
    assert done.subject_label == label and Agent.objects.get(pk=agent.pk).last_name == label
    entry = AuditEntry.objects.get(content_type__model="agent", object_id=str(agent.pk))
    assert entry.changes == {"last_name": [None, label], "first_name": [None, ""]}
    assert "Léa" not in entry.object_repr and "Martin" not in entry.object_repr
