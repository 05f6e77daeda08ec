"""The archive of monthly service reports: one immutable row per member, month and version."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from mutualis.core.tenancy import TenantQuerySet


def report_path(instance: MonthlyReport, filename: str) -> str:
    return f"quality/reports/{instance.collectivity.slug}/{instance.month}-v{instance.version}.pdf"


class MonthlyReportQuerySet(TenantQuerySet["MonthlyReport"]):
    tenant_field = "collectivity"


class MonthlyReport(models.Model):
    """A member's service report for one month, as sent. Never updated: a forced re-run adds a
    version, so what a member received stays downloadable as it was (the sha256 proves it)."""

    collectivity = models.ForeignKey(
        "members.Organisation",
        verbose_name=_("collectivité"),
        on_delete=models.PROTECT,
        related_name="monthly_reports",
    )
    month = models.CharField(_("mois"), max_length=7, help_text=_("AAAA-MM"))
    version = models.PositiveSmallIntegerField(_("version"), default=1)
    html = models.TextField(_("rapport HTML"))
    pdf = models.FileField(_("rapport PDF"), upload_to=report_path, max_length=200)
    sha256 = models.CharField(_("empreinte SHA-256 du PDF"), max_length=64)
    figures = models.JSONField(_("indicateurs"), default=dict)
    created_at = models.DateTimeField(_("produit le"), auto_now_add=True)

    objects = MonthlyReportQuerySet.as_manager()

    class Meta:
        verbose_name = _("rapport mensuel")
        verbose_name_plural = _("rapports mensuels")
        ordering = ["-month", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["collectivity", "month", "version"], name="quality_report_unique_version")
        ]

    def __str__(self) -> str:
        return f"{self.collectivity.slug} {self.month} v{self.version}"
