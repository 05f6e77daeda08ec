"""The agents directory: organisation units, agents (one per HR id and collectivity), and the
register of the directory attributes each application receives (GDPR).

The history of an agent is the audit log: every sync writes one entry per changed agent with the
fields' values before and after.
"""

from __future__ import annotations

from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from mutualis.core.models import BaseModel
from mutualis.core.tenancy import TenantQuerySet


class OrganisationUnitQuerySet(TenantQuerySet["OrganisationUnit"]):
    tenant_field = "collectivity"


class OrganisationUnit(BaseModel):
    """A department of a collectivity (direction, service, pôle), in a tree."""

    collectivity = models.ForeignKey(
        "members.Organisation", verbose_name=_("collectivité"), on_delete=models.PROTECT, related_name="units"
    )
    code = models.CharField(_("code"), max_length=60)
    name = models.CharField(_("libellé"), max_length=200)
    parent = models.ForeignKey(
        "self", verbose_name=_("rattaché à"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )

    objects = OrganisationUnitQuerySet.as_manager()

    class Meta:
        verbose_name = _("service")
        verbose_name_plural = _("services")
        ordering = ["collectivity", "name"]
        constraints = [models.UniqueConstraint(fields=["collectivity", "code"], name="unit_code_per_collectivity")]

    def __str__(self) -> str:
        return self.name


class Civility(models.TextChoices):
    MADAME = "Mme", _("Madame")
    MONSIEUR = "M.", _("Monsieur")


class AgentStatus(models.TextChoices):
    ACTIVE = "active", _("actif")
    INACTIVE = "inactive", _("inactif")


class AgentQuerySet(TenantQuerySet["Agent"]):
    tenant_field = "collectivity"


class Agent(BaseModel):
    """A person employed by a collectivity, as its HR software knows them. Never deleted: a leaver
    becomes inactive, so the history and the accounts tied to the entry stay readable."""

    collectivity = models.ForeignKey(
        "members.Organisation", verbose_name=_("collectivité"), on_delete=models.PROTECT, related_name="agents"
    )
    hr_id = models.CharField(_("matricule"), max_length=60)
    civility = models.CharField(_("civilité"), max_length=4, choices=Civility.choices, blank=True)
    last_name = models.CharField(_("nom"), max_length=100)
    first_name = models.CharField(_("prénom"), max_length=100)
    mail = models.EmailField(_("courriel"), max_length=254, blank=True)
    login = models.CharField(
        _("identifiant de connexion"),
        max_length=100,
        blank=True,
        help_text=_("Identifiant dans le fournisseur d'identité (uid LDAP) ; par défaut <collectivité>.<matricule>."),
    )
    function = models.CharField(_("fonction"), max_length=200, blank=True)
    department = models.ForeignKey(
        OrganisationUnit,
        verbose_name=_("service"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="agents",
    )
    manager = models.ForeignKey(
        "self", verbose_name=_("responsable"), null=True, blank=True, on_delete=models.SET_NULL, related_name="reports"
    )
    start_on = models.DateField(_("date d'entrée"), null=True, blank=True)
    end_on = models.DateField(_("date de sortie"), null=True, blank=True)
    status = models.CharField(_("statut"), max_length=16, choices=AgentStatus.choices, default=AgentStatus.ACTIVE)

    objects = AgentQuerySet.as_manager()

    class Meta:
        verbose_name = _("agent")
        verbose_name_plural = _("agents")
        ordering = ["last_name", "first_name"]
        constraints = [models.UniqueConstraint(fields=["collectivity", "hr_id"], name="agent_hr_id_per_collectivity")]
        indexes = [
            models.Index(Lower("mail"), name="agent_mail_lower"),
            models.Index(fields=["login"], name="agent_login"),
        ]

    def __str__(self) -> str:
        return f"{self.last_name.upper()} {self.first_name}"

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def is_active(self) -> bool:
        return self.status == AgentStatus.ACTIVE

    @property
    def uid(self) -> str:
        """The login the identity provider knows the agent by."""
        return self.login or f"{self.collectivity.slug}.{self.hr_id}".lower()


class DirectoryAttribute(models.TextChoices):
    """The claims the directory can release, named as in OpenID Connect."""

    LOGIN = "preferred_username", _("identifiant")
    MAIL = "email", _("courriel")
    FAMILY_NAME = "family_name", _("nom")
    GIVEN_NAME = "given_name", _("prénom")
    NAME = "name", _("nom complet")
    FUNCTION = "job_title", _("fonction")
    DEPARTMENT = "department", _("service")
    COLLECTIVITY = "organization", _("collectivité")
    GROUPS = "groups", _("groupes")


# The LDAP attribute behind each claim, as LemonLDAP::NG's LDAP backend exports it.
LDAP_ATTRIBUTE = {
    DirectoryAttribute.LOGIN: "uid",
    DirectoryAttribute.MAIL: "mail",
    DirectoryAttribute.FAMILY_NAME: "sn",
    DirectoryAttribute.GIVEN_NAME: "givenName",
    DirectoryAttribute.NAME: "cn",
    DirectoryAttribute.FUNCTION: "title",
    DirectoryAttribute.DEPARTMENT: "departmentNumber",
    DirectoryAttribute.COLLECTIVITY: "o",
    DirectoryAttribute.GROUPS: "groups",
}


class AttributeRelease(BaseModel):
    """One line of the GDPR register: application X receives attribute Y for purpose Z."""

    application = models.ForeignKey(
        "catalog.Application",
        verbose_name=_("application"),
        on_delete=models.CASCADE,
        related_name="attribute_releases",
    )
    attribute = models.CharField(_("attribut"), max_length=32, choices=DirectoryAttribute.choices)
    purpose = models.CharField(_("finalité"), max_length=300)

    class Meta:
        verbose_name = _("attribut transmis")
        verbose_name_plural = _("registre des attributs transmis")
        ordering = ["application__name", "attribute"]
        constraints = [models.UniqueConstraint(fields=["application", "attribute"], name="one_release_per_attribute")]

    def __str__(self) -> str:
        return f"{self.application} ← {self.get_attribute_display()}"
