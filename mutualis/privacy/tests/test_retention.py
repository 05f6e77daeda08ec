"""The retention rules, each on records on both sides of its cutoff (dates injected)."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.core.files.storage import default_storage
from django.core.management import call_command

from mutualis.core.audit import audit_record
from mutualis.core.models import AuditAction, AuditEntry
from mutualis.helpdesk.models import Attachment, Followup, InboundMail, Notification, Ticket, TicketTask, TransitionLog
from mutualis.identity.models import Agent, AgentStatus
from mutualis.privacy.models import AnonymisedRecord, RetentionKind, RetentionRule
from mutualis.privacy.pseudonyms import NEUTRAL_TEXT, pseudonym
from mutualis.privacy.retention import months_before, retention_apply
from mutualis.privacy.tests.helpers import at, closed_ticket

NOW = at(2026, 12, 5, 3)


def test_it_seeds_a_rule_per_kind_with_the_documented_defaults(db):
    assert dict(RetentionRule.objects.values_list("kind", "months")) == {
        "closed_tickets": 60,
        "inactive_agents": 12,
        "login_traces": 12,
        "inbound_mail": 12,
        "sessions": 0,
    }


def test_it_counts_months_back_clamping_the_day():
    assert months_before(at(2026, 3, 31), 1) == at(2026, 2, 28)
    assert months_before(at(2026, 1, 15), 13) == at(2024, 12, 15)
    assert months_before(at(2026, 12, 5, 3), 60) == at(2021, 12, 5, 3)


@pytest.fixture
def tickets(world):
    old = closed_ticket(world, opened=at(2021, 11, 2))  # closed 3 Nov 2021: over 5 years before NOW
    recent = closed_ticket(world, opened=at(2022, 1, 4))  # closed 5 Jan 2022: under 5 years
    return old, recent


def test_it_anonymises_closed_tickets_older_than_the_rule_and_nothing_else(
    tickets, world, django_capture_on_commit_callbacks
):
    old, recent = tickets
    InboundMail.objects.create(
        message_id="<m1@x>", sender="jean.dupont@alpha.test", subject="Jean", outcome="followup", ticket=old
    )
    file_name = Attachment.objects.get(ticket=old).file.name
    assert default_storage.exists(file_name)
    with django_capture_on_commit_callbacks(execute=True):
        [outcome] = retention_apply(now=NOW, kinds=[RetentionKind.CLOSED_TICKETS])
    assert outcome.count == 1
    old.refresh_from_db()
    assert (old.title, old.description, old.requester_id, old.form_answers) == (NEUTRAL_TEXT, NEUTRAL_TEXT, None, None)
    assert old.satisfaction_comment == NEUTRAL_TEXT and old.satisfaction == 4  # the score stays
    assert not old.watchers.exists()
    assert set(Followup.objects.filter(ticket=old).values_list("body", flat=True)) == {NEUTRAL_TEXT}
    # the member's followup loses its author, the operator's keeps it
    assert set(Followup.objects.filter(ticket=old).values_list("author_id", flat=True)) == {None, world.staff.pk}
    assert list(TicketTask.objects.filter(ticket=old).values_list("description", "duration_seconds")) == [
        (NEUTRAL_TEXT, 900)
    ]
    assert set(TransitionLog.objects.filter(ticket=old).exclude(comment="").values_list("comment", flat=True)) == {
        NEUTRAL_TEXT
    }
    assert not Attachment.objects.filter(ticket=old).exists()
    assert not default_storage.exists(file_name)
    assert all(n.recipients == [] and n.summary == "" for n in Notification.objects.filter(ticket=old))
    assert InboundMail.objects.get(message_id="<m1@x>").sender == ""
    # The log keeps who did what and when, not the texts.
    for entry in AuditEntry.objects.filter(
        content_type__model__in=["ticket", "followup", "tickettask", "attachment"], object_id__in=[str(old.pk)]
    ):
        assert "Jean" not in str(entry.changes) and "Jean" not in entry.object_repr
    assert not any(
        "Jean" in str(e.changes)
        for e in AuditEntry.objects.filter(
            content_type__model="followup",
            object_id__in=[str(pk) for pk in Followup.objects.filter(ticket=old).values_list("pk", flat=True)],
        )
    )
    # The recent one is untouched.
    recent.refresh_from_db()
    assert recent.title == "Mot de passe de Jean Dupont" and recent.requester_id == world.agent_a.pk
    assert Attachment.objects.filter(ticket=recent).count() == 1
    # Idempotent: the next night finds nothing; the run is on the rule and in the log.
    assert retention_apply(now=NOW, kinds=[RetentionKind.CLOSED_TICKETS])[0].count == 0
    rule = RetentionRule.objects.get(kind=RetentionKind.CLOSED_TICKETS)
    assert rule.last_run_at == NOW and rule.last_run_count == 0
    entries = AuditEntry.objects.filter(content_type__model="retentionrule", object_id=str(rule.pk)).order_by("id")
    assert [e.changes["last_run_count"][1] for e in entries] == [1, 0]
    assert AnonymisedRecord.objects.filter(kind=RetentionKind.CLOSED_TICKETS).count() == 1


def test_it_follows_the_duration_the_operator_sets(tickets):
    RetentionRule.objects.filter(kind=RetentionKind.CLOSED_TICKETS).update(months=24)
    assert retention_apply(now=NOW, kinds=[RetentionKind.CLOSED_TICKETS])[0].count == 2
    RetentionRule.objects.filter(kind=RetentionKind.INBOUND_MAIL).update(enabled=False)
    assert {o.rule.kind for o in retention_apply(now=NOW)} == set(RetentionKind.values) - {RetentionKind.INBOUND_MAIL}


def test_it_leaves_open_and_solved_tickets_alone_however_old(world):
    from mutualis.helpdesk import services

    services.ticket_create(
        actor=world.staff,
        collectivity=world.member_a,
        requester=world.agent_a,
        ticket_type="request",
        title="Jean",
        description="d",
        now=at(2015, 1, 6),
    )
    assert retention_apply(now=NOW, kinds=[RetentionKind.CLOSED_TICKETS])[0].count == 0


def test_it_stops_at_the_limit_and_the_next_run_goes_on(tickets):
    RetentionRule.objects.filter(kind=RetentionKind.CLOSED_TICKETS).update(months=24)
    assert retention_apply(now=NOW, kinds=[RetentionKind.CLOSED_TICKETS], limit=1)[0].count == 1
    assert Ticket.objects.filter(title=NEUTRAL_TEXT).count() == 1
    assert retention_apply(now=NOW, kinds=[RetentionKind.CLOSED_TICKETS], limit=1)[0].count == 1
    assert Ticket.objects.filter(title=NEUTRAL_TEXT).count() == 2


def test_it_anonymises_agents_gone_for_longer_than_the_rule(world):
    left_long_ago = Agent.objects.create(
        collectivity=world.member_a,
        hr_id="1",
        last_name="Dupont",
        first_name="Jean",
        mail="jd@alpha.test",
        login="jdupont",
        function="DGS",
        status=AgentStatus.INACTIVE,
        end_on=dt.date(2025, 10, 31),
    )
    left_recently = Agent.objects.create(
        collectivity=world.member_a,
        hr_id="2",
        last_name="Martin",
        first_name="Léa",
        status=AgentStatus.INACTIVE,
        end_on=dt.date(2026, 6, 30),
    )
    active = Agent.objects.create(collectivity=world.member_a, hr_id="3", last_name="Durand", first_name="Luc")
    still_signing_in = Agent.objects.create(
        collectivity=world.member_a,
        hr_id="4",
        last_name="Petit",
        first_name="Zoé",
        status=AgentStatus.INACTIVE,
        end_on=dt.date(2020, 1, 1),
    )
    world.agent_a.agent = still_signing_in
    world.agent_a.save(update_fields=["agent"])
    audit_record(
        actor=None,
        action=AuditAction.CREATE,
        obj=left_long_ago,
        changes={"last_name": [None, "Dupont"], "mail": [None, "jd@alpha.test"]},
        via="import",
    )

    [outcome] = retention_apply(now=NOW, kinds=[RetentionKind.INACTIVE_AGENTS])

    assert outcome.count == 1
    left_long_ago.refresh_from_db()
    assert left_long_ago.last_name == pseudonym("agent", left_long_ago.pk)
    assert (left_long_ago.first_name, left_long_ago.mail, left_long_ago.login, left_long_ago.function) == (
        "",
        "",
        "",
        "",
    )
    assert left_long_ago.hr_id == "1" and left_long_ago.collectivity_id == world.member_a.pk
    entry = AuditEntry.objects.get(content_type__model="agent", object_id=str(left_long_ago.pk))
    assert entry.changes == {"last_name": [NEUTRAL_TEXT, NEUTRAL_TEXT], "mail": [NEUTRAL_TEXT, NEUTRAL_TEXT]}
    assert entry.object_repr == f"agent n° {left_long_ago.pk}"
    for agent, name in ((left_recently, "Martin"), (active, "Durand"), (still_signing_in, "Petit")):
        agent.refresh_from_db()
        assert agent.last_name == name


def test_it_drops_addresses_and_names_typed_from_old_login_traces(world):
    old = audit_record(
        actor=None,
        action=AuditAction.LOGIN_FAILED,
        object_repr="jean.dupont",
        changes={"username": [None, "jean.dupont"], "ip_address": [None, "192.0.2.7"]},
    )
    reset = audit_record(
        actor=None,
        action=AuditAction.PASSWORD_RESET_REQUEST,
        obj=world.agent_a,
        changes={"email": [None, "a@alpha.test"], "ip_address": [None, "192.0.2.8"]},
    )
    recent = audit_record(
        actor=None,
        action=AuditAction.LOGIN_FAILED,
        object_repr="luc",
        changes={"username": [None, "luc"], "ip_address": [None, "192.0.2.9"]},
    )
    login = audit_record(actor=world.agent_a, action=AuditAction.LOGIN, obj=world.agent_a)
    AuditEntry.objects.filter(pk__in=[old.pk, reset.pk, login.pk]).update(created_at=at(2025, 11, 1))
    AuditEntry.objects.filter(pk=recent.pk).update(created_at=at(2026, 11, 1))

    [outcome] = retention_apply(now=NOW, kinds=[RetentionKind.LOGIN_TRACES])

    assert outcome.count == 2
    old.refresh_from_db(), reset.refresh_from_db(), recent.refresh_from_db(), login.refresh_from_db()
    assert (old.changes, old.object_repr, old.action) == ({}, "", AuditAction.LOGIN_FAILED)
    assert reset.changes == {} and reset.object_repr == str(world.agent_a)  # tied to an account: its text stays
    assert recent.changes["ip_address"] == [None, "192.0.2.9"]
    assert login.object_repr == str(world.agent_a)
    assert retention_apply(now=NOW, kinds=[RetentionKind.LOGIN_TRACES])[0].count == 0


def test_it_purges_sessions_expired_before_the_cutoff(db):
    for expiry in (at(2026, 12, 4), at(2026, 12, 6)):
        store = SessionStore()
        store["x"] = 1
        store.set_expiry(expiry)
        store.save()
    [outcome] = retention_apply(now=NOW, kinds=[RetentionKind.SESSIONS])
    assert outcome.count == 1
    assert list(Session.objects.values_list("expire_date", flat=True)) == [at(2026, 12, 6)]


def test_it_blanks_senders_and_subjects_of_old_inbound_mail(db):
    old = InboundMail.objects.create(
        message_id="<old@x>", sender="x@y.test", subject="Jean", outcome="refused", reason="inconnu : x@y.test"
    )
    new = InboundMail.objects.create(message_id="<new@x>", sender="z@y.test", subject="Luc", outcome="refused")
    InboundMail.objects.filter(pk=old.pk).update(created_at=at(2025, 1, 1))
    [outcome] = retention_apply(now=NOW, kinds=[RetentionKind.INBOUND_MAIL])
    assert outcome.count == 1
    old.refresh_from_db(), new.refresh_from_db()
    assert (old.message_id, old.sender, old.subject, old.reason) == ("<old@x>", "", "", "")
    assert new.sender == "z@y.test"


def test_it_counts_without_changing_anything_on_a_dry_run(tickets, world):
    RetentionRule.objects.filter(kind=RetentionKind.CLOSED_TICKETS).update(months=24)
    before = list(Ticket.objects.order_by("pk").values_list("title", flat=True))
    out = StringIO()
    call_command("privacy_apply_retention", "--dry-run", stdout=out)
    text = out.getvalue()
    assert "closed_tickets (24 mois" in text and ": 2 à traiter" in text
    assert "essai, rien n'a changé" in text
    assert list(Ticket.objects.order_by("pk").values_list("title", flat=True)) == before
    assert not AuditEntry.objects.filter(content_type__model="retentionrule").exists()
    assert RetentionRule.objects.get(kind=RetentionKind.CLOSED_TICKETS).last_run_at is None


def test_it_runs_from_the_command_and_prints_a_line_per_rule(tickets):
    RetentionRule.objects.filter(kind=RetentionKind.CLOSED_TICKETS).update(months=24)
    out = StringIO()
    call_command("privacy_apply_retention", "--rule", "closed_tickets", stdout=out)
    assert ": 2 traités" in out.getvalue()
    assert "conservation : 2 enregistrement(s) traité(s), 1 règle(s)" in out.getvalue()
    assert Ticket.objects.filter(title=NEUTRAL_TEXT).count() == 2


def test_it_refuses_an_unknown_rule(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="règle inconnue"):
        call_command("privacy_apply_retention", "--rule", "tout")


def test_it_applies_the_default_of_a_rule_whose_row_is_missing(tickets):
    RetentionRule.objects.filter(kind=RetentionKind.CLOSED_TICKETS).delete()
    [outcome] = retention_apply(now=NOW, kinds=[RetentionKind.CLOSED_TICKETS])
    assert outcome.rule.months == 60 and outcome.count == 1
