"""Notification mail, sent after commit through the task backend to a real local SMTP server."""

from __future__ import annotations

import re

import pytest
from django.db import transaction

from mutualis.helpdesk import mail, notifications, services, survey
from mutualis.helpdesk.enums import Action
from mutualis.helpdesk.tests.mailservers import smtp_server_fixture  # noqa: F401 (fixture)
from mutualis.testing import factories as f


@pytest.fixture
def people(world):
    for user, address in (
        (world.agent_a, "agent.a@alpha.test"),
        (world.manager_a, "manager.a@alpha.test"),
        (world.staff, "staff@mutualis.test"),
        (world.admin, "admin@mutualis.test"),
    ):
        user.email = address
        user.save(update_fields=["email"])
    return world


def open_ticket(world, **extra):
    return services.ticket_create(
        actor=world.agent_a,
        collectivity=world.member_a,
        requester=None,
        ticket_type="incident",
        title="Plus d'accès à la messagerie",
        description="Depuis ce matin, **plus rien**.",
        group=world.staff.service,
        **extra,
    )


def test_it_mails_the_requester_and_the_group_once_the_creation_commits(
    people, smtp_server, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        ticket = open_ticket(people)
        assert smtp_server.messages == []  # nothing leaves before the commit
    assert len(smtp_server.messages) == 1
    sent = smtp_server.messages[0]
    assert sorted(sent.rcpt_tos) == ["agent.a@alpha.test", "staff@mutualis.test"]
    assert sent.mail_from == "assistance@mutualis.test"
    assert sent.subject == f"[{ticket.reference}] Demande enregistrée : Plus d'accès à la messagerie"
    assert f"https://mutualis.test/assistance/tickets/{ticket.reference}/" in sent.text
    assert "Collectivité : Alpha" in sent.text
    assert f'href="https://mutualis.test/assistance/tickets/{ticket.reference}/"' in sent.html
    assert sent.message["Auto-Submitted"] == "auto-generated"


def test_it_sends_nothing_when_the_write_rolls_back(people, smtp_server, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        try:
            with transaction.atomic():
                open_ticket(people)
                raise RuntimeError("rollback")
        except RuntimeError:
            pass
    assert callbacks == []
    assert smtp_server.messages == []


def test_it_mails_assignment_followup_and_solution_with_the_reference(
    people, smtp_server, django_capture_on_commit_callbacks
):
    ticket = open_ticket(people)
    with django_capture_on_commit_callbacks(execute=True):
        services.ticket_assign(actor=people.staff, ticket=ticket, group=None, technician=people.admin)
        services.followup_add(actor=people.admin, ticket=ticket, body="Pouvez-vous redémarrer le poste ?")
        services.ticket_transition(
            actor=people.admin, ticket=ticket, action=Action.SOLVE, comment="Mot de passe réinitialisé."
        )
    subjects = [m.subject for m in smtp_server.messages]
    assert subjects == [
        f"[{ticket.reference}] Demande prise en charge : Plus d'accès à la messagerie",
        f"[{ticket.reference}] Nouveau message : Plus d'accès à la messagerie",
        f"[{ticket.reference}] Solution proposée : Plus d'accès à la messagerie",
    ]
    assigned, followup, solved = smtp_server.messages
    assert sorted(assigned.rcpt_tos) == ["admin@mutualis.test", "agent.a@alpha.test"]
    assert "technicien" in assigned.text
    assert "Pouvez-vous redémarrer le poste ?" in followup.text
    assert solved.rcpt_tos == ["agent.a@alpha.test"]  # the solution is for the requester
    assert "Mot de passe réinitialisé." in solved.text


def test_it_never_mails_members_a_private_followup(people, smtp_server, django_capture_on_commit_callbacks):
    ticket = open_ticket(people, watchers=[people.manager_a])
    with django_capture_on_commit_callbacks(execute=True):
        services.followup_add(actor=people.staff, ticket=ticket, body="Note interne : éditeur relancé", is_private=True)
        services.followup_add(actor=people.staff, ticket=ticket, body="Nous relançons l'éditeur.")
    assert len(smtp_server.messages) == 1
    assert "Note interne" not in smtp_server.messages[0].text
    for address in ("agent.a@alpha.test", "manager.a@alpha.test"):
        assert all("Note interne" not in m.text for m in smtp_server.to(address))


def test_it_sends_the_closure_with_the_survey_link_to_the_requester_only(
    people, smtp_server, django_capture_on_commit_callbacks, monkeypatch
):
    ticket = open_ticket(people, watchers=[people.manager_a])
    services.ticket_transition(actor=people.staff, ticket=ticket, action=Action.SOLVE, comment="Réglé.")
    monkeypatch.setattr(mail, "survey_link", lambda t: f"https://mutualis.test/assistance/enquete/jeton-{t.reference}/")
    with django_capture_on_commit_callbacks(execute=True):
        services.ticket_transition(actor=people.agent_a, ticket=ticket, action=Action.ACCEPT)
    to_requester = smtp_server.to("agent.a@alpha.test")
    to_watcher = smtp_server.to("manager.a@alpha.test")
    assert len(to_requester) == len(to_watcher) == 1
    assert to_requester[0].subject == f"[{ticket.reference}] Demande close : Plus d'accès à la messagerie"
    survey = f"https://mutualis.test/assistance/enquete/jeton-{ticket.reference}/"
    assert survey in to_requester[0].text
    assert f'href="{survey}"' in to_requester[0].html
    assert "enquete" not in to_watcher[0].text


def test_it_puts_a_working_survey_link_in_the_closure_mail(people, smtp_server, django_capture_on_commit_callbacks):
    ticket = open_ticket(people)
    services.ticket_transition(actor=people.staff, ticket=ticket, action=Action.SOLVE, comment="Réglé.")
    with django_capture_on_commit_callbacks(execute=True):
        services.ticket_transition(actor=people.staff, ticket=ticket, action=Action.CLOSE)
    (closed,) = smtp_server.to("agent.a@alpha.test")
    match = re.search(r"https://mutualis\.test/assistance/enquete/([^/\s]+)/", closed.text)
    assert match, closed.text
    assert survey.survey_ticket(match.group(1)) == ticket


def test_it_mails_an_escalation_to_the_group_not_to_members(people, smtp_server, django_capture_on_commit_callbacks):
    import datetime as dt

    from django.utils import timezone

    ticket = open_ticket(people, watchers=[people.manager_a], blocking=True, urgency=5, impact=5)
    assert ticket.ttr_budget_s
    with django_capture_on_commit_callbacks(execute=True):
        events = services.sla_escalate(now=timezone.now() + dt.timedelta(days=30))
    assert events >= 1
    assert smtp_server.messages
    for sent in smtp_server.messages:
        assert sent.rcpt_tos == ["staff@mutualis.test"]
        assert sent.subject.startswith(f"[{ticket.reference}] Alerte de délai")
        assert f"/assistance/tickets/{ticket.reference}/" in sent.text


def test_it_leaves_out_inactive_accounts_and_accounts_without_mail(people):
    ticket = open_ticket(people)
    gone = f.UserFactory(username="gone", organisation=people.member_a, email="gone@alpha.test", is_active=False)
    ticket.watchers.add(gone, people.elected_a)  # elected_a has no address
    assert notifications.recipients(ticket, "followup") == ["agent.a@alpha.test", "staff@mutualis.test"]


def test_it_queues_the_mail_as_a_task_on_the_database_backend(people, settings, django_capture_on_commit_callbacks):
    from django_tasks_db.models import DBTaskResult

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        ticket = open_ticket(people)
    # An outbox: the job row is written in the ticket's own transaction, not after its commit.
    assert callbacks == []
    job = DBTaskResult.objects.get()
    assert job.task_path == "mutualis.helpdesk.tasks.deliver_notification"
    (notification,) = ticket.notifications.all()  # the outbox row, in the same transaction
    assert (notification.event, notification.summary) == ("created", f"Nouveau ticket {ticket.reference}")
    assert job.args_kwargs["args"] == [notification.pk]


def test_a_rolled_back_write_leaves_no_job_on_the_database_backend(people, settings):
    from django.db import transaction
    from django_tasks_db.models import DBTaskResult

    from mutualis.helpdesk.models import Ticket

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}

    class Undo(Exception):
        pass

    tickets = Ticket.objects.count()
    with pytest.raises(Undo), transaction.atomic():
        open_ticket(people)
        assert DBTaskResult.objects.count() == 1
        raise Undo
    assert not DBTaskResult.objects.exists()
    assert Ticket.objects.count() == tickets


# The worker closes stale connections between tasks: it needs real commits, not the test's
# enclosing transaction.
@pytest.mark.django_db(transaction=True)
def test_it_sends_the_queued_mail_when_the_worker_runs(people, settings, smtp_server):
    from django.core.management import call_command
    from django_tasks_db.models import DBTaskResult

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
    ticket = open_ticket(people)
    assert smtp_server.messages == []
    assert DBTaskResult.objects.get().status == "READY"
    call_command("db_worker", "--batch", "--no-startup-delay", "--interval", "0")
    (sent,) = smtp_server.messages
    assert sent.subject.startswith(f"[{ticket.reference}]")
    assert DBTaskResult.objects.get().status == "SUCCESSFUL"


def test_a_private_transition_comment_stays_with_the_operator(people, smtp_server, django_capture_on_commit_callbacks):
    from mutualis.helpdesk import selectors
    from mutualis.helpdesk.enums import Action

    with django_capture_on_commit_callbacks(execute=True):
        ticket = open_ticket(people)
        services.ticket_assign(actor=people.staff, ticket=ticket, group=None, technician=people.staff)
    smtp_server.clear()
    secret = "Ticket éditeur 4711 : correctif attendu vendredi"
    with django_capture_on_commit_callbacks(execute=True):
        services.ticket_transition(
            actor=people.staff,
            ticket=ticket,
            action=Action.WAIT,
            pending_reason="vendor",
            comment=secret,
            is_private=True,
        )
    # The staff see it; the collectivity neither on the ticket nor in any mail.
    assert [f.body for f in selectors.followups_for(actor=people.staff, ticket=ticket)][-1] == secret
    assert secret not in [f.body for f in selectors.followups_for(actor=people.agent_a, ticket=ticket)]
    assert all(secret not in message.text for message in smtp_server.messages)


def test_a_solution_cannot_be_private_nor_a_member_write_a_private_comment(people):
    from django.core.exceptions import PermissionDenied, ValidationError

    from mutualis.helpdesk.enums import Action

    ticket = open_ticket(people)
    services.ticket_assign(actor=people.staff, ticket=ticket, group=None, technician=people.staff)
    with pytest.raises(ValidationError, match="ne peut pas être privée"):
        services.ticket_transition(
            actor=people.staff, ticket=ticket, action=Action.SOLVE, comment="Redémarré", is_private=True
        )
    with pytest.raises(PermissionDenied):
        services.ticket_transition(
            actor=people.agent_a, ticket=ticket, action=Action.WAIT, comment="x", is_private=True
        )
