"""Inbound mail received by the helpdesk: one row per Message-ID, so that a message is handled
once however often it is delivered or polled, and refusals stay visible to operator admins."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from mutualis.core.models import BaseModel

__all__ = ["InboundMail", "InboundOutcome"]


class InboundOutcome(models.TextChoices):
    CREATED = "created", _("demande ouverte")
    FOLLOWUP = "followup", _("suivi ajouté")
    LINKED = "linked", _("demande liée ouverte")
    REFUSED = "refused", _("refusé")


class InboundMail(BaseModel):
    """A message read from the helpdesk's mailbox. A handled one is never handled again (the
    unique Message-ID holds even when two polls race); a refused one may be handled later, when
    it is delivered again and passes (its row is then updated)."""

    # RFC 5322 caps a line at 998 characters; a message without Message-ID gets its digest.
    message_id = models.CharField(_("Message-ID"), max_length=998, unique=True)
    sender = models.CharField(_("expéditeur"), max_length=320, blank=True)
    subject = models.CharField(_("objet"), max_length=255, blank=True)
    outcome = models.CharField(_("issue"), max_length=16, choices=InboundOutcome.choices)
    reason = models.TextField(_("motif"), blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    ticket = models.ForeignKey("helpdesk.Ticket", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        verbose_name = _("courriel reçu")
        verbose_name_plural = _("courriels reçus")
        indexes = [models.Index(fields=["outcome", "-created_at"], name="helpdesk_inbound_outcome_idx")]

    def __str__(self) -> str:
        return self.message_id
