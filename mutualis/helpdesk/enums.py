"""Ticket vocabulary and the lifecycle's transition table (the only way a status changes)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext_lazy as _


class TicketType(models.TextChoices):
    INCIDENT = "incident", _("incident")
    REQUEST = "request", _("demande")


class Status(models.TextChoices):
    NEW = "new", _("nouveau")
    ASSIGNED = "assigned", _("attribué")
    IN_PROGRESS = "in_progress", _("en cours")
    PENDING = "pending", _("en attente")
    SOLVED = "solved", _("résolu")
    CLOSED = "closed", _("clos")


OPEN_STATUSES = (Status.NEW, Status.ASSIGNED, Status.IN_PROGRESS, Status.PENDING)


class PendingReason(models.TextChoices):
    REQUESTER = "requester", _("en attente du demandeur")
    VENDOR = "vendor", _("en attente de l'éditeur")


class Source(models.TextChoices):
    WEB = "web", _("interface")
    FORM = "form", _("formulaire")
    MAIL = "mail", _("courriel")
    API = "api", _("API")
    IMPORT = "import", _("import")


class Clock(models.TextChoices):
    TTO = "tto", _("prise en compte")
    TTR = "ttr", _("résolution")


class DurationUnit(models.TextChoices):
    HOURS = "hours", _("heures ouvrées")
    DAYS = "days", _("jours ouvrés")


class Action(models.TextChoices):
    ASSIGN = "assign", _("attribuer")
    TAKE = "take", _("prendre en charge")
    WAIT = "wait", _("mettre en attente")
    RESUME = "resume", _("reprendre")
    SOLVE = "solve", _("résoudre")
    ACCEPT = "accept", _("accepter la solution")
    REFUSE = "refuse", _("refuser la solution")
    CLOSE = "close", _("clore")
    REOPEN = "reopen", _("rouvrir")
    MERGE = "merge", _("fusionner dans un autre ticket")


class Actor(models.TextChoices):
    STAFF = "staff", _("opérateur")
    REQUESTER = "requester", _("demandeur")
    SYSTEM = "system", _("système")


@dataclass(frozen=True)
class Transition:
    action: str
    source: str
    target: str
    by: frozenset[str]


def _t(action: Action, source: Status, target: Status, *by: Actor) -> Transition:
    return Transition(action.value, source.value, target.value, frozenset(b.value for b in by))


_WORK = (Status.NEW, Status.ASSIGNED, Status.IN_PROGRESS)
TRANSITIONS: tuple[Transition, ...] = (
    *(_t(Action.ASSIGN, s, Status.ASSIGNED, Actor.STAFF) for s in (Status.NEW, Status.IN_PROGRESS, Status.PENDING)),
    *(_t(Action.TAKE, s, Status.IN_PROGRESS, Actor.STAFF) for s in (Status.NEW, Status.ASSIGNED)),
    *(_t(Action.WAIT, s, Status.PENDING, Actor.STAFF) for s in _WORK),
    _t(Action.RESUME, Status.PENDING, Status.IN_PROGRESS, Actor.STAFF, Actor.REQUESTER, Actor.SYSTEM),
    *(_t(Action.SOLVE, s, Status.SOLVED, Actor.STAFF) for s in (*_WORK, Status.PENDING)),
    _t(Action.ACCEPT, Status.SOLVED, Status.CLOSED, Actor.REQUESTER, Actor.SYSTEM),
    _t(Action.CLOSE, Status.SOLVED, Status.CLOSED, Actor.STAFF, Actor.SYSTEM),
    _t(Action.REFUSE, Status.SOLVED, Status.IN_PROGRESS, Actor.REQUESTER),
    _t(Action.REOPEN, Status.CLOSED, Status.IN_PROGRESS, Actor.REQUESTER, Actor.STAFF),
    # A duplicate closes into the ticket kept, from any state but closed.
    *(_t(Action.MERGE, s, Status.CLOSED, Actor.STAFF) for s in (*OPEN_STATUSES, Status.SOLVED)),
)
TRANSITION_TABLE: dict[tuple[str, str], Transition] = {(t.action, t.source): t for t in TRANSITIONS}
# Actions that move more than a status (a merge moves followups, attachments and watchers too):
# only their own service takes them (services.ticket_merge), never the generic transition, and
# the pages and the API do not offer them among the status changes.
OWN_SERVICE_ACTIONS = frozenset({Action.MERGE.value})


def allowed_actions(status: str, actor_kind: str) -> list[str]:
    return [
        t.action
        for t in TRANSITIONS
        if t.source == status and actor_kind in t.by and t.action not in OWN_SERVICE_ACTIONS
    ]
