"""Organisations Mutualis knows: the operator, its members and partners."""

from __future__ import annotations

import datetime as dt
import re

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from mutualis.core.models import BaseModel
from mutualis.core.tenancy import TenantQuerySet
from mutualis.lib.identifiers import insee_error, siren_error, siret_error


class OrganisationKind(models.TextChoices):
    OPERATOR = "operator", _("opérateur")
    COMMUNE = "commune", _("commune")
    CCAS = "ccas", _("CCAS")
    EPCI = "epci", _("EPCI")
    SYNDICATE = "syndicate", _("syndicat")
    PARTNER = "partner", _("partenaire")


MEMBER_KINDS = (
    OrganisationKind.COMMUNE,
    OrganisationKind.CCAS,
    OrganisationKind.EPCI,
    OrganisationKind.SYNDICATE,
)


class OrganisationQuerySet(TenantQuerySet["Organisation"]):
    """An organisation is its own tenant: a member's account sees its own organisation only."""

    tenant_field = "pk"

    def collectivities(self) -> OrganisationQuerySet:
        """Every organisation but the operator: members and partners."""
        return self.exclude(kind=OrganisationKind.OPERATOR)

    def members(self, on: dt.date | None = None) -> OrganisationQuerySet:
        """Collectivities that are members on `on` (today by default)."""
        day = on or timezone.localdate()
        return self.filter(kind__in=MEMBER_KINDS).exclude(left_on__lte=day).exclude(joined_on__gt=day)


class Organisation(BaseModel):
    name = models.CharField(_("nom"), max_length=200)
    short_name = models.CharField(
        _("nom court"), max_length=40, blank=True, help_text=_("Libellé des colonnes de tableaux.")
    )
    slug = models.SlugField(_("identifiant"), max_length=60, unique=True)
    kind = models.CharField(_("nature"), max_length=16, choices=OrganisationKind.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("rattachée à"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
        help_text=_("Par exemple la commune d'un CCAS."),
    )
    insee_code = models.CharField(_("code INSEE"), max_length=5, blank=True)
    siren = models.CharField(_("SIREN"), max_length=9, blank=True)
    siret = models.CharField(_("SIRET"), max_length=14, blank=True)
    # What the State's transmission of acts (@CTES, IDCL) names an authority by, beside its SIREN.
    department = models.CharField(
        _("département"), max_length=3, blank=True, help_text=_("Sur trois caractères : 069, 02A, 974.")
    )
    arrondissement = models.CharField(_("arrondissement"), max_length=1, blank=True, help_text=_("Un chiffre."))
    authority_nature = models.CharField(
        _("nature de la collectivité (@CTES)"),
        max_length=2,
        blank=True,
        help_text=_("Code à deux chiffres de la nomenclature de la préfecture."),
    )
    population = models.PositiveIntegerField(_("population"), null=True, blank=True)
    population_year = models.PositiveSmallIntegerField(_("année de la population"), null=True, blank=True)
    agents_count = models.PositiveIntegerField(_("nombre d'agents"), null=True, blank=True)
    joined_on = models.DateField(_("adhésion le"), null=True, blank=True)
    left_on = models.DateField(_("retrait le"), null=True, blank=True)
    website = models.URLField(_("site web"), blank=True)
    notes = models.TextField(_("notes"), blank=True)

    objects = OrganisationQuerySet.as_manager()

    class Meta:
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["kind"], condition=models.Q(kind="operator"), name="one_operator"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def label(self) -> str:
        return self.short_name or self.name

    @property
    def is_operator(self) -> bool:
        return self.kind == OrganisationKind.OPERATOR

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.insee_code and (message := insee_error(self.insee_code)):
            errors["insee_code"] = message
        if self.siren and (message := siren_error(self.siren)):
            errors["siren"] = message
        if self.siret:
            if message := siret_error(self.siret):
                errors["siret"] = message
            elif self.siren and not self.siret.startswith(self.siren):
                errors["siret"] = gettext("le SIRET doit commencer par le SIREN de l'organisation")
        if self.department and not re.fullmatch(r"[0-9]{3}|02[AB]", self.department):
            errors["department"] = gettext("le département s'écrit sur trois caractères : 069, 02A, 974")
        if self.arrondissement and not self.arrondissement.isdigit():
            errors["arrondissement"] = gettext("l'arrondissement est un chiffre")
        if self.authority_nature and not re.fullmatch(r"[0-9]{2}", self.authority_nature):
            errors["authority_nature"] = gettext("la nature de la collectivité est un code à deux chiffres")
        if self.joined_on and self.left_on and self.left_on < self.joined_on:
            errors["left_on"] = gettext("la date de retrait précède la date d'adhésion")
        if self.population_year and not 1800 <= self.population_year <= 2200:
            errors["population_year"] = gettext("année invalide")
        if errors:
            raise ValidationError(errors)


class ContactRole(models.TextChoices):
    DSI = "dsi", _("DSI")
    DGS = "dgs", _("DGS")
    DGA = "dga", _("DGA")
    ELECTED = "elu", _("élu")
    DIRECTOR = "director", _("direction")
    OTHER = "other", _("autre")


class ContactQuerySet(TenantQuerySet["Contact"]):
    tenant_field = "organisation"


class Contact(BaseModel):
    organisation = models.ForeignKey(
        Organisation, verbose_name=_("organisation"), on_delete=models.CASCADE, related_name="contacts"
    )
    full_name = models.CharField(_("nom"), max_length=200)
    role = models.CharField(_("rôle"), max_length=16, choices=ContactRole.choices, default=ContactRole.OTHER)
    function = models.CharField(_("fonction"), max_length=200, blank=True)
    email = models.EmailField(_("courriel"), blank=True)
    phone = models.CharField(_("téléphone"), max_length=30, blank=True)

    objects = ContactQuerySet.as_manager()

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        ordering = ["organisation", "role", "full_name"]
        constraints = [models.UniqueConstraint(fields=["organisation", "full_name", "function"], name="contact_unique")]

    def __str__(self) -> str:
        return f"{self.full_name} ({self.function or self.get_role_display()})"


class OperatorService(BaseModel):
    """A team of the operator (member relations, information systems, hosting, resources)."""

    organisation = models.ForeignKey(
        Organisation, verbose_name=_("opérateur"), on_delete=models.CASCADE, related_name="services"
    )
    slug = models.SlugField(_("identifiant"), max_length=60, unique=True)
    name = models.CharField(_("nom"), max_length=200)
    scope = models.TextField(_("missions"), blank=True)
    headcount = models.PositiveSmallIntegerField(_("effectif"), null=True, blank=True)
    headcount_detail = models.CharField(_("détail de l'effectif"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("service de l'opérateur")
        verbose_name_plural = _("services de l'opérateur")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class StaffFigures(BaseModel):
    """The operator's staff for one year, as its activity report states them."""

    organisation = models.ForeignKey(
        Organisation, verbose_name=_("opérateur"), on_delete=models.CASCADE, related_name="staff_figures"
    )
    year = models.PositiveSmallIntegerField(_("année"))
    permanent_posts = models.PositiveSmallIntegerField(_("postes permanents"), null=True, blank=True)
    filled_posts = models.PositiveSmallIntegerField(_("postes pourvus"), null=True, blank=True)
    fte = models.DecimalField(_("ETP"), max_digits=6, decimal_places=1, null=True, blank=True)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("effectifs de l'année")
        verbose_name_plural = _("effectifs")
        ordering = ["-year"]
        constraints = [models.UniqueConstraint(fields=["organisation", "year"], name="staff_figures_year")]

    def __str__(self) -> str:
        return f"{self.organisation} {self.year}"
