"""Bodies of the operator (comité syndical, bureau, CAO, commissions, conference, steering
committees) and mandates: who sits where, for which organisation, with which role, when. Then the
sittings of those bodies (agenda, convocation, attendance, votes, numbered deliberations, minutes)
and the decisions the president and the bureau take on delegation."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from mutualis.core.models import BaseModel
from mutualis.core.timefmt import local_datetime
from mutualis.governance.enums import (
    Attendance,
    CastingVote,
    Delegate,
    ItemKind,
    SittingKind,
    SittingState,
    VoteResult,
)


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
    email = models.EmailField(_("adresse électronique"), blank=True, help_text=_("Pour les convocations."))

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


# The roles that vote and count toward the quorum; a substitute sits only in a titular's place.
VOTING_ROLES = (MandateRole.PRESIDENT, MandateRole.VICE_PRESIDENT, MandateRole.MEMBER, MandateRole.TITULAR)


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
    end_reason = models.CharField(_("motif de fin"), max_length=200, blank=True)
    replaces = models.OneToOneField(
        "self",
        verbose_name=_("remplace"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="replaced_by",
    )

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


class Sitting(BaseModel):
    """One meeting of a body. Its state moves only through `services.sitting_transition`; the
    figures of the holding (members in office, present, represented) are kept as they were that
    day, since mandates change afterwards."""

    body = models.ForeignKey(Body, verbose_name=_("instance"), on_delete=models.PROTECT, related_name="sittings")
    starts_at = models.DateTimeField(_("date et heure"))
    place = models.CharField(_("lieu"), max_length=200)
    kind = models.CharField(_("nature"), max_length=16, choices=SittingKind.choices, default=SittingKind.ORDINARY)
    state = models.CharField(_("état"), max_length=16, choices=SittingState.choices, default=SittingState.PLANNED)
    follows = models.OneToOneField(
        "self",
        verbose_name=_("reconvoquée après"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reconvened_as",
        help_text=_("La séance où le quorum n'a pas été atteint : celle-ci délibère sans condition de quorum."),
    )
    emergency_reason = models.TextField(_("motif de l'urgence"), blank=True)
    convened_at = models.DateTimeField(_("convocation envoyée le"), null=True, blank=True)
    convocation_sent_to = models.TextField(_("convocation adressée à"), blank=True)
    convocation_not_mailed = models.TextField(_("membres sans adresse électronique"), blank=True)
    in_office = models.PositiveSmallIntegerField(_("membres en exercice"), null=True, blank=True)
    present = models.PositiveSmallIntegerField(_("présents"), null=True, blank=True)
    represented = models.PositiveSmallIntegerField(_("représentés"), null=True, blank=True)
    minutes = models.TextField(_("procès-verbal"), blank=True)

    class Meta:
        verbose_name = _("séance")
        verbose_name_plural = _("séances")
        ordering = ["-starts_at"]

    def __str__(self) -> str:
        return f"{self.body} — {local_datetime(self.starts_at)}"

    @property
    def needs_quorum(self) -> bool:
        return self.follows_id is None

    @property
    def quorum(self) -> int | None:
        """The smallest number present that makes a majority of the members in office."""
        return None if self.in_office is None else self.in_office // 2 + 1


class SittingTransition(models.Model):
    """The log of a sitting's states: who moved it, when."""

    sitting = models.ForeignKey(Sitting, on_delete=models.CASCADE, related_name="transitions")
    source = models.CharField(max_length=16, choices=SittingState.choices)
    target = models.CharField(max_length=16, choices=SittingState.choices)
    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.sitting_id}: {self.source} → {self.target}"


class AgendaItem(BaseModel):
    """A point of the agenda; a deliberation item gets its vote, and its number once adopted and
    the sitting closed (`number` is then the syndicate's « 2026-014 »)."""

    sitting = models.ForeignKey(Sitting, verbose_name=_("séance"), on_delete=models.CASCADE, related_name="items")
    position = models.PositiveSmallIntegerField(_("ordre"))
    title = models.CharField(_("objet"), max_length=300)
    rapporteur = models.CharField(_("rapporteur"), max_length=200, blank=True)
    kind = models.CharField(_("nature"), max_length=16, choices=ItemKind.choices, default=ItemKind.DELIBERATION)
    draft = models.TextField(_("projet de délibération"), blank=True)
    votes_for = models.PositiveSmallIntegerField(_("pour"), null=True, blank=True)
    votes_against = models.PositiveSmallIntegerField(_("contre"), null=True, blank=True)
    abstentions = models.PositiveSmallIntegerField(_("abstentions"), null=True, blank=True)
    not_voting = models.PositiveSmallIntegerField(_("ne prennent pas part au vote"), null=True, blank=True)
    casting_vote = models.CharField(
        _("voix du président (partage égal)"), max_length=8, choices=CastingVote.choices, blank=True
    )
    result = models.CharField(_("résultat"), max_length=8, choices=VoteResult.choices, blank=True)
    year = models.PositiveSmallIntegerField(_("année"), null=True, blank=True)
    sequence = models.PositiveIntegerField(_("rang dans l'année"), null=True, blank=True)

    class Meta:
        verbose_name = _("point de l'ordre du jour")
        verbose_name_plural = _("points de l'ordre du jour")
        ordering = ["sitting", "position"]
        constraints = [
            models.UniqueConstraint(fields=["sitting", "position"], name="agenda_item_position_unique"),
            models.UniqueConstraint(fields=["year", "sequence"], name="deliberation_number_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.position}. {self.title}"

    @property
    def number(self) -> str:
        return f"{self.year}-{self.sequence:03d}" if self.year and self.sequence else ""

    @property
    def voted(self) -> bool:
        return self.result != ""


class DeliberationCounter(models.Model):
    """The last number given in a year: the row closings lock, so numbers never repeat or skip."""

    year = models.PositiveSmallIntegerField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.year}: {self.last}"


class Presence(BaseModel):
    """A member's attendance at a sitting; `proxy_holder` is the member voting for them."""

    sitting = models.ForeignKey(Sitting, on_delete=models.CASCADE, related_name="presences")
    mandate = models.ForeignKey(Mandate, verbose_name=_("membre"), on_delete=models.PROTECT, related_name="+")
    status = models.CharField(_("présence"), max_length=16, choices=Attendance.choices)
    proxy_holder = models.ForeignKey(
        Mandate,
        verbose_name=_("pouvoir donné à"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("présence")
        verbose_name_plural = _("présences")
        constraints = [
            models.UniqueConstraint(fields=["sitting", "mandate"], name="presence_unique"),
            # CGCT L.2121-20: a member holds one proxy at most.
            models.UniqueConstraint(
                fields=["sitting", "proxy_holder"],
                condition=models.Q(proxy_holder__isnull=False),
                name="one_proxy_per_holder",
            ),
        ]


class Delegation(BaseModel):
    """Powers the comité syndical gave the president or the bureau (CGCT L.5211-10), by a
    deliberation, with an optional ceiling per decision."""

    delegate = models.CharField(_("délégataire"), max_length=16, choices=Delegate.choices)
    scope = models.CharField(_("objet de la délégation"), max_length=300)
    deliberation = models.ForeignKey(
        AgendaItem,
        verbose_name=_("délibération de délégation"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="delegations",
    )
    deliberation_reference = models.CharField(
        _("référence de la délibération"),
        max_length=60,
        blank=True,
        help_text=_("Pour une délibération antérieure à Mutualis, par exemple « 2020-031 du 15/07/2020 »."),
    )
    threshold_ht = models.DecimalField(_("plafond HT (€)"), max_digits=14, decimal_places=2, null=True, blank=True)
    valid_from = models.DateField(_("en vigueur depuis le"))
    valid_until = models.DateField(_("jusqu'au"), null=True, blank=True)

    class Meta:
        verbose_name = _("délégation")
        verbose_name_plural = _("délégations")
        ordering = ["delegate", "-valid_from"]

    def __str__(self) -> str:
        return f"{self.get_delegate_display()} : {self.scope} ({self.reference})"

    @property
    def reference(self) -> str:
        return self.deliberation.number if self.deliberation_id and self.deliberation else self.deliberation_reference


class DelegatedDecision(BaseModel):
    """A decision taken under a delegation, reported to the comité syndical (L.5211-10)."""

    delegation = models.ForeignKey(
        Delegation, verbose_name=_("délégation"), on_delete=models.PROTECT, related_name="decisions"
    )
    object = models.CharField(_("objet"), max_length=300)
    decided_on = models.DateField(_("date de la décision"))
    amount_ht = models.DecimalField(_("montant HT (€)"), max_digits=14, decimal_places=2, null=True, blank=True)
    # Named by string: procurement sits above governance and reads it; governance never imports it.
    contract = models.ForeignKey(
        "procurement.Contract",
        verbose_name=_("marché"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="delegated_decisions",
    )

    class Meta:
        verbose_name = _("décision prise par délégation")
        verbose_name_plural = _("décisions prises par délégation")
        ordering = ["-decided_on", "-id"]

    def __str__(self) -> str:
        return self.object
