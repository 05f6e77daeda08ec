"""The payslips' models: a month's batch, and each payslip found in it (who sees them: flows/rights.py).

Each matched payslip is a FlowDocument of the flow « rh-bulletin-salaire » (its state, log and files
are the engine's); `Payslip` ties it to its batch and to the directory's agent, and lists those that
matched no agent (never sent).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from mutualis.core.models import BaseModel
from mutualis.core.tenancy import TenantQuerySet
from mutualis.flows.rights import may_see_flow
from mutualis.members.models import Organisation

PAYSLIP_FLOW = "rh-bulletin-salaire"


class BatchState(models.TextChoices):
    RECEIVED = "received", _("déposé")
    SPLITTING = "splitting", _("découpage et envoi en cours")
    SENT = "sent", _("envoyé")
    FAILED = "failed", _("fichier illisible")


def batch_source_path(instance: PayslipBatch, filename: str) -> str:
    return f"flows/{instance.member_id}/paie/{instance.period:%Y-%m}/{filename}"


class PayslipBatchQuerySet(TenantQuerySet["PayslipBatch"]):
    tenant_field = "member"

    def visible_to(self, user: Any) -> PayslipBatchQuerySet:
        rows = super().visible_to(user)
        return rows if may_see_flow(user, PAYSLIP_FLOW) else rows.none()


class PayslipBatch(BaseModel):
    """One upload of a month's payslips: a payroll PDF (split per agent) or a ZIP of per-agent PDFs."""

    member = models.ForeignKey(
        Organisation, verbose_name=_("adhérent"), on_delete=models.PROTECT, related_name="payslip_batches"
    )
    period = models.DateField(_("mois de paie"))
    source = models.FileField(_("fichier déposé"), upload_to=batch_source_path, max_length=300)
    source_name = models.CharField(_("nom du fichier"), max_length=255)
    source_sha256 = models.CharField(_("empreinte SHA-256"), max_length=64)
    is_zip = models.BooleanField(_("archive ZIP"), default=False)
    state = models.CharField(_("état"), max_length=20, choices=BatchState.choices, default=BatchState.RECEIVED)
    pages = models.PositiveIntegerField(_("pages ou fichiers"), default=0)
    chunks = models.PositiveIntegerField(_("tranches"), default=0)
    done_chunks = models.JSONField(_("tranches traitées"), default=list, blank=True)
    error_message = models.TextField(_("erreur"), blank=True)
    archive_document = models.OneToOneField(
        "flows.FlowDocument",
        verbose_name=_("versement à l'archive"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="payslip_batch",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("déposé par"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    objects = PayslipBatchQuerySet.as_manager()

    class Meta:
        verbose_name = _("lot de bulletins de paie")
        verbose_name_plural = _("lots de bulletins de paie")
        ordering = ["-period", "-pk"]

    def __str__(self) -> str:
        return f"{self.member} {self.period:%m/%Y}"


class PayslipQuerySet(TenantQuerySet["Payslip"]):
    tenant_field = "batch__member"

    def visible_to(self, user: Any) -> PayslipQuerySet:
        rows = super().visible_to(user)
        return rows if may_see_flow(user, PAYSLIP_FLOW) else rows.none()


class Payslip(BaseModel):
    """One payslip of a batch: the pages (or the ZIP entry) it was cut from, its matricule, its agent
    and its document — or, when no agent matched, why (then it has no document and is never sent)."""

    batch = models.ForeignKey(PayslipBatch, verbose_name=_("lot"), on_delete=models.CASCADE, related_name="payslips")
    position = models.PositiveIntegerField(_("rang dans le fichier"))
    hr_id = models.CharField(_("matricule"), max_length=60, blank=True)
    pages = models.CharField(_("pages ou fichier"), max_length=255)
    agent = models.ForeignKey(
        "identity.Agent", verbose_name=_("agent"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    document = models.OneToOneField(
        "flows.FlowDocument",
        verbose_name=_("document"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="payslip",
    )
    unmatched_reason = models.CharField(_("non rapproché"), max_length=200, blank=True)

    objects = PayslipQuerySet.as_manager()

    class Meta:
        verbose_name = _("bulletin de paie")
        verbose_name_plural = _("bulletins de paie")
        ordering = ["batch", "position"]
        constraints = [models.UniqueConstraint(fields=["batch", "position"], name="flows_payslip_position")]

    def __str__(self) -> str:
        return f"{self.hr_id or '?'} ({self.pages})"
