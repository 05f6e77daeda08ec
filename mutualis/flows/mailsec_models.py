"""The secure mail's own storage: one row per document sent as a link to a receipt page.

This is the remote side of the SecureMailPort, kept inside Mutualis: the engine knows a secure mail
only by its remote id (the row's pk), like an i-Parapheur folder. The link's token is never stored:
it is an HMAC of the idempotency key under the secret key (flows/mailsec.py), so the row holds only
its digest, and a database dump gives no one a working link.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from mutualis.core.models import BaseModel


class MailState(models.TextChoices):
    NEW = "new", _("à envoyer")
    SENDING = "sending", _("envoi en cours")
    SENT = "sent", _("envoyé")
    RECEIVED = "received", _("reçu")
    NOT_RECEIVED = "not_received", _("non reçu")
    WITHDRAWN = "withdrawn", _("retiré")
    # The sender died between claiming the send and knowing whether the SMTP server took the mail:
    # it is not sent again on its own (a payslip sent twice is worse than one a person re-sends).
    UNCERTAIN = "uncertain", _("envoi interrompu")


def secure_mail_path(instance: SecureMail, filename: str) -> str:
    return f"flows/mailsec/{instance.token_digest[:2]}/{instance.token_digest}/{filename}"


class SecureMail(BaseModel):
    idempotency_key = models.CharField(_("clé d'idempotence"), max_length=200, unique=True)
    token_digest = models.CharField(_("empreinte du jeton"), max_length=64, unique=True)
    sender = models.CharField(_("expéditeur"), max_length=200)
    recipient = models.EmailField(_("destinataire"), max_length=254)
    subject = models.CharField(_("objet"), max_length=300)
    body = models.TextField(_("message"), blank=True)
    file = models.FileField(_("fichier"), upload_to=secure_mail_path, max_length=300)
    file_name = models.CharField(_("nom du fichier"), max_length=255)
    size = models.PositiveBigIntegerField(_("taille"), default=0)
    sha256 = models.CharField(_("empreinte SHA-256"), max_length=64)
    state = models.CharField(_("état"), max_length=20, choices=MailState.choices, default=MailState.NEW)
    sending_at = models.DateTimeField(_("envoi commencé le"), null=True, blank=True)
    sent_at = models.DateTimeField(_("envoyé le"), null=True, blank=True)
    last_sent_at = models.DateTimeField(_("dernier envoi le"), null=True, blank=True, db_index=True)
    reminders_sent = models.PositiveSmallIntegerField(_("relances envoyées"), default=0)
    reminder_days = models.PositiveSmallIntegerField(_("jours avant relance"), default=7)
    max_reminders = models.PositiveSmallIntegerField(_("relances au plus"), default=2)
    received_at = models.DateTimeField(_("reçu le"), null=True, blank=True)
    receipt_ip_hash = models.CharField(_("empreinte de l'adresse IP"), max_length=64, blank=True)
    closed_at = models.DateTimeField(_("clos le"), null=True, blank=True)

    class Meta:
        verbose_name = _("courrier sécurisé")
        verbose_name_plural = _("courriers sécurisés")
        indexes = [models.Index(fields=["state", "last_sent_at"], name="flows_mailsec_due")]

    def __str__(self) -> str:
        return f"{self.subject} → {self.recipient}"
