"""The contracts register: contracts, their lots, their renewal decisions, the dated thresholds
they are checked against, and the notices already sent about their renewals and ends."""

from __future__ import annotations

import calendar
import datetime as dt
import re
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from mutualis.core.models import BaseModel
from mutualis.procurement.enums import (
    AmountKind,
    AwardMode,
    ContractKind,
    EventKind,
    Procedure,
    RenewalChoice,
    ThresholdKind,
)

CPV_PATTERN = re.compile(r"^[0-9]{8}(-[0-9])?$")


def add_months(day: dt.date, months: int) -> dt.date:
    """`day` moved by `months`, clamped to the end of shorter months (31/01 + 1 → 28 or 29/02)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def cpv_error(value: str) -> str | None:
    if not CPV_PATTERN.fullmatch(value):
        return gettext(
            "un code CPV compte 8 chiffres, suivis éventuellement d'un tiret et d'un chiffre de contrôle "
            "(ex. 72267000-4)"
        )
    return None


class Contract(BaseModel):
    """A public contract of the operator. Its end date is derived (start + duration + renewals
    decided) and stored by the services so the register can filter on it in SQL."""

    code = models.CharField(
        _("numéro"), max_length=16, unique=True, help_text=_("Identifiant interne (16 caractères au plus, DECP).")
    )
    object = models.CharField(_("objet"), max_length=1000)
    kind = models.CharField(_("nature"), max_length=32, choices=ContractKind.choices, default=ContractKind.CONTRACT)
    procedure = models.CharField(_("procédure"), max_length=16, choices=Procedure.choices)
    award_mode = models.CharField(
        _("mode d'attribution"), max_length=16, choices=AwardMode.choices, default=AwardMode.UNKNOWN
    )
    amount_kind = models.CharField(
        _("nature du montant"), max_length=8, choices=AmountKind.choices, default=AmountKind.MAXIMUM
    )
    max_amount_ht = models.DecimalField(_("montant HT (€)"), max_digits=14, decimal_places=2)
    budget_scope = models.CharField(
        _("budget"), max_length=40, blank=True, help_text=_("Par exemple principal ou annexe.")
    )
    cpv_code = models.CharField(_("code CPV"), max_length=10, blank=True)
    notified_on = models.DateField(_("notifié le"), null=True, blank=True)
    starts_on = models.DateField(_("début d'exécution"), null=True, blank=True)
    duration_months = models.PositiveSmallIntegerField(_("durée initiale (mois)"), null=True, blank=True)
    planned_end_on = models.DateField(
        _("fin prévue"), null=True, blank=True, help_text=_("À défaut de durée : la date de fin initiale.")
    )
    renewals_allowed = models.PositiveSmallIntegerField(_("reconductions possibles"), default=0)
    renewal_period_months = models.PositiveSmallIntegerField(
        _("durée d'une reconduction (mois)"), null=True, blank=True
    )
    ends_on = models.DateField(
        _("fin (reconductions décidées comprises)"), null=True, blank=True, editable=False, db_index=True
    )
    award_body = models.ForeignKey(
        "governance.Body",
        verbose_name=_("attribué par"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="contracts_awarded",
    )
    awarded_on = models.DateField(_("attribué le"), null=True, blank=True)
    applications = models.ManyToManyField(
        "catalog.Application", verbose_name=_("applications couvertes"), blank=True, related_name="contracts"
    )
    holders = models.ManyToManyField(
        "catalog.Vendor", verbose_name=pgettext_lazy("contract", "titulaires"), blank=True, related_name="contracts"
    )
    buyer_siret = models.CharField(
        _("SIRET de l'acheteur"), max_length=14, blank=True, help_text=_("Vide : celui de l'opérateur.")
    )
    # DECP-only facts (ccag, offresRecues, lieuExecution, formePrix, typesPrix, modifications…),
    # kept verbatim under their DECP names so an imported file exports back unchanged.
    decp_details = models.JSONField(_("données DECP complémentaires"), default=dict, blank=True)
    decp_published_on = models.DateField(_("données publiées le"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        verbose_name = _("marché")
        verbose_name_plural = _("marchés")
        ordering = ["-notified_on", "code"]

    def __str__(self) -> str:
        return f"{self.code} — {self.object[:80]}"

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.cpv_code and (message := cpv_error(self.cpv_code)):
            errors["cpv_code"] = message
        if self.max_amount_ht is not None and self.max_amount_ht < 0:
            errors["max_amount_ht"] = gettext("le montant ne peut pas être négatif")
        if self.planned_end_on and self.starts_on and self.planned_end_on < self.starts_on:
            errors["planned_end_on"] = gettext("la date de fin précède la date de début")
        if self.starts_on and self.notified_on and self.starts_on < self.notified_on:
            errors["starts_on"] = gettext("l'exécution ne peut pas commencer avant la notification")
        if self.renewals_allowed and not self.renewal_period_months:
            errors["renewal_period_months"] = gettext("indiquez la durée d'une reconduction")
        if self.buyer_siret and not re.fullmatch(r"\d{14}", self.buyer_siret):
            errors["buyer_siret"] = gettext("un SIRET compte 14 chiffres")
        if self.awarded_on and self.notified_on and self.notified_on < self.awarded_on:
            errors["notified_on"] = gettext("la notification précède l'attribution")
        if errors:
            raise ValidationError(errors)

    def initial_end(self) -> dt.date | None:
        """Last day of the initial period: start + duration − 1 day (a year from 02/05 ends 01/05)."""
        if self.planned_end_on:
            return self.planned_end_on
        if self.starts_on and self.duration_months:
            return add_months(self.starts_on, self.duration_months) - dt.timedelta(days=1)
        return None

    def compute_end(self, renewals: int) -> dt.date | None:
        initial = self.initial_end()
        if initial is None:
            return None
        if renewals and self.renewal_period_months:
            return add_months(initial + dt.timedelta(days=1), renewals * self.renewal_period_months) - dt.timedelta(
                days=1
            )
        return initial

    @property
    def duration_known(self) -> bool:
        return self.initial_end() is not None

    @property
    def max_total_months(self) -> int | None:
        """The DECP dureeMois: the initial duration with every possible renewal."""
        if not self.duration_months:
            return None
        return self.duration_months + self.renewals_allowed * (self.renewal_period_months or 0)


class Lot(BaseModel):
    contract = models.ForeignKey(Contract, verbose_name=_("marché"), on_delete=models.CASCADE, related_name="lots")
    number = models.PositiveSmallIntegerField(_("numéro de lot"))
    object = models.CharField(_("objet"), max_length=1000)
    amount_ht = models.DecimalField(_("montant HT (€)"), max_digits=14, decimal_places=2, null=True, blank=True)
    holder = models.ForeignKey(
        "catalog.Vendor",
        verbose_name=pgettext_lazy("contract", "titulaire"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="lots",
    )
    application = models.ForeignKey(
        "catalog.Application",
        verbose_name=_("application"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="lots",
    )

    class Meta:
        verbose_name = _("lot")
        verbose_name_plural = _("lots")
        ordering = ["contract", "number"]
        constraints = [models.UniqueConstraint(fields=["contract", "number"], name="one_lot_number_per_contract")]

    def __str__(self) -> str:
        return f"{self.contract.code} lot {self.number}"

    def clean(self) -> None:
        if self.amount_ht is not None and self.amount_ht < 0:
            raise ValidationError({"amount_ht": gettext("le montant ne peut pas être négatif")})


class RenewalDecision(BaseModel):
    """One decision, in order: renew for one more period, or not renew (the contract then ends).
    Append-only: the history is what the end date is computed from."""

    contract = models.ForeignKey(
        Contract, verbose_name=_("marché"), on_delete=models.CASCADE, related_name="renewal_decisions"
    )
    decided_on = models.DateField(_("décidé le"))
    decision = models.CharField(_("décision"), max_length=16, choices=RenewalChoice.choices)
    new_end_on = models.DateField(_("nouvelle fin"), null=True, blank=True)
    body = models.ForeignKey(
        "governance.Body",
        verbose_name=_("instance"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("enregistré par"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_by_label = models.CharField(_("enregistré par (libellé)"), max_length=200, blank=True)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("décision de reconduction")
        verbose_name_plural = _("décisions de reconduction")
        ordering = ["contract", "decided_on", "id"]

    def __str__(self) -> str:
        return f"{self.contract.code} : {self.get_decision_display()} ({self.decided_on:%d/%m/%Y})"


class Threshold(BaseModel):
    """A procurement threshold in force from `valid_from` until the next one of the same kind."""

    kind = models.CharField(_("seuil"), max_length=32, choices=ThresholdKind.choices)
    amount_ht = models.DecimalField(_("montant HT (€)"), max_digits=14, decimal_places=2)
    valid_from = models.DateField(_("en vigueur depuis le"))
    source = models.CharField(_("texte"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("seuil")
        verbose_name_plural = _("seuils")
        ordering = ["kind", "-valid_from"]
        constraints = [models.UniqueConstraint(fields=["kind", "valid_from"], name="one_threshold_per_kind_and_date")]

    def __str__(self) -> str:
        return gettext("%(kind)s : %(amount)s € HT depuis le %(day)s") % {
            "kind": self.get_kind_display(),
            "amount": self.amount_ht,
            "day": f"{self.valid_from:%d/%m/%Y}",
        }

    def clean(self) -> None:
        if self.amount_ht is not None and self.amount_ht < Decimal(0):
            raise ValidationError({"amount_ht": gettext("le montant ne peut pas être négatif")})


class ProcurementNotice(models.Model):
    """A mail already sent about a contract crossing a mark: what makes the notification idempotent."""

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="notices")
    event = models.CharField(max_length=16, choices=EventKind.choices)
    due_on = models.DateField()
    mark = models.PositiveSmallIntegerField()
    sent_at = models.DateTimeField(auto_now_add=True)
    recipients = models.TextField(blank=True)

    class Meta:
        verbose_name = _("alerte envoyée")
        verbose_name_plural = _("alertes envoyées")
        constraints = [
            models.UniqueConstraint(fields=["contract", "event", "due_on", "mark"], name="one_notice_per_mark")
        ]

    def __str__(self) -> str:
        return f"{self.contract_id} {self.event} {self.due_on} J-{self.mark}"
