"""The payslips' models: who may see a member's payslips, a month's batch, and each payslip found in it.

Each matched payslip is a FlowDocument of the flow « rh-bulletin-salaire » (its state, log and files
are the engine's); `Payslip` ties it to its batch and to the directory's agent, and lists those that
matched no agent (never sent).
"""

from __future__ import annotations

from typing import Any, TypeVar

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from mutualis.core.actors import signed_in_actor
from mutualis.core.models import BaseModel
from mutualis.core.tenancy import TenantQuerySet
from mutualis.members.models import Organisation

Q = TypeVar("Q", bound=models.QuerySet[Any])
PAYSLIP_FLOW = "rh-bulletin-salaire"


class PayrollManagerQuerySet(TenantQuerySet["PayrollManager"]):
    tenant_field = "member"


class PayrollManager(BaseModel):
    """An account of a member that manages its payroll, and so sees its payslips. Accounts have no HR
    role (accounts.Role knows operator, member manager — the IT director or the DGS —, agent and
    elected): the right is given to named accounts by the operator's staff, and no one else of the
    member sees a payslip, its manager included."""

    member = models.ForeignKey(
        Organisation, verbose_name=_("adhérent"), on_delete=models.CASCADE, related_name="payroll_managers"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("compte"), on_delete=models.CASCADE, related_name="payroll_rights"
    )

    objects = PayrollManagerQuerySet.as_manager()

    class Meta:
        verbose_name = _("gestionnaire de paie")
        verbose_name_plural = _("gestionnaires de paie")
        constraints = [models.UniqueConstraint(fields=["member", "user"], name="flows_payroll_manager_unique")]

    def __str__(self) -> str:
        return f"{self.user} ({self.member})"


def is_payroll_manager(user: Any) -> bool:
    """Whether a member's account manages its member's payroll (cached on the account for the request)."""
    actor = signed_in_actor(user)
    if actor is None or actor.organisation_id is None:
        return False
    cached = getattr(actor, "_payroll_manager", None)
    if cached is None:
        cached = PayrollManager.objects.filter(user_id=actor.pk, member_id=actor.organisation_id).exists()
        setattr(actor, "_payroll_manager", cached)  # noqa: B010 - a per-request cache on the account
    return bool(cached)


def may_see_payslips(user: Any) -> bool:
    actor = signed_in_actor(user)
    return actor is not None and (actor.is_operator or is_payroll_manager(actor))


def hide_payslips(rows: Q, user: Any, *, via: str = "") -> Q:
    """`rows` without the payslips when `user` may not see them (operator staff and payroll managers may)."""
    if may_see_payslips(user):
        return rows
    return rows.exclude(**{f"{via}flow": PAYSLIP_FLOW})


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
        return rows if may_see_payslips(user) else rows.none()


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
        return rows if may_see_payslips(user) else rows.none()


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
