"""Personal data: the retention rules the operator's data protection officer sets, the records the
retention job has anonymised, and the register of access, portability and erasure requests."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from mutualis.core.models import BaseModel


class RetentionKind(models.TextChoices):
    CLOSED_TICKETS = "closed_tickets", _("demandes closes (avec leurs suivis et pièces jointes)")
    INACTIVE_AGENTS = "inactive_agents", _("agents sortis de l'annuaire")
    LOGIN_TRACES = "login_traces", _("adresses IP et identifiants des échecs de connexion et demandes de mot de passe")
    INBOUND_MAIL = "inbound_mail", _("expéditeurs et objets des courriels reçus")
    SESSIONS = "sessions", _("sessions expirées")


# Months each kind of record is kept by default (docs/privacy.md gives the reasons); migration 0002
# writes these rows on a fresh install and operator admins change them on /donnees-personnelles/.
DEFAULT_MONTHS = {
    RetentionKind.CLOSED_TICKETS: 60,
    RetentionKind.INACTIVE_AGENTS: 12,
    RetentionKind.LOGIN_TRACES: 12,
    RetentionKind.INBOUND_MAIL: 12,
    RetentionKind.SESSIONS: 0,
}


class RetentionRule(BaseModel):
    """How long one kind of record keeps its personal data; `mutualis privacy_apply_retention`
    anonymises or deletes what is older. Changed through `retention_rule_update` (audited)."""

    kind = models.CharField(_("données"), max_length=32, choices=RetentionKind.choices, unique=True)
    months = models.PositiveSmallIntegerField(_("durée de conservation (mois)"), validators=[MaxValueValidator(1200)])
    enabled = models.BooleanField(_("appliquée"), default=True)
    last_run_at = models.DateTimeField(_("dernière application"), null=True, blank=True)
    last_run_count = models.PositiveIntegerField(_("enregistrements traités la dernière fois"), default=0)

    class Meta:
        verbose_name = _("règle de conservation")
        verbose_name_plural = _("règles de conservation")
        ordering = ["kind"]

    def __str__(self) -> str:
        return str(self.get_kind_display())


class AnonymisedRecord(models.Model):
    """A record the retention job has anonymised, so the next run skips it: kept here rather than
    in a column of the record's own table, which belongs to another app."""

    kind = models.CharField(_("données"), max_length=32, choices=RetentionKind.choices)
    object_id = models.BigIntegerField(_("identifiant"))
    anonymised_at = models.DateTimeField(_("anonymisé le"))

    class Meta:
        verbose_name = _("enregistrement anonymisé")
        verbose_name_plural = _("enregistrements anonymisés")
        constraints = [models.UniqueConstraint(fields=["kind", "object_id"], name="privacy_anonymised_once")]

    def __str__(self) -> str:
        return f"{self.kind} #{self.object_id}"


class RequestKind(models.TextChoices):
    EXPORT = "export", _("accès et portabilité (export)")
    ERASURE = "erasure", _("effacement (pseudonymisation)")


class PrivacyRequest(BaseModel):
    """One request of a person about their data, as answered: the register the DPO shows the
    CNIL. It names the person by their pseudonym only, never by name, so an erasure leaves no name
    behind here either."""

    kind = models.CharField(_("demande"), max_length=16, choices=RequestKind.choices)
    subject_label = models.CharField(_("personne (pseudonyme)"), max_length=40, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("compte"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    agent = models.ForeignKey(
        "identity.Agent", verbose_name=_("agent"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    organisation = models.ForeignKey(
        "members.Organisation",
        verbose_name=_("organisation"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("traitée par"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # What the answer held or changed, as counts per kind of record (never the values).
    counts = models.JSONField(_("décompte"), default=dict, blank=True)

    class Meta:
        verbose_name = _("demande sur les données personnelles")
        verbose_name_plural = _("registre des demandes sur les données personnelles")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} — {self.subject_label}"
