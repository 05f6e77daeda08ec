"""Secure mail: a link to a receipt page, never the file; the receipt recorded once; reminders then
« non reçu »; one mail per idempotency key, whatever runs it twice."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse

from mutualis.core.models import AuditEntry
from mutualis.flows import mailsec
from mutualis.flows.adapters.mailsec import SecureMailAdapter
from mutualis.flows.mailsec_models import MailState, SecureMail
from mutualis.flows.ports import FileToSend, RecoverableError, RemoteState, UnrecoverableError
from mutualis.flows.tests.payroll import PayslipPage, payroll_pdf
from mutualis.helpdesk.tests.mailservers import smtp_server_fixture  # noqa: F401 - the real SMTP server

pytestmark = pytest.mark.django_db

PDF = payroll_pdf([PayslipPage("A001", "Ada Lovelace")])
T0 = dt.datetime(2026, 11, 30, 8, 0, tzinfo=dt.UTC)
LINK = re.compile(r"https?://\S+/flux/courrier/([0-9a-f]{64})/")


@pytest.fixture(autouse=True)
def fresh_connection():
    """The SMTP connection is kept per thread from mail to mail: each test starts with its settings'."""
    mailsec._drop_connection()
    yield
    mailsec._drop_connection()


def adapter(**config: str) -> SecureMailAdapter:
    return SecureMailAdapter.from_config({"sender": "Mairie d'Alpha, service RH", **config})


def send(key: str = "7:mailsec", to: str = "ada@alpha.test") -> str:
    return adapter().send(
        to=to,
        subject="Votre bulletin de paie de novembre 2026",
        body="Bonjour Ada,",
        file=FileToSend("bulletin-2026-11-A001.pdf", PDF),
        idempotency_key=key,
    )


def token_of(message) -> str:
    match = LINK.search(message.body)
    assert match, message.body
    return match.group(1)


def test_it_mails_a_link_to_the_receipt_page_and_never_the_file(mailoutbox):
    remote_id = send()
    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == ["ada@alpha.test"]
    assert message.subject == "Votre bulletin de paie de novembre 2026"
    assert message.attachments == []
    assert b"%PDF" not in message.message().as_bytes()
    row = SecureMail.objects.get(pk=int(remote_id))
    assert row.state == MailState.SENT and row.sent_at is not None
    # Only the token's digest is stored: the row alone gives no working link.
    assert token_of(message) not in {row.token_digest, row.idempotency_key}
    assert mailsec.token_digest(token_of(message)) == row.token_digest


def test_it_sends_one_mail_when_the_job_runs_twice(mailoutbox):
    first = send()
    second = send()
    assert first == second
    assert len(mailoutbox) == 1
    assert SecureMail.objects.count() == 1


def test_another_key_is_another_mail_with_another_link(mailoutbox):
    send("7:mailsec")
    send("8:mailsec")
    assert len(mailoutbox) == 2
    assert token_of(mailoutbox[0]) != token_of(mailoutbox[1])


def test_the_receipt_page_shows_who_sent_what_and_records_nothing(client, mailoutbox):
    send()
    url = reverse("flows:mailsec_receipt", args=[token_of(mailoutbox[0])])
    response = client.get(url)
    page = response.content.decode()
    assert response.status_code == 200
    assert "Mairie d&#x27;Alpha, service RH" in page and "bulletin-2026-11-A001.pdf" in page
    assert "Votre bulletin de paie de novembre 2026" in page
    assert response["Cache-Control"] == "no-store"
    assert SecureMail.objects.get().received_at is None  # a mail scanner opening the link is no receipt


def test_the_first_download_records_the_receipt_once(client, mailoutbox):
    remote_id = send()
    download = reverse("flows:mailsec_download", args=[token_of(mailoutbox[0])])
    response = client.post(download, REMOTE_ADDR="192.0.2.7")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    row = SecureMail.objects.get()
    assert row.state == MailState.RECEIVED and row.received_at is not None
    assert row.receipt_ip_hash == mailsec.ip_digest("192.0.2.7") and "192.0.2.7" not in row.receipt_ip_hash
    first_at = row.received_at
    assert client.post(download, REMOTE_ADDR="198.51.100.1").status_code == 200
    row.refresh_from_db()
    assert row.received_at == first_at and row.receipt_ip_hash == mailsec.ip_digest("192.0.2.7")
    assert AuditEntry.objects.filter(object_id=str(row.pk), changes__has_key="received_at").count() == 1
    outcome = adapter().poll(remote_id)
    assert outcome.state == RemoteState.DONE
    assert b"192.0.2.7" not in outcome.proofs["accuse-de-reception.txt"]


def test_an_unknown_token_is_404_and_a_get_never_downloads(client, mailoutbox):
    send()
    assert client.get(reverse("flows:mailsec_receipt", args=["0" * 64])).status_code == 404
    assert client.post(reverse("flows:mailsec_download", args=["0" * 64])).status_code == 404
    assert client.get(reverse("flows:mailsec_download", args=[token_of(mailoutbox[0])])).status_code == 405


def test_it_reminds_after_n_days_then_closes_as_not_received(mailoutbox):
    remote_id = adapter(reminder_days="3", max_reminders="2").send(
        to="ada@alpha.test", subject="Bulletin", body="", file=FileToSend("b.pdf", PDF), idempotency_key="k"
    )
    SecureMail.objects.update(sent_at=T0, last_sent_at=T0)
    assert mailsec.secure_mail_remind(now=T0 + dt.timedelta(days=2, hours=23)).reminded == 0
    assert len(mailoutbox) == 1
    day3 = T0 + dt.timedelta(days=3)
    assert mailsec.secure_mail_remind(now=day3).reminded == 1
    assert mailsec.secure_mail_remind(now=day3).reminded == 0  # the sweep run twice: one reminder
    assert len(mailoutbox) == 2 and mailoutbox[1].subject == "Rappel : Bulletin"
    assert token_of(mailoutbox[1]) == token_of(mailoutbox[0]) and mailoutbox[1].attachments == []
    assert adapter().poll(remote_id).state == RemoteState.PENDING
    assert mailsec.secure_mail_remind(now=day3 + dt.timedelta(days=3)).reminded == 1
    result = mailsec.secure_mail_remind(now=day3 + dt.timedelta(days=6))
    assert (result.reminded, result.not_received) == (0, 1)
    assert len(mailoutbox) == 3
    row = SecureMail.objects.get()
    assert row.state == MailState.NOT_RECEIVED and row.reminders_sent == 2
    outcome = adapter().poll(remote_id)
    assert outcome.state == RemoteState.REJECTED and "2 relance" in outcome.message


def test_a_mail_fetched_is_not_reminded(client, mailoutbox):
    send()
    client.post(reverse("flows:mailsec_download", args=[token_of(mailoutbox[0])]))
    SecureMail.objects.update(last_sent_at=T0)
    assert mailsec.secure_mail_remind(now=T0 + dt.timedelta(days=30)) == mailsec.RemindResult(0, 0, 0)
    assert len(mailoutbox) == 1


def test_the_remind_command_is_registered_with_the_scheduler():
    from mutualis.core.scheduler import job_get

    job = job_get("flows_mailsec_remind")
    assert job is not None and job.command == "flows_mailsec_remind"


def test_an_smtp_server_down_is_retried_and_then_sends_once(settings, mailoutbox):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2  # discard: refused
    with pytest.raises(RecoverableError):
        send()
    assert SecureMail.objects.get().state == MailState.NEW
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    mailsec._drop_connection()
    send()
    assert len(mailoutbox) == 1 and SecureMail.objects.get().state == MailState.SENT


def test_a_send_interrupted_mid_way_is_never_sent_again(mailoutbox):
    send()
    mailoutbox.clear()
    SecureMail.objects.update(state=MailState.SENDING, sending_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=6))
    with pytest.raises(UnrecoverableError, match="peut-être"):
        send()
    assert SecureMail.objects.get().state == MailState.UNCERTAIN
    with pytest.raises(UnrecoverableError):
        send()
    assert mailoutbox == []


def test_a_send_in_progress_elsewhere_is_tried_later(mailoutbox):
    send()
    mailoutbox.clear()
    SecureMail.objects.update(state=MailState.SENDING, sending_at=dt.datetime.now(dt.UTC))
    with pytest.raises(RecoverableError):
        send()
    assert mailoutbox == []


def test_a_withdrawn_mail_says_so(client, mailoutbox):
    remote_id = send()
    adapter().cancel(remote_id)
    token = token_of(mailoutbox[0])
    assert client.get(reverse("flows:mailsec_receipt", args=[token])).status_code == 410
    assert client.post(reverse("flows:mailsec_download", args=[token])).status_code == 404
    assert adapter().poll(remote_id).state == RemoteState.CANCELLED


def test_a_recipient_without_address_is_refused_for_good(mailoutbox):
    with pytest.raises(UnrecoverableError):
        send(to="")
    assert mailoutbox == []


def test_bad_reminder_settings_are_named():
    with pytest.raises(UnrecoverableError, match="Jours avant relance"):
        adapter(reminder_days="trois")


def test_it_goes_through_a_real_smtp_server_as_a_plain_text_mail_without_attachment(smtp_server):
    mailsec._drop_connection()
    send("1:mailsec", to="ada@alpha.test")
    send("2:mailsec", to="bob@alpha.test")
    send("1:mailsec", to="ada@alpha.test")
    mailsec._drop_connection()
    assert sorted(m.rcpt_tos[0] for m in smtp_server.messages) == ["ada@alpha.test", "bob@alpha.test"]
    for received in smtp_server.messages:
        assert not received.message.is_multipart()
        assert received.message.get_content_type() == "text/plain"
        assert "https://mutualis.test/flux/courrier/" in received.text
        assert received.message["Auto-Submitted"] == "auto-generated"
