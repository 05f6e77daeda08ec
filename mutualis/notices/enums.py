"""A notice's kinds and states, and the table of the state changes a service may make."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Kind(models.TextChoices):
    MAINTENANCE = "maintenance", _("maintenance planifiée")
    INCIDENT = "incident", _("incident majeur")


class State(models.TextChoices):
    PLANNED = "planned", _("prévu")
    IN_PROGRESS = "in_progress", _("en cours")
    ENDED = "ended", _("terminé")
    CANCELLED = "cancelled", _("annulé")


CURRENT_STATES = (State.PLANNED, State.IN_PROGRESS)


class Action(models.TextChoices):
    START = "start", _("commencer")
    END = "end", _("terminer")
    CANCEL = "cancel", _("annuler")


# (action, from) -> to. An incident is usually created already in progress; a maintenance
# starts when the team begins it; only something not yet begun can be cancelled.
TRANSITIONS: dict[tuple[str, str], str] = {
    (Action.START, State.PLANNED): State.IN_PROGRESS,
    (Action.END, State.IN_PROGRESS): State.ENDED,
    (Action.END, State.PLANNED): State.ENDED,
    (Action.CANCEL, State.PLANNED): State.CANCELLED,
}


class UpdateKind(models.TextChoices):
    """What a line of a notice's timeline records."""

    PUBLISHED = "published", _("publication")
    MESSAGE = "message", _("point de situation")
    STARTED = "started", _("début")
    ENDED = "ended", _("fin")
    CANCELLED = "cancelled", _("annulation")


UPDATE_OF_ACTION = {Action.START: UpdateKind.STARTED, Action.END: UpdateKind.ENDED, Action.CANCEL: UpdateKind.CANCELLED}
