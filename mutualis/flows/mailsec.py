"""Secure mail: a document sent to a person as a link to a receipt page, never as an attachment.

The link holds a token that is the HMAC of the mail's idempotency key under the secret key: the same
mail always has the same link (a reminder repeats it), and only its digest is stored. The receipt
page needs no account; the first download records the receipt (date, digest of the address). A mail
not fetched is reminded every `reminder_days` days, `max_reminders` times, then closed as « non
reçu » by the daily sweep `mutualis flows_mailsec_remind` (registered with the scheduler).

Each send is claimed by a conditional UPDATE before the SMTP call (new → sending): a job run twice,
or two workers on the same mail, send one mail. A worker killed between the claim and the SMTP
server's answer leaves the mail « envoi interrompu »: it is NOT sent again by itself — it may have
left — and the document stops in error for a person to decide.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import logging
import smtplib
import threading
from dataclasses import dataclass

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.mail import EmailMessage, get_connection
from django.db import IntegrityError, transaction
from django.db import connection as db_connection
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from mutualis.core.audit import audit_record
from mutualis.core.models import AuditAction
from mutualis.core.timefmt import local_datetime
from mutualis.flows.mailsec_models import MailState, SecureMail
from mutualis.flows.ports import FileToSend, RecoverableError, UnrecoverableError

logger = logging.getLogger("mutualis.flows.mailsec")

# A claim older than this whose sender never answered is taken as dead (the SMTP timeout is 30 s).
SENDING_STALE_AFTER = dt.timedelta(minutes=5)
_TOKEN_SALT = "mutualis.flows.mailsec.token"
_IP_SALT = "mutualis.flows.mailsec.ip"


def token_for(idempotency_key: str) -> str:
    return salted_hmac(_TOKEN_SALT, idempotency_key, algorithm="sha256").hexdigest()


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def receipt_url(token: str) -> str:
    return settings.MUTUALIS_BASE_URL + reverse("flows:mailsec_receipt", args=[token])


def ip_digest(ip: str) -> str:
    """The receipt keeps who fetched it only as a keyed digest of the address (GDPR: not the address)."""
    return salted_hmac(_IP_SALT, ip or "", algorithm="sha256").hexdigest()


# --- SMTP, one connection per thread reused from mail to mail ------------------------------------

_local = threading.local()


def _connection():  # type: ignore[no-untyped-def]
    connection = getattr(_local, "connection", None)
    if connection is None:
        connection = get_connection(fail_silently=False)
        connection.open()
        _local.connection = connection
    return connection


def _drop_connection() -> None:
    connection = getattr(_local, "connection", None)
    _local.connection = None
    if connection is not None:
        with contextlib.suppress(OSError, smtplib.SMTPException):
            connection.close()


def _deliver(message: EmailMessage) -> None:
    """Send through the thread's connection; a connection the server closed while idle is reopened once
    (the server cannot have taken a message on a connection already closed)."""
    for attempt in (1, 2):
        try:
            message.connection = _connection()
            message.send()
            return
        except smtplib.SMTPServerDisconnected:
            _drop_connection()
            if attempt == 2:
                raise


def _message(mail: SecureMail, *, reminder: int) -> EmailMessage:
    token = token_for(mail.idempotency_key)
    lines = []
    if reminder:
        lines.append(
            _("Rappel : ce document vous attend toujours (relance %(n)s sur %(max)s).")
            % {"n": reminder, "max": mail.max_reminders}
        )
        lines.append("")
    if mail.body:
        lines += [mail.body, ""]
    lines += [
        _("%(sender)s vous a adressé un document : %(name)s.") % {"sender": mail.sender, "name": mail.file_name},
        _("Pour le consulter et le télécharger, ouvrez ce lien personnel :"),
        receipt_url(token),
        "",
        _("Ce lien vous est réservé : ne le transférez pas. Le premier téléchargement vaut accusé de réception."),
    ]
    subject = mail.subject if not reminder else _("Rappel : %(subject)s") % {"subject": mail.subject}
    message = EmailMessage(subject=subject, body="\n".join(lines), to=[mail.recipient])
    message.extra_headers["Auto-Submitted"] = "auto-generated"
    return message


# --- sending --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MailSettings:
    sender: str
    reminder_days: int = 7
    max_reminders: int = 2


def secure_mail_send(
    *,
    idempotency_key: str,
    to: str,
    subject: str,
    body: str,
    file: FileToSend,
    options: MailSettings,
    now: dt.datetime | None = None,
) -> SecureMail:
    """Store the document and send its link once per idempotency key. Returns the mail (sent, or
    already sent by an earlier run). Raises RecoverableError when the SMTP server could not take it
    (tried again later) and UnrecoverableError when an earlier run died mid-send."""
    now = now or timezone.now()
    if not to:
        raise UnrecoverableError(_("Le destinataire n'a pas d'adresse de courriel."))
    mail = SecureMail(
        idempotency_key=idempotency_key,
        token_digest=token_digest(token_for(idempotency_key)),
        sender=options.sender[:200],
        recipient=to,
        subject=subject[:300],
        body=body,
        file_name=file.name,
        size=len(file.content),
        sha256=hashlib.sha256(file.content).hexdigest(),
        reminder_days=options.reminder_days,
        max_reminders=options.max_reminders,
        # Born claimed: the INSERT that succeeds owns the send (one round trip, not a read then a claim).
        state=MailState.SENDING,
        sending_at=now,
    )
    mail.file.save(file.name, ContentFile(file.content), save=False)
    try:
        if db_connection.in_atomic_block:
            with transaction.atomic():
                mail.save()
        else:
            mail.save()
        claimed = True
    except IntegrityError:  # an earlier (or concurrent) run stored it: its state decides
        default_storage.delete(mail.file.name or "")
        mail = SecureMail.objects.get(idempotency_key=idempotency_key)
        claimed = bool(
            SecureMail.objects.filter(pk=mail.pk, state=MailState.NEW).update(
                state=MailState.SENDING, sending_at=now, updated_at=now
            )
        )
    if not claimed:
        if mail.state == MailState.SENDING:
            assert mail.sending_at is not None
            if timezone.now() - mail.sending_at < SENDING_STALE_AFTER:
                raise RecoverableError(_("Le courrier est en cours d'envoi par un autre traitement."))
            SecureMail.objects.filter(pk=mail.pk, state=MailState.SENDING).update(
                state=MailState.UNCERTAIN, updated_at=now
            )
            raise UnrecoverableError(_uncertain_message())
        if mail.state == MailState.UNCERTAIN:
            raise UnrecoverableError(_uncertain_message())
        return mail  # sent (or further) by an earlier run: nothing to send again
    try:
        _deliver(_message(mail, reminder=0))
    except (OSError, smtplib.SMTPException) as exc:
        # Refused or unreachable: the server did not take the mail; it may be sent again.
        SecureMail.objects.filter(pk=mail.pk, state=MailState.SENDING).update(state=MailState.NEW, updated_at=now)
        _drop_connection()
        raise RecoverableError(
            _("Le serveur de courriel n'a pas pris le message : %(error)s") % {"error": exc}, detail=repr(exc)
        ) from exc
    sent = timezone.now()
    SecureMail.objects.filter(pk=mail.pk, state=MailState.SENDING).update(
        state=MailState.SENT, sent_at=sent, last_sent_at=sent, updated_at=sent
    )
    mail.state, mail.sent_at, mail.last_sent_at = MailState.SENT, sent, sent
    return mail


def _uncertain_message() -> str:
    return _(
        "L'envoi a été interrompu avant que le serveur de courriel ne réponde : le message est peut-être "
        "parti. Vérifiez auprès du destinataire avant de le renvoyer."
    )


# --- receipt --------------------------------------------------------------------------------------


def secure_mail_by_token(token: str) -> SecureMail | None:
    if not token or len(token) > 128:
        return None
    return SecureMail.objects.filter(token_digest=token_digest(token)).first()


def secure_mail_receipt_record(*, mail: SecureMail, ip: str, now: dt.datetime | None = None) -> bool:
    """The first download: the receipt is recorded once (date, digest of the address); True if it was
    this one. A download after « non reçu » is recorded on the mail but does not change its state."""
    now = now or timezone.now()
    with transaction.atomic():
        rows = SecureMail.objects.filter(pk=mail.pk, received_at__isnull=True)
        first = bool(
            rows.filter(state=MailState.SENT).update(
                state=MailState.RECEIVED, received_at=now, receipt_ip_hash=ip_digest(ip), updated_at=now
            )
            or rows.update(received_at=now, receipt_ip_hash=ip_digest(ip), updated_at=now)
        )
        if first:
            audit_record(
                actor=None,
                action=AuditAction.UPDATE,
                obj=mail,
                changes={"received_at": [None, now.isoformat()]},
                object_repr=f"courrier sécurisé {mail.pk}",
                via="web",
            )
    return first


def secure_mail_withdraw(*, mail_id: int, now: dt.datetime | None = None) -> None:
    """Withdraw a mail not yet fetched: its link then says so."""
    now = now or timezone.now()
    SecureMail.objects.filter(pk=mail_id, received_at__isnull=True).exclude(state=MailState.UNCERTAIN).update(
        state=MailState.WITHDRAWN, closed_at=now, updated_at=now
    )


# --- reminders ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RemindResult:
    reminded: int
    not_received: int
    failed: int


def secure_mail_remind(*, now: dt.datetime | None = None, limit: int = 5000) -> RemindResult:
    """Remind each mail not fetched `reminder_days` after its last send, up to `max_reminders` times,
    then close it as « non reçu » `reminder_days` after the last reminder. Each reminder is claimed by
    a conditional UPDATE on the count it raises: two sweeps at once send it once."""
    now = now or timezone.now()
    reminded = closed = failed = 0
    candidates = SecureMail.objects.filter(
        state=MailState.SENT, received_at__isnull=True, last_sent_at__isnull=False
    ).order_by("last_sent_at", "pk")[:limit]
    for mail in candidates:
        assert mail.last_sent_at is not None
        if mail.last_sent_at + dt.timedelta(days=mail.reminder_days) > now:
            continue
        if mail.reminders_sent >= mail.max_reminders:
            with transaction.atomic():
                if SecureMail.objects.filter(pk=mail.pk, state=MailState.SENT, received_at__isnull=True).update(
                    state=MailState.NOT_RECEIVED, closed_at=now, updated_at=now
                ):
                    closed += 1
                    audit_record(
                        actor=None,
                        action=AuditAction.UPDATE,
                        obj=mail,
                        changes={"state": [MailState.SENT, MailState.NOT_RECEIVED]},
                        object_repr=f"courrier sécurisé {mail.pk}",
                        via="job",
                    )
            continue
        number = mail.reminders_sent + 1
        if not SecureMail.objects.filter(
            pk=mail.pk, state=MailState.SENT, received_at__isnull=True, reminders_sent=mail.reminders_sent
        ).update(reminders_sent=number, last_sent_at=now, updated_at=now):
            continue  # another sweep took it
        try:
            _deliver(_message(mail, reminder=number))
        except (OSError, smtplib.SMTPException) as exc:
            # Not taken: give the reminder back so the next sweep sends it.
            SecureMail.objects.filter(pk=mail.pk, reminders_sent=number).update(
                reminders_sent=mail.reminders_sent, last_sent_at=mail.last_sent_at, updated_at=now
            )
            _drop_connection()
            logger.warning("secure mail %s: reminder %d not sent: %s", mail.pk, number, exc)
            failed += 1
            continue
        reminded += 1
    return RemindResult(reminded=reminded, not_received=closed, failed=failed)


def describe(mail: SecureMail) -> str:
    """What the sender's log says of a mail still waiting."""
    if mail.sent_at is None:
        return _("En attente d'envoi.")
    text = _("Envoyé le %(date)s") % {"date": local_datetime(mail.sent_at, "d/m/Y")}
    if mail.reminders_sent:
        text += _(", %(n)s relance(s)") % {"n": mail.reminders_sent}
    return text + "."
