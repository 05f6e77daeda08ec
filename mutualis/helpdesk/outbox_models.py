"""The notification outbox: one row per mail a ticket's event owes, written in the event's own
transaction, so a mail is sent once, retried when it fails and never forgotten."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from mutualis.core.models import BaseModel

__all__ = ["Notification", "NotificationStatus"]


class NotificationStatus(models.TextChoices):
    PENDING = "pending", _("à envoyer")
    SENDING = "sending", _("en cours d'envoi")
    SENT = "sent", _("envoyée")
    FAILED = "failed", _("en échec")


EVENT_LABELS = {
    "created": _("création"),
    "assigned": _("attribution"),
    "followup": _("suivi"),
    "solved": _("solution"),
    "closed": _("clôture"),
    "escalated": _("alerte de délai"),
    "reopened": _("réouverture"),
    "refused": _("solution refusée"),
    "merged": _("regroupement"),
}


class Notification(BaseModel):
    """A ticket event's mail. `key` is its idempotency key (a uuid chosen when the event is
    recorded): whatever runs the task, and however often, the mail leaves once. `sent_to` keeps
    the addresses already served, so a retry after a partial send (several batches) sends the
    rest only."""

    key = models.CharField(_("clé"), max_length=64, unique=True)
    ticket = models.ForeignKey(
        "helpdesk.Ticket", verbose_name=_("ticket"), on_delete=models.CASCADE, related_name="notifications"
    )
    event = models.CharField(_("événement"), max_length=16)
    summary = models.TextField(_("résumé"), blank=True)
    status = models.CharField(
        _("état"), max_length=8, choices=NotificationStatus.choices, default=NotificationStatus.PENDING
    )
    tries = models.PositiveSmallIntegerField(_("tentatives"), default=0)
    last_error = models.TextField(_("dernière erreur"), blank=True)
    next_attempt_at = models.DateTimeField(_("prochaine tentative"), null=True, blank=True)
    sent_at = models.DateTimeField(_("envoyée le"), null=True, blank=True)
    sent_to = models.JSONField(_("destinataires servis"), default=list, blank=True)
    recipients = models.JSONField(_("destinataires"), default=list, blank=True)
    # The job sending it now, and since when: another job leaves it alone, the same job requeued
    # after its worker died takes it back (see outbox.notification_deliver).
    claimed_by = models.CharField(_("envoi en cours par"), max_length=64, blank=True)
    claimed_at = models.DateTimeField(_("envoi commencé le"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "-created_at"], name="helpdesk_notif_status_idx")]

    @property
    def event_label(self) -> str:
        return str(EVENT_LABELS.get(self.event, self.event))

    def __str__(self) -> str:
        return f"{self.event} #{self.ticket_id}"
