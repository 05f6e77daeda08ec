"""Notices of planned maintenance and major incidents, their timeline, the tickets linked to an
incident and the secret tokens of the calendar feed. Who is affected is not stored: it is read
from the catalogue's subscriptions each time (selectors.affected_members)."""

from __future__ import annotations

from typing import Self

from django.conf import settings
from django.db import models
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext_lazy as _

from mutualis.catalog.models import ACTIVE_STATUSES, Subscription
from mutualis.core.actors import Visitor, signed_in_actor
from mutualis.core.models import BaseModel
from mutualis.core.tenancy import TenantQuerySet
from mutualis.notices.enums import Kind, State, UpdateKind


class NoticeQuerySet(TenantQuerySet["Notice"]):
    # A notice belongs to no one member: it concerns every member subscribed to one of its
    # applications, so the gate filters on the subscriptions rather than on one column.
    tenant_field = "applications__subscriptions__collectivity"

    def concerning(self, organisation_id: int) -> Self:
        """Notices about an application `organisation_id` has in deployment or production."""
        subscribed = Subscription.objects.filter(
            collectivity_id=organisation_id,
            status__in=ACTIVE_STATUSES,
            application__notices=OuterRef("pk"),
        )
        return self.filter(Exists(subscribed))

    def visible_to(self, user: Visitor | None) -> Self:
        actor = signed_in_actor(user)
        if actor is None:
            return self.none()
        if actor.is_operator:
            return self
        if actor.organisation_id is None:
            return self.none()
        return self.concerning(actor.organisation_id)


class Notice(BaseModel):
    kind = models.CharField(_("nature"), max_length=16, choices=Kind.choices)
    title = models.CharField(_("titre"), max_length=200)
    description = models.TextField(_("description"), help_text=_("Markdown : **gras**, listes, liens."))
    applications = models.ManyToManyField(
        "catalog.Application", verbose_name=_("applications concernées"), related_name="notices"
    )
    starts_at = models.DateTimeField(_("début"))
    planned_end_at = models.DateTimeField(_("fin prévue"))
    ended_at = models.DateTimeField(_("fin effective"), null=True, blank=True)
    state = models.CharField(_("état"), max_length=16, choices=State.choices, default=State.PLANNED)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("auteur"), null=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = NoticeQuerySet.as_manager()

    class Meta:
        verbose_name = _("avis")
        verbose_name_plural = _("avis")
        ordering = ["-starts_at", "-pk"]
        indexes = [models.Index(fields=["state", "starts_at"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(planned_end_at__gt=models.F("starts_at")), name="notice_end_after_start"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} — {self.title}"

    @property
    def is_incident(self) -> bool:
        return self.kind == Kind.INCIDENT

    @property
    def is_current(self) -> bool:
        return self.state in (State.PLANNED, State.IN_PROGRESS)


class NoticeUpdate(BaseModel):
    """One line of the notice's timeline: its publication, a message, its start, end or cancellation."""

    notice = models.ForeignKey(Notice, verbose_name=_("avis"), on_delete=models.CASCADE, related_name="updates")
    kind = models.CharField(_("nature"), max_length=16, choices=UpdateKind.choices, default=UpdateKind.MESSAGE)
    body = models.TextField(_("message"), blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("auteur"), null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("point de situation")
        verbose_name_plural = _("points de situation")
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.notice.title} — {self.get_kind_display()}"


class NoticeTicketQuerySet(TenantQuerySet["NoticeTicket"]):
    tenant_field = "ticket__collectivity"


class NoticeTicket(BaseModel):
    """A ticket filed about a major incident, solved with it."""

    notice = models.ForeignKey(Notice, verbose_name=_("avis"), on_delete=models.CASCADE, related_name="ticket_links")
    ticket = models.ForeignKey(
        "helpdesk.Ticket", verbose_name=_("ticket"), on_delete=models.CASCADE, related_name="notice_links"
    )
    linked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("lié par"), null=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = NoticeTicketQuerySet.as_manager()

    class Meta:
        verbose_name = _("ticket lié")
        verbose_name_plural = _("tickets liés")
        ordering = ["ticket__reference"]
        constraints = [models.UniqueConstraint(fields=["notice", "ticket"], name="notice_ticket_once")]

    def __str__(self) -> str:
        return f"{self.notice.title} — {self.ticket.reference}"


class CalendarToken(BaseModel):
    """The secret of an account's calendar feed address. Only its SHA-256 digest is kept, as for
    API tokens: the address is shown once, when it is made; revoking it stops the feed at once."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("compte"), on_delete=models.CASCADE, related_name="calendar_tokens"
    )
    prefix = models.CharField(_("préfixe"), max_length=12)
    digest = models.CharField(_("empreinte SHA-256"), max_length=64, unique=True)
    last_used_at = models.DateTimeField(_("dernière utilisation"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("révoqué le"), null=True, blank=True)

    class Meta:
        verbose_name = _("jeton d'agenda")
        verbose_name_plural = _("jetons d'agenda")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.prefix}…"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
