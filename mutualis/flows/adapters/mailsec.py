"""Secure mail as the SecureMailPort: the document stored in Mutualis, its link mailed through Django's mail
(EMAIL_URL), the receipt page served by Mutualis itself (flows/mailsec.py). The connector instance holds
who the mail says it comes from and the reminder rhythm; there is no remote service to reach."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Self

from django.conf import settings as django_settings
from django.core.mail import get_connection
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from mutualis.flows import mailsec
from mutualis.flows.adapters.base import Setting, register, required
from mutualis.flows.engine import RetryPolicy
from mutualis.flows.mailsec_models import MailState, SecureMail
from mutualis.flows.ports import FileToSend, Outcome, RemoteState, UnrecoverableError


def _positive(values: Mapping[str, str], name: str, default: int, label: str) -> int:
    raw = values.get(name) or str(default)
    try:
        number = int(raw)
    except ValueError:
        number = -1
    if not 0 <= number <= 60:
        raise UnrecoverableError(_("« %(label)s » doit être un nombre entre 0 et 60.") % {"label": label})
    return number


@register
class SecureMailAdapter:
    """SecureMailPort over SMTP with a receipt page in Mutualis."""

    kind = "mailsec"
    port = "mailsec"
    label = gettext_lazy("Courrier sécurisé (lien de téléchargement et accusé de réception)")
    settings = (
        Setting(
            "sender",
            gettext_lazy("Expéditeur affiché"),
            help=gettext_lazy("Ce que le destinataire lit : par exemple « Mairie d'Alpha, service RH »."),
        ),
        Setting(
            "reminder_days", gettext_lazy("Jours avant relance"), required=False, help=gettext_lazy("7 par défaut")
        ),
        Setting("max_reminders", gettext_lazy("Nombre de relances"), required=False, help=gettext_lazy("2 par défaut")),
    )
    # Receipts come in over days: the engine looks at a waiting mail every hour, not every minute.
    retry_policy = RetryPolicy(max_tries=6, first_delay=dt.timedelta(minutes=2), poll_every=dt.timedelta(hours=1))

    def __init__(self, options: mailsec.MailSettings) -> None:
        self.options = options

    @classmethod
    def from_config(cls, config: Mapping[str, str], *, timeout: float = 30) -> Self:
        values = required(config, cls.settings)
        return cls(
            mailsec.MailSettings(
                sender=values["sender"],
                reminder_days=_positive(values, "reminder_days", 7, str(_("Jours avant relance"))),
                max_reminders=_positive(values, "max_reminders", 2, str(_("Nombre de relances"))),
            )
        )

    def check(self) -> str:
        connection = get_connection(fail_silently=False)
        try:
            connection.open()
        except OSError as exc:
            raise UnrecoverableError(
                _("Le serveur de courriel ne répond pas : %(error)s") % {"error": exc}, detail=repr(exc)
            ) from exc
        finally:
            connection.close()
        return _("Serveur de courriel joignable ; les courriels partent de %(sender)s.") % {
            "sender": django_settings.DEFAULT_FROM_EMAIL
        }

    def send(self, *, to: str, subject: str, body: str, file: FileToSend, idempotency_key: str) -> str:
        mail = mailsec.secure_mail_send(
            idempotency_key=idempotency_key, to=to, subject=subject, body=body, file=file, options=self.options
        )
        return str(mail.pk)

    def poll(self, remote_id: str) -> Outcome:
        mail = SecureMail.objects.filter(pk=int(remote_id)).first()
        if mail is None:
            raise UnrecoverableError(_("Courrier sécurisé %(id)s introuvable.") % {"id": remote_id})
        if mail.state == MailState.RECEIVED:
            assert mail.received_at is not None
            proof = (
                f"Courrier {mail.pk} : {mail.file_name} ({mail.sha256})\n"
                f"envoyé le {mail.sent_at.isoformat() if mail.sent_at else ''} à {mail.recipient}\n"
                f"relances : {mail.reminders_sent}\n"
                f"téléchargé le {mail.received_at.isoformat()} depuis l'adresse d'empreinte {mail.receipt_ip_hash}\n"
            )
            return Outcome(
                RemoteState.DONE,
                message=_("Téléchargé par le destinataire."),
                remote_status=mail.state,
                proofs={"accuse-de-reception.txt": proof.encode()},
            )
        if mail.state == MailState.NOT_RECEIVED:
            return Outcome(
                RemoteState.REJECTED,
                message=_("Non reçu : pas de téléchargement après %(n)s relance(s).") % {"n": mail.reminders_sent},
                remote_status=mail.state,
            )
        if mail.state == MailState.WITHDRAWN:
            return Outcome(RemoteState.CANCELLED, message=_("Courrier retiré."), remote_status=mail.state)
        if mail.state == MailState.UNCERTAIN:
            raise UnrecoverableError(mailsec._uncertain_message())
        return Outcome(RemoteState.PENDING, message=mailsec.describe(mail), remote_status=mail.state)

    def cancel(self, remote_id: str) -> None:
        mailsec.secure_mail_withdraw(mail_id=int(remote_id))
