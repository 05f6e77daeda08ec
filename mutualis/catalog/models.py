"""What the operator offers and which member uses what. The deployment matrix is a view of
subscriptions, not a table of its own."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from mutualis.core.models import BaseModel
from mutualis.core.tenancy import TenantQuerySet
from mutualis.lib.identifiers import siren_error, siret_error


class Domain(BaseModel):
    slug = models.SlugField(_("identifiant"), max_length=60, unique=True)
    name = models.CharField(_("nom"), max_length=120)
    position = models.PositiveSmallIntegerField(_("ordre"), default=0)

    class Meta:
        verbose_name = _("domaine")
        verbose_name_plural = _("domaines")
        ordering = ["position", "name"]

    def __str__(self) -> str:
        return self.name


class Vendor(BaseModel):
    slug = models.SlugField(_("identifiant"), max_length=60, unique=True)
    name = models.CharField(_("nom"), max_length=200)
    siren = models.CharField(_("SIREN"), max_length=9, blank=True)
    siret = models.CharField(
        _("SIRET"), max_length=14, blank=True, help_text=_("Établissement titulaire des marchés (données DECP).")
    )

    class Meta:
        verbose_name = _("éditeur")
        verbose_name_plural = _("éditeurs")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.siren and (message := siren_error(self.siren)):
            errors["siren"] = message
        if self.siret:
            if message := siret_error(self.siret):
                errors["siret"] = message
            elif self.siren and not self.siret.startswith(self.siren):
                errors["siret"] = gettext("le SIRET doit commencer par le SIREN de l'éditeur")
        if errors:
            raise ValidationError(errors)


class Licence(models.TextChoices):
    FREE = "libre", _("libre")
    PROPRIETARY = "proprietaire", _("propriétaire")
    UNKNOWN = "inconnue", _("non renseignée")


class SsoProtocol(models.TextChoices):
    OIDC = "oidc", _("OpenID Connect")
    SAML = "saml", _("SAML 2")
    CAS = "cas", _("CAS")
    LDAP = "ldap", _("LDAP")
    HEADER = "header", _("en-têtes HTTP (handler)")
    NONE = "none", _("aucune")
    UNKNOWN = "unknown", _("non renseigné")


class SourceConfidence(models.TextChoices):
    """How sure the source is of which members have the application (imported matrices)."""

    CERTAIN = "certain", _("certaine")
    INFERRED = "inferred", _("déduite")
    UNKNOWN = "unknown", _("incomplète")


class Application(BaseModel):
    slug = models.SlugField(_("identifiant"), max_length=80, unique=True)
    name = models.CharField(_("nom"), max_length=200)
    domain = models.ForeignKey(Domain, verbose_name=_("domaine"), on_delete=models.PROTECT, related_name="applications")
    software = models.CharField(_("logiciel"), max_length=200, blank=True)
    vendor = models.ForeignKey(
        Vendor, verbose_name=_("éditeur"), null=True, blank=True, on_delete=models.PROTECT, related_name="applications"
    )
    licence = models.CharField(_("licence"), max_length=16, choices=Licence.choices, default=Licence.UNKNOWN)
    description = models.TextField(_("description"), blank=True)
    url = models.URLField(
        _("adresse"), blank=True, help_text=_("Lien d'accès des agents (portail « Mes applications »).")
    )
    sso_protocol = models.CharField(
        _("authentification unique"), max_length=16, choices=SsoProtocol.choices, default=SsoProtocol.UNKNOWN
    )
    support_group = models.ForeignKey(
        "members.OperatorService",
        verbose_name=_("groupe de support"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="applications",
    )
    position = models.PositiveSmallIntegerField(_("ordre"), default=0)
    source_confidence = models.CharField(
        _("fiabilité de la source"), max_length=16, choices=SourceConfidence.choices, default=SourceConfidence.CERTAIN
    )
    source_reported_count = models.PositiveSmallIntegerField(
        _("adhérents indiqués par la source"), null=True, blank=True
    )
    source_note = models.TextField(_("note sur la source"), blank=True)

    class Meta:
        verbose_name = _("application")
        verbose_name_plural = _("applications")
        ordering = ["domain__position", "position", "name"]

    def __str__(self) -> str:
        return self.name

    @property
    def attribution_incomplete(self) -> bool:
        return self.source_confidence != SourceConfidence.CERTAIN


class SubscriptionStatus(models.TextChoices):
    PLANNED = "planned", _("prévue")
    DEPLOYING = "deploying", _("en déploiement")
    PRODUCTION = "production", _("en production")
    WITHDRAWN = "withdrawn", _("retirée")


# What the deployment matrix counts as "oui" by default: the member has it or is getting it.
ACTIVE_STATUSES = (SubscriptionStatus.DEPLOYING, SubscriptionStatus.PRODUCTION)


class SubscriptionQuerySet(TenantQuerySet["Subscription"]):
    tenant_field = "collectivity"


class Subscription(BaseModel):
    collectivity = models.ForeignKey(
        "members.Organisation", verbose_name=_("collectivité"), on_delete=models.PROTECT, related_name="subscriptions"
    )
    application = models.ForeignKey(
        Application, verbose_name=_("application"), on_delete=models.PROTECT, related_name="subscriptions"
    )
    status = models.CharField(
        _("statut"), max_length=16, choices=SubscriptionStatus.choices, default=SubscriptionStatus.PLANNED
    )
    started_on = models.DateField(_("depuis le"), null=True, blank=True)
    ended_on = models.DateField(_("jusqu'au"), null=True, blank=True)
    note = models.TextField(_("note"), blank=True)

    objects = SubscriptionQuerySet.as_manager()

    class Meta:
        verbose_name = _("abonnement")
        verbose_name_plural = _("abonnements")
        ordering = ["application", "collectivity"]
        constraints = [
            models.UniqueConstraint(fields=["collectivity", "application"], name="one_subscription_per_pair")
        ]
        indexes = [models.Index(fields=["status", "application"])]

    def __str__(self) -> str:
        return f"{self.collectivity} × {self.application}"

    def clean(self) -> None:
        if self.started_on and self.ended_on and self.ended_on < self.started_on:
            raise ValidationError({"ended_on": gettext("la date de fin précède la date de début")})

    def validate_unique(self, exclude: object = None) -> None:
        # A clearer message than the constraint's generic one.
        duplicate = Subscription.objects.filter(
            collectivity_id=self.collectivity_id, application_id=self.application_id
        ).exclude(pk=self.pk)
        if self.collectivity_id and self.application_id and duplicate.exists():
            raise ValidationError(
                {
                    "application": gettext(
                        "%(collectivity)s est déjà abonnée à %(application)s : modifiez l'abonnement existant."
                    )
                    % {"collectivity": self.collectivity, "application": self.application}
                }
            )
        super().validate_unique(exclude=exclude)  # type: ignore[arg-type]


class ServiceCommitment(BaseModel):
    """A formal service commitment of the operator (hosting, information system, …)."""

    slug = models.SlugField(_("identifiant"), max_length=60, unique=True)
    name = models.CharField(_("nom"), max_length=120)
    description = models.TextField(_("description"), blank=True)
    targets = models.TextField(_("objectifs"), blank=True)
    position = models.PositiveSmallIntegerField(_("ordre"), default=0)

    class Meta:
        verbose_name = _("engagement de service")
        verbose_name_plural = _("engagements de service")
        ordering = ["position", "name"]

    def __str__(self) -> str:
        return self.name
