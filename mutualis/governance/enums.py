"""The sittings' vocabulary and their lifecycle: a transition table, checked by
`services.sitting_transition`, never a state assigned by hand."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

# CGCT L.2121-12 (communes of 3,500 inhabitants and more, applied to syndicates by L.5211-1):
# five clear days between the sending of the convocation and the sitting, one in an emergency.
NOTICE_CLEAR_DAYS = 5
EMERGENCY_NOTICE_CLEAR_DAYS = 1
# CGCT L.2121-17: without quorum, the body is convened again "à trois jours au moins d'intervalle"
# and then deliberates whatever the number present.
REQUORUM_INTERVAL_DAYS = 3


class SittingKind(models.TextChoices):
    ORDINARY = "ordinaire", _("ordinaire")
    EXTRAORDINARY = "extraordinaire", _("extraordinaire")


class SittingState(models.TextChoices):
    PLANNED = "prevue", _("prévue")
    CONVENED = "convoquee", _("convoquée")
    HELD = "tenue", _("tenue")
    NO_QUORUM = "sans_quorum", _("quorum non atteint")
    CLOSED = "close", _("close")


# (from, to): the only moves a sitting makes.
TRANSITIONS: frozenset[tuple[str, str]] = frozenset(
    {
        (SittingState.PLANNED, SittingState.CONVENED),
        (SittingState.CONVENED, SittingState.HELD),
        (SittingState.CONVENED, SittingState.NO_QUORUM),
        (SittingState.HELD, SittingState.CLOSED),
    }
)


class ItemKind(models.TextChoices):
    DELIBERATION = "deliberation", _("délibération")
    INFORMATION = "information", _("information")


class Attendance(models.TextChoices):
    PRESENT = "present", _("présent")
    ABSENT = "absent", _("absent")
    EXCUSED = "excuse", _("excusé")
    REPRESENTED = "represente", _("représenté (pouvoir)")


class VoteResult(models.TextChoices):
    ADOPTED = "adoptee", _("adoptée")
    REJECTED = "rejetee", _("rejetée")


class CastingVote(models.TextChoices):
    FOR = "pour", _("pour")
    AGAINST = "contre", _("contre")


class Delegate(models.TextChoices):
    PRESIDENT = "president", _("président")
    BUREAU = "bureau", _("bureau")
