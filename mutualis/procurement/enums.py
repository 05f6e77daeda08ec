"""Choices of the procurement register; values are stable identifiers, labels are French."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ContractKind(models.TextChoices):
    CONTRACT = "marche", _("marché")
    FRAMEWORK_SINGLE = "accord_cadre_sans_subsequent", _("accord-cadre sans marchés subséquents")
    FRAMEWORK_SUBSEQUENT = "accord_cadre_subsequents", _("accord-cadre avec marchés subséquents")
    CONCESSION = "concession", _("concession")


class Procedure(models.TextChoices):
    ADAPTED = "mapa", _("procédure adaptée (MAPA)")
    OPEN_TENDER = "aoo", _("appel d'offres ouvert")
    RESTRICTED_TENDER = "aor", _("appel d'offres restreint")
    NEGOTIATED = "negociee", _("procédure avec négociation")
    COMPETITIVE_DIALOGUE = "dialogue", _("dialogue compétitif")
    FORMALISED = "formalisee", _("procédure formalisée (sans précision)")
    WITHOUT_PUBLICITY = "sans_publicite", _("sans publicité ni mise en concurrence préalable")


# Procedures that are only allowed above the European thresholds (or that the buyer may choose
# at any amount): a MAPA is the one that is wrong above them.
FORMALISED_PROCEDURES = (
    Procedure.OPEN_TENDER,
    Procedure.RESTRICTED_TENDER,
    Procedure.NEGOTIATED,
    Procedure.COMPETITIVE_DIALOGUE,
    Procedure.FORMALISED,
)


class AwardMode(models.TextChoices):
    PUBLICITY = "publicite", _("publicité (BOAMP) et mise en concurrence")
    WITHOUT_PUBLICITY = "sans_publicite", _("sans publicité ni mise en concurrence préalable")
    OPEN_TENDER = "aoo", _("appel d'offres ouvert (AOO)")
    RESTRICTED_TENDER = "aor", _("appel d'offres restreint")
    UNKNOWN = "inconnu", _("non renseigné")


class AmountKind(models.TextChoices):
    MAXIMUM = "maximum", _("montant maximum")
    ESTIMATED = "estime", _("montant estimé")


class RenewalChoice(models.TextChoices):
    RENEW = "renew", _("reconduction")
    NOT_RENEW = "not_renew", _("non-reconduction")


class ThresholdKind(models.TextChoices):
    EU_SUPPLIES_SERVICES = (
        "eu_fournitures_services",
        _("seuil européen — fournitures et services des collectivités territoriales"),
    )
    EU_WORKS = "eu_travaux", _("seuil européen — travaux")
    NO_PUBLICITY = "dispense_publicite", _("dispense de publicité et de mise en concurrence")
    PUBLICITY_BOAMP = "publicite_boamp", _("publicité obligatoire au BOAMP ou dans un JAL (MAPA)")


class EventKind(models.TextChoices):
    RENEWAL = "renewal", _("décision de reconduction")
    END = "end", _("fin du marché")


# The dashboard's and the notifications' marks, in days before the event.
MARKS = (30, 60, 90)
