"""A maintenance contract's commitments (the OLA) and the episodes a ticket spends waiting for the
vendor, each measured against the commitment that applied when it started (docs/ola.md)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from mutualis.core.models import BaseModel
from mutualis.core.tenancy import TenantQuerySet
from mutualis.helpdesk.enums import DurationUnit, TicketType
from mutualis.helpdesk.models import PRIORITY_SCALE


class Commitment(BaseModel):
    """The vendor's times to respond and to fix under a contract, for tickets of a type and
    priority (blank = any), in business hours or days on a calendar (blank = the default one).
    The most specific commitment matching a ticket applies."""

    contract = models.ForeignKey(
        "procurement.Contract",
        verbose_name=_("marché"),
        on_delete=models.PROTECT,
        related_name="ola_commitments",
    )
    ticket_type = models.CharField(_("type"), max_length=16, choices=TicketType.choices, blank=True)
    priority = models.PositiveSmallIntegerField(_("priorité"), null=True, blank=True, validators=PRIORITY_SCALE)
    calendar = models.ForeignKey(
        "helpdesk.Calendar",
        verbose_name=_("calendrier"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Vide : le calendrier par défaut du support."),
    )
    respond_value = models.PositiveIntegerField(_("délai de réponse"), null=True, blank=True)
    respond_unit = models.CharField(_("unité"), max_length=8, choices=DurationUnit.choices, default=DurationUnit.HOURS)
    fix_value = models.PositiveIntegerField(_("délai de correction"))
    fix_unit = models.CharField(_("unité"), max_length=8, choices=DurationUnit.choices, default=DurationUnit.DAYS)

    class Meta:
        verbose_name = _("engagement de maintenance")
        verbose_name_plural = _("engagements de maintenance")
        ordering = ["contract", "ticket_type", "priority", "id"]

    def __str__(self) -> str:
        return f"{self.contract_id}: {self.ticket_type or '*'} P{self.priority or '*'}"

    def clean(self) -> None:
        if self.fix_value is not None and self.fix_value < 1:
            raise ValidationError({"fix_value": _("un délai d'au moins 1")})
        if self.contract_id is None:
            return
        same = Commitment.objects.filter(
            contract_id=self.contract_id, ticket_type=self.ticket_type, priority=self.priority
        ).exclude(pk=self.pk)
        if same.exists():
            raise ValidationError(_("ce marché a déjà un engagement pour ce type et cette priorité"))

    def specificity(self) -> int:
        return 2 * bool(self.ticket_type) + (self.priority is not None)


class VendorEpisodeQuerySet(TenantQuerySet["VendorEpisode"]):
    tenant_field = "ticket__collectivity"


class VendorEpisode(models.Model):
    """One period a ticket spent « en attente de l'éditeur »: from the log row that put it there
    to the one that took it out (none yet: still running). Written by the transition's own
    transaction (ola.episodes, through helpdesk.hooks). Offsets are business seconds on the
    calendar since a fixed origin (lib.business_offsets), so a duration is a subtraction in SQL."""

    ticket = models.ForeignKey(
        "helpdesk.Ticket", verbose_name=_("ticket"), on_delete=models.CASCADE, related_name="vendor_episodes"
    )
    started_log = models.OneToOneField(
        "helpdesk.TransitionLog", on_delete=models.CASCADE, related_name="vendor_episode_started"
    )
    ended_log = models.OneToOneField(
        "helpdesk.TransitionLog",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="vendor_episode_ended",
    )
    started_at = models.DateTimeField(_("début"))
    ended_at = models.DateTimeField(_("fin"), null=True, blank=True, db_index=True)
    calendar = models.ForeignKey("helpdesk.Calendar", on_delete=models.PROTECT, related_name="+")
    start_offset = models.BigIntegerField()
    end_offset = models.BigIntegerField(null=True, blank=True)
    vendor = models.ForeignKey(
        "catalog.Vendor", verbose_name=_("éditeur"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    contract = models.ForeignKey(
        "procurement.Contract",
        verbose_name=_("marché"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="vendor_episodes",
    )
    # The commitment that applied at the start; its budget is kept here, so a later edit of the
    # commitment does not rewrite past episodes.
    commitment = models.ForeignKey(
        Commitment, null=True, blank=True, on_delete=models.SET_NULL, related_name="episodes"
    )
    budget_s = models.PositiveIntegerField(_("délai de correction (s ouvrées)"), null=True, blank=True)
    due_at = models.DateTimeField(_("correction attendue le"), null=True, blank=True)
    respond_due_at = models.DateTimeField(_("réponse attendue le"), null=True, blank=True)

    objects = VendorEpisodeQuerySet.as_manager()

    class Meta:
        verbose_name = _("attente de l'éditeur")
        verbose_name_plural = _("attentes de l'éditeur")
        ordering = ["started_at", "id"]
        indexes = [models.Index(fields=["ticket", "ended_at"], name="ola_episode_ticket_open")]

    def __str__(self) -> str:
        return f"{self.ticket_id}: {self.started_at.isoformat()}"
