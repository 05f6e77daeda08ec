"""Bodies of the operator (comité syndical, bureau, CAO, commissions, conference, steering
committees) and mandates: who sits where, for which organisation, with which role, when."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from mutualis.core.models import BaseModel


class BodyKind(models.TextChoices):
    COMMITTEE = "comite_syndical", _("comité syndical")
    BUREAU = "bureau", _("bureau syndical")
    TENDER = "cao", _("commission d'appel d'offres")
    COMMISSION = "commission", _("commission thématique")
    CONFERENCE = "conference", _("conférence intercommunale")
    STEERING_TECHNICAL = "copil_technique", _("comité de pilotage technique (DSI)")
    STEERING_STRATEGIC = "copil_strategique", _("comité de pilotage stratégique (directions générales)")


class Body(BaseModel):
    slug = models.SlugField(_("identifiant"), max_length=80, unique=True)
    name = models.CharField(_("nom"), max_length=200)
    kind = models.CharField(_("nature"), max_length=24, choices=BodyKind.choices)
    description = models.TextField(_("rôle"), blank=True)
    titular_seats_per_member = models.PositiveSmallIntegerField(
        _("sièges titulaires par adhérent"), null=True, blank=True
    )
    substitute_seats_per_member = models.PositiveSmallIntegerField(
        _("sièges suppléants par adhérent"), null=True, blank=True
    )
    position = models.PositiveSmallIntegerField(_("ordre"), default=0)

    class Meta:
        verbose_name = _("instance")
        verbose_name_plural = _("instances")
        ordering = ["position", "name"]

    def __str__(self) -> str:
        return self.name


class Person(BaseModel):
    """Someone who holds a mandate (an elected official, a director); not necessarily an account."""

    slug = models.SlugField(_("identifiant"), max_length=80, unique=True)
    full_name = models.CharField(_("nom"), max_length=200)

    class Meta:
        verbose_name = _("personne")
        verbose_name_plural = _("personnes")
        ordering = ["full_name"]

    def __str__(self) -> str:
        return self.full_name


class MandateRole(models.TextChoices):
    PRESIDENT = "president", _("président")
    VICE_PRESIDENT = "vice_president", _("vice-président")
    MEMBER = "membre", _("membre")
    TITULAR = "titulaire", _("titulaire")
    SUBSTITUTE = "suppleant", _("suppléant")


class Mandate(BaseModel):
    person = models.ForeignKey(Person, verbose_name=_("personne"), on_delete=models.PROTECT, related_name="mandates")
    body = models.ForeignKey(Body, verbose_name=_("instance"), on_delete=models.PROTECT, related_name="mandates")
    role = models.CharField(_("rôle"), max_length=16, choices=MandateRole.choices)
    organisation = models.ForeignKey(
        "members.Organisation",
        verbose_name=_("organisation représentée"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="mandates",
    )
    title = models.CharField(_("fonction"), max_length=120, blank=True, help_text=_("Par exemple D.G.S."))
    commission_led = models.ForeignKey(
        Body,
        verbose_name=_("commission animée"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="leaders",
        limit_choices_to={"kind": BodyKind.COMMISSION},
    )
    start_on = models.DateField(_("début"), null=True, blank=True)
    end_on = models.DateField(_("fin"), null=True, blank=True)

    class Meta:
        verbose_name = _("mandat")
        verbose_name_plural = _("mandats")
        ordering = ["body__position", "role", "person__full_name"]
        constraints = [models.UniqueConstraint(fields=["person", "body", "role", "start_on"], name="mandate_unique")]

    def __str__(self) -> str:
        return f"{self.person} — {self.get_role_display()} — {self.body}"

    def clean(self) -> None:
        if self.start_on and self.end_on and self.end_on < self.start_on:
            raise ValidationError({"end_on": gettext("la fin du mandat précède son début")})
        if self.commission_led_id and self.commission_led and self.commission_led.kind != BodyKind.COMMISSION:
            raise ValidationError({"commission_led": gettext("choisissez une commission thématique")})
