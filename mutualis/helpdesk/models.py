"""Tickets with their followups, tasks, attachments, transition log and service-level events;
categories, the priority matrix, business calendars and service-level policies."""

from __future__ import annotations

import datetime as dt
from typing import Self

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from mutualis.accounts.models import Role
from mutualis.core.actors import Visitor, signed_in_actor
from mutualis.core.models import BaseModel
from mutualis.core.tenancy import TenantQuerySet
from mutualis.helpdesk.enums import (
    OPEN_STATUSES,
    Action,
    Clock,
    DurationUnit,
    PendingReason,
    Source,
    Status,
    TicketType,
)
from mutualis.lib.business_offsets import OffsetTable, table_for
from mutualis.lib.business_time import CalendarSpec, spec_from_rows

SCALE = [MinValueValidator(1), MaxValueValidator(5)]
# GLPI's six priorities: the matrix gives 1 (très basse) to 5 (très haute) by default; 6
# (majeure) is for the operator to put in the matrix, as GLPI allows.
PRIORITY_SCALE = [MinValueValidator(1), MaxValueValidator(6)]


class Category(BaseModel):
    slug = models.SlugField(_("identifiant"), max_length=80, unique=True)
    name = models.CharField(_("nom"), max_length=150)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("catégorie parente"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    default_group = models.ForeignKey(
        "members.OperatorService",
        verbose_name=_("groupe par défaut"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    position = models.PositiveSmallIntegerField(_("ordre"), default=0)

    class Meta:
        verbose_name = _("catégorie")
        verbose_name_plural = _("catégories")
        ordering = ["position", "name"]

    def __str__(self) -> str:
        return self.name


class PriorityCell(models.Model):
    """One cell of the urgency × impact → priority matrix (GLPI's default is loaded by migration)."""

    urgency = models.PositiveSmallIntegerField(_("urgence"), validators=SCALE)
    impact = models.PositiveSmallIntegerField(_("impact"), validators=SCALE)
    priority = models.PositiveSmallIntegerField(_("priorité"), validators=PRIORITY_SCALE)

    class Meta:
        verbose_name = _("case de la matrice de priorité")
        verbose_name_plural = _("matrice de priorité")
        constraints = [models.UniqueConstraint(fields=["urgency", "impact"], name="priority_cell_unique")]

    def __str__(self) -> str:
        return f"U{self.urgency} × I{self.impact} → P{self.priority}"


class Calendar(BaseModel):
    slug = models.SlugField(_("identifiant"), max_length=60, unique=True)
    name = models.CharField(_("nom"), max_length=120)
    timezone = models.CharField(_("fuseau horaire"), max_length=64, default="Europe/Paris")
    use_french_holidays = models.BooleanField(_("fermé les jours fériés (métropole)"), default=True)
    is_default = models.BooleanField(_("calendrier par défaut"), default=False)

    class Meta:
        verbose_name = _("calendrier")
        verbose_name_plural = _("calendriers")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"], condition=models.Q(is_default=True), name="one_default_calendar"
            )
        ]

    def __str__(self) -> str:
        return self.name

    def offsets(self) -> OffsetTable:
        """The cumulative business-seconds table, cached per process and calendar version."""
        return table_for(self.pk, self.updated_at.isoformat(), self.spec)

    def spec(self) -> CalendarSpec:
        """The calendar as pure data (two queries); callers cache it for a batch."""
        return spec_from_rows(
            timezone=self.timezone,
            intervals=self.intervals.values_list("weekday", "start", "end"),
            closed_days=[day for closure in self.closures.all() for day in closure.days()],
            use_french_holidays=self.use_french_holidays,
        )


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("lundi")
    TUESDAY = 1, _("mardi")
    WEDNESDAY = 2, _("mercredi")
    THURSDAY = 3, _("jeudi")
    FRIDAY = 4, _("vendredi")
    SATURDAY = 5, _("samedi")
    SUNDAY = 6, _("dimanche")


class OpeningInterval(models.Model):
    calendar = models.ForeignKey(Calendar, on_delete=models.CASCADE, related_name="intervals")
    weekday = models.PositiveSmallIntegerField(_("jour"), choices=Weekday.choices)
    start = models.TimeField(_("ouverture"))
    end = models.TimeField(_("fermeture"))

    class Meta:
        verbose_name = _("plage d'ouverture")
        verbose_name_plural = _("plages d'ouverture")
        ordering = ["calendar", "weekday", "start"]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.start:%H:%M}–{self.end:%H:%M}"

    def clean(self) -> None:
        if self.start and self.end and self.end <= self.start:
            raise ValidationError({"end": _("la fermeture doit suivre l'ouverture")})


class Closure(models.Model):
    """The operator's own closures (e.g. between Christmas and New Year)."""

    calendar = models.ForeignKey(Calendar, on_delete=models.CASCADE, related_name="closures")
    label = models.CharField(_("motif"), max_length=120)
    start = models.DateField(_("du"))
    end = models.DateField(_("au"))

    class Meta:
        verbose_name = _("fermeture")
        verbose_name_plural = _("fermetures")
        ordering = ["start"]

    def __str__(self) -> str:
        return f"{self.label} ({self.start:%d/%m/%Y}–{self.end:%d/%m/%Y})"

    def clean(self) -> None:
        if self.start and self.end and self.end < self.start:
            raise ValidationError({"end": _("la fin précède le début")})

    def days(self) -> list[dt.date]:
        return [self.start + dt.timedelta(days=n) for n in range((self.end - self.start).days + 1)]


class SlaPolicy(BaseModel):
    """Times to own and to resolve for tickets of a type and priority (blank = any), blocking or
    not; the most specific matching policy applies. Migration 0009 gives a fresh install one per
    type and priority, and the tightest for blocking incidents."""

    name = models.CharField(_("nom"), max_length=150)
    # A commitment of the catalogue is measured by the policies that name it (the quality pages'
    # compliance per commitment); one policy may measure several commitments.
    commitments = models.ManyToManyField(
        "catalog.ServiceCommitment",
        verbose_name=_("engagements de service mesurés"),
        blank=True,
        related_name="sla_policies",
    )
    ticket_type = models.CharField(_("type"), max_length=16, choices=TicketType.choices, blank=True)
    priority = models.PositiveSmallIntegerField(_("priorité"), null=True, blank=True, validators=PRIORITY_SCALE)
    blocking_only = models.BooleanField(_("incidents bloquants seulement"), default=False)
    calendar = models.ForeignKey(Calendar, verbose_name=_("calendrier"), on_delete=models.PROTECT)
    tto_value = models.PositiveIntegerField(_("délai de prise en compte"), null=True, blank=True)
    tto_unit = models.CharField(_("unité"), max_length=8, choices=DurationUnit.choices, default=DurationUnit.HOURS)
    ttr_value = models.PositiveIntegerField(_("délai de résolution"), null=True, blank=True)
    ttr_unit = models.CharField(_("unité"), max_length=8, choices=DurationUnit.choices, default=DurationUnit.DAYS)
    escalation_percents = models.CharField(
        _("alertes (% du délai)"),
        max_length=40,
        default="50,75,100",
        help_text=_("Pourcentages du délai auxquels le groupe est prévenu, séparés par des virgules."),
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("politique de niveau de service")
        verbose_name_plural = _("politiques de niveau de service")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        try:
            levels = self.levels()
        except ValueError:
            raise ValidationError(
                {"escalation_percents": _("des nombres entre 1 et 100 séparés par des virgules")}
            ) from None
        if any(not 0 < level <= 100 for level in levels):
            raise ValidationError({"escalation_percents": _("des nombres entre 1 et 100 séparés par des virgules")})

    def levels(self) -> list[int]:
        return sorted({int(part) for part in self.escalation_percents.split(",") if part.strip()})


class TicketSequence(models.Model):
    """Last number given per year, so references read 2026-000123 without gaps from races."""

    year = models.PositiveSmallIntegerField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.year}: {self.last}"


class TicketQuerySet(TenantQuerySet["Ticket"]):
    tenant_field = "collectivity"

    def visible_to(self, user: Visitor | None) -> Self:
        """Operator staff see every ticket; a member manager (and an elected official, read-only)
        its collectivity's; a member agent only the tickets it requested or watches."""
        qs = super().visible_to(user)
        actor = signed_in_actor(user)
        if actor is None or actor.is_operator or getattr(actor, "role", None) in {Role.MEMBER_MANAGER, Role.ELECTED}:
            return qs
        return qs.filter(models.Q(requester_id=actor.pk) | models.Q(watchers=actor.pk)).distinct()


# The columns quality.kpis groups by, and those it reads on the tickets solved in a period.
KPI_KEYS = ("collectivity", "application", "ticket_type", "priority")
KPI_MEASURED = (
    "opened_offset",
    "taken_offset",
    "solved_offset",
    "waiting_seconds",
    "tto_budget_s",
    "ttr_budget_s",
    "blocking",
    "reopen_count",
    "satisfaction",
)


class Ticket(BaseModel):
    reference = models.CharField(_("référence"), max_length=16, unique=True)
    external_id = models.CharField(_("identifiant externe"), max_length=64, null=True, blank=True, unique=True)
    ticket_type = models.CharField(_("type"), max_length=16, choices=TicketType.choices)
    source = models.CharField(_("origine"), max_length=8, choices=Source.choices, default=Source.WEB)
    collectivity = models.ForeignKey(
        "members.Organisation", verbose_name=_("collectivité"), on_delete=models.PROTECT, related_name="tickets"
    )
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("demandeur"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="requested_tickets",
    )
    application = models.ForeignKey(
        "catalog.Application",
        verbose_name=_("application"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tickets",
    )
    category = models.ForeignKey(
        Category, verbose_name=_("catégorie"), null=True, blank=True, on_delete=models.PROTECT, related_name="tickets"
    )
    title = models.CharField(_("titre"), max_length=250)
    description = models.TextField(_("description"))
    urgency = models.PositiveSmallIntegerField(_("urgence"), default=3, validators=SCALE)
    impact = models.PositiveSmallIntegerField(_("impact"), default=3, validators=SCALE)
    priority = models.PositiveSmallIntegerField(_("priorité"), default=3, validators=PRIORITY_SCALE)
    blocking = models.BooleanField(_("bloquant"), default=False)
    status = models.CharField(_("statut"), max_length=16, choices=Status.choices, default=Status.NEW)
    group = models.ForeignKey(
        "members.OperatorService",
        verbose_name=_("groupe"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tickets",
    )
    technician = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("technicien"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="assigned_tickets",
    )
    vendor_reference = models.CharField(_("référence chez l'éditeur"), max_length=100, blank=True)
    watchers = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("observateurs"), blank=True, related_name="watched_tickets"
    )
    policy = models.ForeignKey(
        SlaPolicy,
        verbose_name=_("politique de service"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tickets",
    )
    calendar = models.ForeignKey(Calendar, verbose_name=_("calendrier"), on_delete=models.PROTECT, related_name="+")
    # opened_at, solved_at, closed_at: indexed by the covering indexes in Meta (hd_ticket_*_kpis).
    opened_at = models.DateTimeField(_("ouvert le"))
    taken_at = models.DateTimeField(_("pris en compte le"), null=True, blank=True)
    solved_at = models.DateTimeField(_("résolu le"), null=True, blank=True)
    closed_at = models.DateTimeField(_("clos le"), null=True, blank=True)
    pending_since = models.DateTimeField(_("en attente depuis"), null=True, blank=True)
    pending_reason = models.CharField(_("motif d'attente"), max_length=16, choices=PendingReason.choices, blank=True)
    waiting_seconds = models.PositiveIntegerField(_("attente (secondes ouvrées)"), default=0)
    tto_budget_s = models.PositiveIntegerField(_("délai de prise en compte (s)"), null=True, blank=True)
    ttr_budget_s = models.PositiveIntegerField(_("délai de résolution (s)"), null=True, blank=True)
    tto_due_at = models.DateTimeField(_("prise en compte attendue le"), null=True, blank=True)
    ttr_due_at = models.DateTimeField(_("résolution attendue le"), null=True, blank=True, db_index=True)
    # Cumulative business seconds on the ticket's calendar (mutualis.lib.business_offsets): a
    # duration is a subtraction, so indicators are one grouped query.
    opened_offset = models.BigIntegerField(_("ouverture (secondes ouvrées cumulées)"), null=True, blank=True)
    taken_offset = models.BigIntegerField(_("prise en compte (secondes ouvrées cumulées)"), null=True, blank=True)
    solved_offset = models.BigIntegerField(_("résolution (secondes ouvrées cumulées)"), null=True, blank=True)
    tto_breached = models.BooleanField(_("délai de prise en compte dépassé"), default=False)
    ttr_breached = models.BooleanField(_("délai de résolution dépassé"), default=False)
    reopen_count = models.PositiveSmallIntegerField(_("réouvertures"), default=0)
    reassign_count = models.PositiveSmallIntegerField(_("réattributions"), default=0)
    linked_to = models.ForeignKey(
        "self", verbose_name=_("lié au ticket"), null=True, blank=True, on_delete=models.SET_NULL, related_name="linked"
    )
    merged_into = models.ForeignKey(
        "self", verbose_name=_("fusionné dans"), null=True, blank=True, on_delete=models.SET_NULL, related_name="merged"
    )
    satisfaction = models.PositiveSmallIntegerField(_("satisfaction"), null=True, blank=True, validators=SCALE)
    satisfaction_comment = models.TextField(_("commentaire de satisfaction"), blank=True)
    satisfaction_at = models.DateTimeField(_("satisfaction donnée le"), null=True, blank=True)
    # {"form": slug, "answers": {question key: value}} when the ticket came from an online form.
    form_answers = models.JSONField(_("réponses au formulaire"), null=True, blank=True)

    objects = TicketQuerySet.as_manager()

    class Meta:
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        ordering = ["-opened_at", "-id"]
        indexes = [
            models.Index(fields=["status", "group"]),
            models.Index(fields=["collectivity", "status"]),
            models.Index(fields=["technician", "status"]),
            # In the queue's order (selectors.ticket_queue: -priority, ttr_due_at, -opened_at, -id):
            # the open tickets (partial: about 1 % of the rows), one application's open tickets, all
            # of one application's or one collectivity's tickets, all tickets. Each page is read in
            # order from the index, without sorting the matching rows.
            models.Index(
                fields=["-priority", "ttr_due_at", "-opened_at", "-id"],
                condition=models.Q(status__in=OPEN_STATUSES),
                name="hd_ticket_open_queue",
            ),
            models.Index(
                fields=["application", "-priority", "ttr_due_at", "-opened_at", "-id"],
                condition=models.Q(status__in=OPEN_STATUSES),
                name="hd_ticket_open_app_queue",
            ),
            models.Index(
                fields=["application", "-priority", "ttr_due_at", "-opened_at", "-id"], name="hd_ticket_app_queue"
            ),
            models.Index(
                fields=["collectivity", "-priority", "ttr_due_at", "-opened_at", "-id"], name="hd_ticket_coll_queue"
            ),
            models.Index(fields=["-priority", "ttr_due_at", "-opened_at", "-id"], name="hd_ticket_queue"),
            # The indicators (quality.kpis) read a period's tickets by opening, closure and
            # solution, grouped by these keys: covering indexes (INCLUDE, PostgreSQL only; plain
            # indexes on the date elsewhere) let PostgreSQL answer from the index alone, without
            # visiting the rows. At 1,000,000 tickets (bench.kpis, PostgreSQL 15), CPU time of a
            # year by month × member 0.43 s → 0.27 s, of a month 41 ms → 27 ms; the decade is a
            # scan either way (2.24 s both). Cost: about 220 MB of index instead of 63 MB.
            models.Index(fields=["opened_at"], include=[*KPI_KEYS], name="hd_ticket_opened_kpis"),
            models.Index(fields=["closed_at"], include=[*KPI_KEYS], name="hd_ticket_closed_kpis"),
            models.Index(
                fields=["solved_at"], include=["opened_at", *KPI_KEYS, *KPI_MEASURED], name="hd_ticket_solved_kpis"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference} — {self.title}"

    @property
    def is_open(self) -> bool:
        return self.status in {Status.NEW, Status.ASSIGNED, Status.IN_PROGRESS, Status.PENDING}


class Followup(BaseModel):
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="followups")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("auteur"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    body = models.TextField(_("message"))
    is_private = models.BooleanField(_("privé (opérateur seulement)"), default=False)
    is_solution = models.BooleanField(_("solution"), default=False)
    source = models.CharField(_("origine"), max_length=8, choices=Source.choices, default=Source.WEB)

    class Meta:
        verbose_name = _("suivi")
        verbose_name_plural = _("suivis")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.ticket.reference} suivi {self.pk}"


class TicketTaskQuerySet(TenantQuerySet["TicketTask"]):
    """A task is read with its ticket's collectivity (the time-accounting pages)."""

    tenant_field = "ticket__collectivity"


class TicketTask(BaseModel):
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="tasks")
    # None only for a task taken over from GLPI whose author has no account here: its text then
    # opens with the name GLPI knew them by (mutualis/glpi), as an authorless followup does.
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("auteur"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    description = models.TextField(_("description"))
    duration_seconds = models.PositiveIntegerField(_("durée (secondes)"))
    done_on = models.DateField(_("réalisée le"))
    is_private = models.BooleanField(_("privée"), default=True)

    objects = TicketTaskQuerySet.as_manager()

    class Meta:
        verbose_name = _("tâche")
        verbose_name_plural = _("tâches")
        ordering = ["done_on", "id"]
        indexes = [models.Index(fields=["done_on"])]


def attachment_path(instance: Attachment, filename: str) -> str:
    return f"helpdesk/{instance.ticket.reference}/{filename}"


class Attachment(BaseModel):
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="attachments")
    followup = models.ForeignKey(Followup, null=True, blank=True, on_delete=models.SET_NULL, related_name="attachments")
    file = models.FileField(_("fichier"), upload_to=attachment_path, max_length=300)
    name = models.CharField(_("nom"), max_length=255)
    size = models.PositiveIntegerField(_("taille (octets)"))
    content_type = models.CharField(_("type"), max_length=120)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("pièce jointe")
        verbose_name_plural = _("pièces jointes")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.name


class TransitionLog(models.Model):
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="transitions")
    created_at = models.DateTimeField(_("le"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    action = models.CharField(_("action"), max_length=16, choices=Action.choices)
    from_status = models.CharField(_("de"), max_length=16, choices=Status.choices)
    to_status = models.CharField(_("vers"), max_length=16, choices=Status.choices)
    comment = models.TextField(_("commentaire"), blank=True)

    class Meta:
        verbose_name = _("changement de statut")
        verbose_name_plural = _("changements de statut")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.ticket_id}: {self.from_status} → {self.to_status}"


class SlaEvent(models.Model):
    """A service-level threshold crossed (50 %, 75 %, 100 % of a clock's budget); unique so the
    group is told once."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="sla_events")
    clock = models.CharField(_("horloge"), max_length=4, choices=Clock.choices)
    percent = models.PositiveSmallIntegerField(_("pourcentage"))
    created_at = models.DateTimeField(_("le"), auto_now_add=True)

    class Meta:
        verbose_name = _("alerte de niveau de service")
        verbose_name_plural = _("alertes de niveau de service")
        constraints = [models.UniqueConstraint(fields=["ticket", "clock", "percent"], name="sla_event_once")]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.clock} {self.percent} %"


class AnswerTemplate(BaseModel):
    name = models.CharField(_("nom"), max_length=150, unique=True)
    body = models.TextField(_("texte"))

    class Meta:
        verbose_name = _("modèle de réponse")
        verbose_name_plural = _("modèles de réponse")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class SavedView(BaseModel):
    """A staff member's saved queue: a name and the queue's query string (filters and view)."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_views")
    name = models.CharField(_("nom"), max_length=100)
    query = models.CharField(_("filtres"), max_length=500)

    class Meta:
        verbose_name = _("vue enregistrée")
        verbose_name_plural = _("vues enregistrées")
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["owner", "name"], name="saved_view_unique")]

    def __str__(self) -> str:
        return self.name


from mutualis.helpdesk.mail_models import *  # noqa: E402,F401,F403
from mutualis.helpdesk.outbox_models import *  # noqa: E402,F401,F403
