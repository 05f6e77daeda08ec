"""Inbound mail: `mutualis helpdesk_ingest_email < message.eml`."""

from __future__ import annotations

import io
from email.message import EmailMessage

import pytest
from django.core.management import CommandError, call_command

from mutualis.core.models import AuditEntry
from mutualis.helpdesk import services
from mutualis.helpdesk.enums import Action, Source, Status
from mutualis.helpdesk.models import InboundMail, Ticket
from mutualis.helpdesk.tests.mailservers import smtp_server_fixture  # noqa: F401 (fixture)
from mutualis.testing import factories as f


@pytest.fixture
def people(world):
    for user, address in (
        (world.agent_a, "Agent.A@Alpha.test"),
        (world.manager_a, "manager.a@alpha.test"),
        (world.manager_b, "manager.b@bravo.test"),
        (world.staff, "staff@mutualis.test"),
        (world.elected_a, "elu@alpha.test"),
    ):
        user.email = address
        user.save(update_fields=["email"])
    return world


def eml(
    *,
    sender="agent.a@alpha.test",
    subject="Imprimante en panne",
    body="L'imprimante du 2e étage ne répond plus.",
    message_id="<m1@alpha.test>",
    attachments=(),
    html=None,
    headers=None,
) -> bytes:
    message = EmailMessage()
    message["From"] = f"Agent A <{sender}>"
    message["To"] = "assistance@mutualis.test"
    message["Subject"] = subject
    if message_id:
        message["Message-ID"] = message_id
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(body)
    if html:
        message.add_alternative(html, subtype="html")
    for name, data, mime in attachments:
        maintype, subtype = mime.split("/")
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return message.as_bytes()


def ingest(raw: bytes) -> str:
    out = io.StringIO()
    call_command("helpdesk_ingest_email", stdin=io.BytesIO(raw), stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_it_opens_a_request_for_a_known_sender_matched_whatever_the_case(people):
    output = ingest(eml(attachments=[("capture.png", b"\x89PNG\r\n\x1a\nxxxx", "image/png")]))
    ticket = Ticket.objects.get()
    assert "courriel demande créée" in output and ticket.reference in output
    assert ticket.requester == people.agent_a
    assert ticket.collectivity == people.member_a
    assert ticket.ticket_type == "request"
    assert ticket.source == Source.MAIL
    assert ticket.title == "Imprimante en panne"
    assert "2e étage" in ticket.description
    (attachment,) = ticket.attachments.all()
    assert attachment.name == "capture.png"
    assert attachment.file.read() == b"\x89PNG\r\n\x1a\nxxxx"


def test_it_adds_a_followup_when_the_subject_carries_a_visible_reference(people):
    ticket = services.ticket_create(
        actor=people.agent_a,
        collectivity=people.member_a,
        requester=None,
        ticket_type="incident",
        title="Messagerie",
        description="plus d'accès",
    )
    services.ticket_transition(actor=people.staff, ticket=ticket, action=Action.WAIT, pending_reason="requester")
    raw = eml(
        subject=f"RE: [{ticket.reference}] Nouveau message : Messagerie", body="Voici la capture.\n\n> ancien texte"
    )
    ingest(raw)
    assert Ticket.objects.count() == 1
    followup = ticket.followups.get(source=Source.MAIL)
    assert followup.author == people.agent_a
    assert "> ancien texte" in followup.body  # quoted replies are kept as they are
    ticket.refresh_from_db()
    assert ticket.status == Status.IN_PROGRESS  # the requester's answer resumed it


def test_it_opens_a_new_linked_ticket_when_the_reply_is_to_a_closed_one(people):
    old = services.ticket_create(
        actor=people.agent_a,
        collectivity=people.member_a,
        requester=None,
        ticket_type="incident",
        title="Messagerie",
        description="plus d'accès",
    )
    services.ticket_transition(actor=people.staff, ticket=old, action=Action.SOLVE, comment="ok")
    services.ticket_transition(actor=people.agent_a, ticket=old, action=Action.ACCEPT)
    output = ingest(eml(subject=f"Re: [{old.reference}] Demande close : Messagerie", body="Ça recommence."))
    new = Ticket.objects.exclude(pk=old.pk).get()
    assert new.linked_to == old
    assert new.title == "Messagerie"
    assert f"liée à {old.reference}" in output
    old.refresh_from_db()
    assert old.status == Status.CLOSED and old.reopen_count == 0
    assert not old.followups.filter(source=Source.MAIL).exists()


def test_it_does_not_follow_up_a_ticket_the_sender_may_not_see(people):
    theirs = services.ticket_create(
        actor=people.manager_b,
        collectivity=people.member_b,
        requester=None,
        ticket_type="incident",
        title="Bravo",
        description="x",
    )
    ingest(eml(subject=f"[{theirs.reference}] Bravo"))
    assert not theirs.followups.exists()
    mine = Ticket.objects.exclude(pk=theirs.pk).get()
    assert mine.collectivity == people.member_a and mine.linked_to is None


def test_it_refuses_an_unknown_sender_logs_it_and_writes_no_ticket(people, caplog):
    with pytest.raises(CommandError, match="expéditeur inconnu : intrus@example.org"):
        ingest(eml(sender="intrus@example.org", message_id="<x@example.org>"))
    assert not Ticket.objects.exists()
    refused = InboundMail.objects.get()
    assert (refused.outcome, refused.sender, refused.message_id) == ("refused", "intrus@example.org", "<x@example.org>")
    assert "expéditeur inconnu" in refused.reason
    assert not AuditEntry.objects.filter(via="mail").exists()  # the audit log is not a mail register
    assert "refused" in caplog.text and "intrus@example.org" in caplog.text


def test_it_refuses_an_inactive_account_and_a_read_only_one(people):
    f.UserFactory(username="parti", organisation=people.member_a, email="parti@alpha.test", is_active=False)
    with pytest.raises(CommandError, match="expéditeur inconnu"):
        ingest(eml(sender="parti@alpha.test"))
    with pytest.raises(CommandError, match="lecture seule"):
        ingest(eml(sender="elu@alpha.test", message_id="<m2@alpha.test>"))
    assert not Ticket.objects.exists()


def test_it_drops_an_executable_attachment_with_a_note_and_keeps_the_rest(people):
    ingest(
        eml(
            attachments=[
                ("facture.pdf", b"%PDF-1.4 test", "application/pdf"),
                ("outil.exe", b"MZ\x90\x00rest", "application/octet-stream"),
                ("photo.jpg", b"MZ-disguised", "image/jpeg"),
            ]
        )
    )
    ticket = Ticket.objects.get()
    assert [a.name for a in ticket.attachments.all()] == ["facture.pdf"]
    assert "Pièce jointe écartée : « outil.exe » : les exécutables sont refusés" in ticket.description
    assert "« photo.jpg »" in ticket.description


def test_it_handles_a_message_only_once_by_message_id(people):
    raw = eml()
    ingest(raw)
    output = ingest(raw)
    assert "courriel doublon" in output
    assert Ticket.objects.count() == 1


def test_it_ignores_automatic_replies_to_avoid_mail_loops(people):
    output = ingest(eml(headers={"Auto-Submitted": "auto-replied"}, subject="Absence du bureau"))
    assert "courriel ignoré" in output
    assert not Ticket.objects.exists()


def test_it_reads_an_html_only_message_as_text(people):
    message = EmailMessage()
    message["From"] = "agent.a@alpha.test"
    message["Subject"] = "Lien cassé"
    message["Message-ID"] = "<html@alpha.test>"
    message.set_content("<p>Le lien <b>ne marche pas</b><script>alert(1)</script></p>", subtype="html")
    ingest(message.as_bytes())
    ticket = Ticket.objects.get()
    assert "Le lien ne marche pas" in ticket.description
    assert "<b>" not in ticket.description and "<script>" not in ticket.description


def test_it_refuses_a_description_over_the_limit_and_writes_nothing(people, settings):
    settings.HELPDESK_MAX_TEXT_BYTES = 1000
    with pytest.raises(CommandError, match="texte trop long"):
        ingest(eml(body="x" * 2000))
    assert not Ticket.objects.exists()


def test_it_says_what_to_do_with_an_empty_input(people):
    with pytest.raises(CommandError, match="aucun message"):
        ingest(b"")


def test_it_mails_the_requester_about_the_ticket_opened_by_mail(
    people, smtp_server, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        ingest(eml())
    ticket = Ticket.objects.get()
    (sent,) = smtp_server.to("Agent.A@Alpha.test")
    assert sent.subject.startswith(f"[{ticket.reference}] Demande enregistrée")
    # Answering that mail adds a followup to the same ticket.
    with django_capture_on_commit_callbacks(execute=True):
        ingest(eml(subject=f"Re: {sent.subject}", body="Merci !", message_id="<m9@alpha.test>"))
    assert ticket.followups.get().body == "Merci !"


def test_it_prints_the_outcome_in_french(people):
    first = ingest(eml())
    again = ingest(eml())

    assert first.startswith("courriel demande créée : ")
    assert again.startswith("courriel doublon : ")
    assert "duplicate" not in again and "created" not in first
