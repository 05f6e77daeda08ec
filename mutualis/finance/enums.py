"""The closed vocabularies of public accounting (M57) the finance app uses."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class BudgetKind(models.TextChoices):
    PRINCIPAL = "principal", _("budget principal")
    ANNEX = "annexe", _("budget annexe")


class Section(models.TextChoices):
    OPERATING = "fonctionnement", _("fonctionnement")
    INVESTMENT = "investissement", _("investissement")


class Side(models.TextChoices):
    REVENUE = "recettes", _("recettes")
    EXPENSE = "depenses", _("dépenses")


class ChapterKind(models.TextChoices):
    """Real operations move money; *ordre* operations are accounting transfers between sections;
    a *report* chapter (001, 002) carries the previous year's result."""

    REAL = "reel", _("réel")
    ORDER = "ordre", _("ordre")
    CARRIED = "report", _("report")


class CarriedCode(models.TextChoices):
    """R001/D001: investment surplus/deficit carried forward; R002/D002: the operating one."""

    R001 = "R001", _("R001 — excédent d'investissement reporté")
    D001 = "D001", _("D001 — déficit d'investissement reporté")
    R002 = "R002", _("R002 — excédent de fonctionnement reporté")
    D002 = "D002", _("D002 — déficit de fonctionnement reporté")


CARRIED_SECTION = {
    CarriedCode.R001: Section.INVESTMENT,
    CarriedCode.D001: Section.INVESTMENT,
    CarriedCode.R002: Section.OPERATING,
    CarriedCode.D002: Section.OPERATING,
}
CARRIED_SIGN = {CarriedCode.R001: 1, CarriedCode.D001: -1, CarriedCode.R002: 1, CarriedCode.D002: -1}
