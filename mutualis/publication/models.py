"""A member's published acts (never modified: a correction is a new version), its publication
settings, and the publication log whose entries chain each other's digests."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _

from mutualis.core.models import BaseModel
from mutualis.flows.models import FlowDocument
from mutualis.members.models import Organisation


class Nature(models.IntegerChoices):
    """The @CTES natures of acts."""

    DELIBERATION = 1, _("Délibération")
    REGULATORY = 2, _("Acte réglementaire")
    INDIVIDUAL = 3, _("Acte individuel")
    CONTRACT = 4, _("Contrat, convention, avenant")
    BUDGET = 5, _("Document budgétaire et financier")
    OTHER = 6, _("Autre")


# Common practice (Mégalis' defaults): deliberations, regulatory acts and budgets are published;
# individual decisions are notified to the person, not published.
DEFAULT_NATURES = [Nature.DELIBERATION.value, Nature.REGULATORY.value, Nature.BUDGET.value]


def default_natures() -> list[int]:
    return list(DEFAULT_NATURES)


class PublicationSettings(BaseModel):
    """Per member: which natures its acts' flow publishes, and the author named on each act when the
    act does not name one (the mayor, the president)."""

    member = models.OneToOneField(
        Organisation, verbose_name=_("adhérent"), on_delete=models.CASCADE, related_name="publication_settings"
    )
    natures = models.JSONField(_("natures publiées"), default=default_natures)
    author_name = models.CharField(_("nom et prénom de l'auteur"), max_length=200, blank=True)
    author_title = models.CharField(_("qualité de l'auteur"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("réglages de publication")
        verbose_name_plural = _("réglages de publication")

    def __str__(self) -> str:
        return str(self.member)


def published_file_path(instance: PublishedAct, filename: str) -> str:
    return f"publication/{instance.member_id}/{instance.sha256}.pdf"


class PublishedAct(BaseModel):
    """One version of an act as put online. Never modified (a trigger refuses an UPDATE): a correction
    is a new row, `replaces` pointing at the version it corrects, which stays online."""

    member = models.ForeignKey(
        Organisation, verbose_name=_("adhérent"), on_delete=models.PROTECT, related_name="published_acts"
    )
    document = models.ForeignKey(
        FlowDocument,
        verbose_name=_("document du flux"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    nature = models.PositiveSmallIntegerField(_("nature"), choices=Nature.choices)
    number = models.CharField(_("numéro"), max_length=15)
    subject = models.CharField(_("objet"), max_length=500)
    decision_date = models.DateField(_("date de la décision"))
    author_name = models.CharField(_("auteur"), max_length=200)
    author_title = models.CharField(_("qualité de l'auteur"), max_length=200)
    published_at = models.DateTimeField(_("mis en ligne le"))
    file = models.FileField(_("fichier"), upload_to=published_file_path, max_length=300)
    file_name = models.CharField(_("nom du fichier"), max_length=255)
    sha256 = models.CharField(_("empreinte SHA-256"), max_length=64, db_index=True)
    size = models.PositiveBigIntegerField(_("taille"))
    version = models.PositiveSmallIntegerField(_("version"), default=1)
    replaces = models.OneToOneField(
        "self",
        verbose_name=_("remplace"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="replaced_by",
    )
    correction_reason = models.CharField(_("motif de la correction"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("acte publié")
        verbose_name_plural = _("actes publiés")
        ordering = ["-published_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["member", "number", "version"], name="publication_act_version"),
        ]
        indexes = [models.Index(fields=["member", "-published_at"], name="publication_member_online")]

    def __str__(self) -> str:
        return f"{self.number} v{self.version}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise ValueError("a published act is never modified: publish a correction (a new version)")
        super().save(*args, **kwargs)


class LogKind(models.TextChoices):
    PUBLISH = "publish", _("mise en ligne")
    CORRECT = "correct", _("correction (nouvelle version)")


class PublicationLogEntry(models.Model):
    """Append-only, per member: each entry holds the previous entry's digest and its own, SHA-256 over
    (previous digest + its canonical content), so an entry altered or removed breaks the chain."""

    member = models.ForeignKey(Organisation, verbose_name=_("adhérent"), on_delete=models.PROTECT, related_name="+")
    seq = models.PositiveIntegerField(_("numéro d'ordre"))
    at = models.DateTimeField(_("le"))
    kind = models.CharField(_("événement"), max_length=20, choices=LogKind.choices)
    act = models.ForeignKey(PublishedAct, verbose_name=_("acte"), on_delete=models.PROTECT, related_name="log")
    content = models.TextField(_("contenu canonique"))
    previous_digest = models.CharField(_("empreinte précédente"), max_length=64)
    digest = models.CharField(_("empreinte"), max_length=64)

    class Meta:
        verbose_name = _("entrée du journal de publication")
        verbose_name_plural = _("journal de publication")
        ordering = ["member", "seq"]
        constraints = [models.UniqueConstraint(fields=["member", "seq"], name="publication_log_seq")]

    def __str__(self) -> str:
        return f"{self.member_id}#{self.seq}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise ValueError("the publication log is append-only")
        super().save(*args, **kwargs)
