"""The notification outbox: a failed mail is retried with backoff, then shown to operator admins
with a « Réessayer » action; a notification never leaves twice."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from mutualis.core.models import AuditEntry
from mutualis.helpdesk import outbox, services, tasks
from mutualis.helpdesk.enums import Action
from mutualis.helpdesk.models import Notification
from mutualis.helpdesk.tests.mailservers import free_port, smtp_server_fixture  # noqa: F401 (fixture)
from mutualis.helpdesk.tests.test_mail_notifications import open_ticket

DATABASE_BACKEND = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}


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


@pytest.fixture
def clock(monkeypatch):
    """Moves Django's clock (timezone.now, read by the outbox and by the worker's "ready"
    query) forward on demand."""

    class Clock:
        offset = dt.timedelta()

        def advance(self, **delta: float) -> None:
            self.offset += dt.timedelta(**delta)

    clock = Clock()
    real_now = timezone.now
    monkeypatch.setattr(timezone, "now", lambda: real_now() + clock.offset)
    return clock


def run_worker() -> None:
    call_command("db_worker", "--batch", "--no-startup-delay", "--interval", "0", verbosity=0)


def smtp_down(settings) -> int:
    """Point Django at a port nobody listens on; returns the real server's port."""
    port = settings.EMAIL_PORT
    settings.EMAIL_PORT = free_port()
    return port


# The worker closes stale connections between tasks: real commits, not the test's transaction.
@pytest.mark.django_db(transaction=True)
def test_it_retries_a_failed_mail_with_backoff_then_shows_it_failed_until_retried(
    people, settings, smtp_server, clock, client
):
    settings.TASKS = DATABASE_BACKEND
    settings.HELPDESK_MAIL_MAX_TRIES = 3
    port = smtp_down(settings)
    ticket = open_ticket(people)
    (notification,) = Notification.objects.filter(ticket=ticket)

    run_worker()
    notification.refresh_from_db()
    assert (notification.status, notification.tries) == ("pending", 1)
    assert "ConnectionRefusedError" in notification.last_error
    assert notification.next_attempt_at == pytest.approx(
        timezone.now() + dt.timedelta(minutes=1), abs=dt.timedelta(seconds=5)
    )

    clock.advance(seconds=30)  # not yet due: the worker leaves it
    run_worker()
    notification.refresh_from_db()
    assert notification.tries == 1

    clock.advance(seconds=31)
    run_worker()
    notification.refresh_from_db()
    assert (notification.status, notification.tries) == ("pending", 2)
    assert notification.next_attempt_at == pytest.approx(
        timezone.now() + dt.timedelta(minutes=5), abs=dt.timedelta(seconds=5)
    )

    clock.advance(minutes=5, seconds=1)
    run_worker()
    notification.refresh_from_db()
    assert (notification.status, notification.tries) == ("failed", 3)  # HELPDESK_MAIL_MAX_TRIES
    assert not DBTaskResult.objects.ready().exists()  # given up: nothing more queued
    assert smtp_server.messages == []

    client.force_login(people.admin)
    page = client.get(reverse("helpdesk:notification_failures"))
    assert page.status_code == 200
    body = page.content.decode()
    assert ticket.reference in body
    assert "ConnectionRefusedError" in body
    assert "agent.a@alpha.test" in body and "staff@mutualis.test" in body
    assert "<td>3</td>" in body

    settings.EMAIL_PORT = port  # SMTP is back
    response = client.post(reverse("helpdesk:notification_retry", kwargs={"pk": notification.pk}))
    assert response.status_code == 302
    entry = AuditEntry.objects.get(content_type__model="notification", object_id=str(notification.pk))
    assert entry.changes == {"status": ["failed", "pending"], "tries": [3, 0]}
    run_worker()

    (sent,) = smtp_server.messages
    assert sent.subject.startswith(f"[{ticket.reference}] Demande enregistrée")
    notification.refresh_from_db()
    assert notification.status == "sent"
    after = client.get(reverse("helpdesk:notification_failures")).content.decode()
    assert f"La notification du ticket {ticket.reference} est remise en file d&#x27;envoi." in after
    assert "Aucune notification en échec." in after


def test_it_sends_a_notification_once_however_often_its_task_runs(
    people, smtp_server, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        ticket = open_ticket(people)
    (notification,) = Notification.objects.filter(ticket=ticket)
    assert notification.status == "sent"
    assert len(smtp_server.messages) == 1

    tasks.deliver_notification.enqueue(notification.pk)  # the same task, run again
    tasks.deliver_notification.enqueue(notification.pk)
    assert outbox.notification_deliver(notification_id=notification.pk, job_id="another-job") == 0

    assert len(smtp_server.messages) == 1


def test_a_notification_being_sent_by_another_job_is_left_to_it(people, smtp_server, settings):
    settings.TASKS = DATABASE_BACKEND  # queued, not run at once
    ticket = open_ticket(people)
    (notification,) = Notification.objects.filter(ticket=ticket)
    Notification.objects.filter(pk=notification.pk).update(
        status="sending", claimed_by="job-a", claimed_at=timezone.now()
    )

    assert outbox.notification_deliver(notification_id=notification.pk, job_id="job-b") == 0
    assert smtp_server.messages == []
    # The same job, requeued after its worker died, takes it back and sends it.
    assert outbox.notification_deliver(notification_id=notification.pk, job_id="job-a") == 1
    assert len(smtp_server.messages) == 1


def test_a_retry_after_a_partial_send_mails_only_those_who_did_not_get_it(
    people, smtp_server, django_capture_on_commit_callbacks, monkeypatch
):
    from mutualis.helpdesk import mail

    ticket = open_ticket(people, watchers=[people.manager_a])
    services.ticket_transition(actor=people.staff, ticket=ticket, action=Action.SOLVE, comment="Réglé.")
    monkeypatch.setattr(mail, "survey_link", lambda t: "https://mutualis.test/assistance/enquete/jeton/")
    smtp_server.clear()
    accept = type(smtp_server).handle_DATA.__get__(smtp_server)

    async def refuse_the_watchers(server, session, envelope):
        if "manager.a@alpha.test" in envelope.rcpt_tos:
            return "451 4.3.0 Mailbox busy, try again later"
        return await accept(server, session, envelope)

    # Two batches at closure (the requester's carries the survey link): the second one fails.
    smtp_server.handle_DATA = refuse_the_watchers
    with django_capture_on_commit_callbacks(execute=True):
        services.ticket_transition(actor=people.agent_a, ticket=ticket, action=Action.ACCEPT)
    notification = Notification.objects.get(ticket=ticket, event="closed")
    # The test settings' immediate backend cannot defer a retry: failed at once, for an admin.
    assert notification.status == "failed"
    assert notification.sent_to == ["agent.a@alpha.test"]
    assert [m.rcpt_tos for m in smtp_server.messages] == [["agent.a@alpha.test"]]

    smtp_server.handle_DATA = accept
    with django_capture_on_commit_callbacks(execute=True):
        outbox.notification_retry(actor=people.admin, notification=notification)

    assert [m.rcpt_tos for m in smtp_server.messages] == [["agent.a@alpha.test"], ["manager.a@alpha.test"]]
    notification.refresh_from_db()
    assert notification.status == "sent"
    assert notification.recipients == ["agent.a@alpha.test", "manager.a@alpha.test"]


@pytest.mark.parametrize("who", ["staff", "agent_a", "manager_a", "elected_a"])
def test_only_operator_admins_see_or_retry_failed_notifications(people, client, who):
    ticket = open_ticket(people)
    notification = Notification.objects.get(ticket=ticket)
    Notification.objects.filter(pk=notification.pk).update(status="failed", tries=5, last_error="SMTPDataError")
    client.force_login(getattr(people, who))

    assert client.get(reverse("helpdesk:notification_failures")).status_code == 404
    assert client.post(reverse("helpdesk:notification_retry", kwargs={"pk": notification.pk})).status_code == 404
    notification.refresh_from_db()
    assert notification.status == "failed"


def test_anonymous_visitors_are_sent_to_login(client):
    response = client.get(reverse("helpdesk:notification_failures"))
    assert response.status_code == 302 and "/comptes/connexion/" in response["Location"]


def test_operator_admins_find_the_page_from_the_helpdesk_configuration(people, client):
    link = reverse("helpdesk:notification_failures")
    client.force_login(people.admin)
    assert link in client.get(reverse("helpdesk:config")).content.decode()
    client.force_login(people.staff)
    assert link not in client.get(reverse("helpdesk:config")).content.decode()


def test_a_notification_whose_job_was_given_up_is_shown_and_can_be_retried(people, settings, smtp_server, client):
    """The reaper marks a job lost twice FAILED; its notification, left « being sent », must not
    be forgotten."""
    settings.TASKS = DATABASE_BACKEND
    settings.TASKS_STALE_AFTER = 600
    ticket = open_ticket(people)
    notification = Notification.objects.get(ticket=ticket)
    Notification.objects.filter(pk=notification.pk).update(
        status="sending", claimed_by="lost-job", claimed_at=timezone.now() - dt.timedelta(minutes=11)
    )
    client.force_login(people.admin)
    body = client.get(reverse("helpdesk:notification_failures")).content.decode()
    assert ticket.reference in body and "Envoi interrompu" in body

    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend", "QUEUES": ["default"]}}
    outbox.notification_retry(actor=people.admin, notification=notification)
    notification.refresh_from_db()
    assert notification.status == "pending"  # sent once the retry's transaction commits


def test_a_job_queued_by_the_first_release_still_sends_its_mail_once(people, smtp_server):
    ticket = open_ticket(people)
    smtp_server.clear()

    tasks.send_notification.enqueue(ticket.pk, "followup", "Ancien message en file")

    (sent,) = smtp_server.messages
    assert "Nouveau message" in sent.subject
    assert Notification.objects.get(ticket=ticket, event="followup").key.startswith("job-")


@pytest.mark.django_db(transaction=True)
def test_an_smtp_server_that_stops_answering_is_retried_not_waited_for(people, settings, smtp_server):
    import socket

    # Django's default is to wait for ever: the worker would hang with its job « running ».
    assert 0 < settings.EMAIL_TIMEOUT < settings.TASKS_STALE_AFTER
    settings.TASKS = DATABASE_BACKEND
    settings.EMAIL_TIMEOUT = 1
    with socket.socket() as silent:  # accepts connections (backlog), never says a word
        silent.bind(("127.0.0.1", 0))
        silent.listen(5)
        settings.EMAIL_PORT = silent.getsockname()[1]
        ticket = open_ticket(people)
        run_worker()

    notification = Notification.objects.get(ticket=ticket)
    assert (notification.status, notification.tries) == ("pending", 1)
    assert "timed out" in notification.last_error
    assert DBTaskResult.objects.filter(status="READY").count() == 1  # the retry, deferred
