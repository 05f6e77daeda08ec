"""Budgets and their execution by M57 chapter, carried-forward results, restes à réaliser, loans,
contribution keys and calls, and the co-financing of annex budgets. Amounts are exact decimals."""

from __future__ import annotations

from decimal import Decimal
from typing import Self

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from mutualis.core.actors import Visitor, signed_in_actor
from mutualis.core.models import BaseModel
from mutualis.core.tenancy import TenantQuerySet
from mutualis.finance.enums import BudgetKind, CarriedCode, ChapterKind, Section, Side
from mutualis.members.models import OrganisationKind

POSITIVE = [MinValueValidator(Decimal(0))]


StrOrPromise = str | Promise


def _amount(verbose: StrOrPromise, **extra: object) -> models.DecimalField:
    return models.DecimalField(verbose, max_digits=15, decimal_places=2, **extra)  # type: ignore[arg-type]


class Chapter(BaseModel):
    """An M57 chapter (nomenclature by nature): imports refer to chapters by their code."""

    section = models.CharField(_("section"), max_length=16, choices=Section.choices)
    code = models.CharField(_("code"), max_length=6)
    label = models.CharField(_("libellé"), max_length=200)
    kind = models.CharField(_("nature des opérations"), max_length=8, choices=ChapterKind.choices)

    class Meta:
        verbose_name = _("chapitre")
        verbose_name_plural = _("chapitres")
        ordering = ["section", "code"]
        constraints = [models.UniqueConstraint(fields=["section", "code"], name="finance_chapter_code")]

    def __str__(self) -> str:
        return f"{self.code} {self.label}"


class BudgetQuerySet(TenantQuerySet["Budget"]):
    tenant_field = "organisation"

    def visible_to(self, user: Visitor | None) -> Self:
        """The operator's budgets are public accounts: every signed-in account reads them, beside
        its own organisation's if it keeps some here."""
        actor = signed_in_actor(user)
        if actor is None:
            return self.none()
        if actor.is_operator:
            return self
        return self.filter(
            models.Q(organisation__kind=OrganisationKind.OPERATOR) | models.Q(organisation_id=actor.organisation_id)
        )


class Budget(BaseModel):
    """The principal budget or an annex budget of an organisation (usually the operator)."""

    organisation = models.ForeignKey(
        "members.Organisation", verbose_name=_("organisation"), on_delete=models.PROTECT, related_name="budgets"
    )
    slug = models.SlugField(_("identifiant"), max_length=60)
    name = models.CharField(_("nom"), max_length=200)
    kind = models.CharField(_("nature"), max_length=16, choices=BudgetKind.choices)

    objects = BudgetQuerySet.as_manager()

    class Meta:
        verbose_name = _("budget")
        verbose_name_plural = _("budgets")
        ordering = ["kind", "name"]
        constraints = [models.UniqueConstraint(fields=["organisation", "slug"], name="finance_budget_slug")]

    def __str__(self) -> str:
        return self.name


class BudgetYear(BaseModel):
    """One financial year of a budget: its execution (compte administratif) and what follows."""

    budget = models.ForeignKey(Budget, verbose_name=_("budget"), on_delete=models.CASCADE, related_name="years")
    year = models.PositiveSmallIntegerField(_("exercice"))
    source = models.TextField(_("source des données"), blank=True)

    class Meta:
        verbose_name = _("exercice budgétaire")
        verbose_name_plural = _("exercices budgétaires")
        ordering = ["budget", "year"]
        constraints = [models.UniqueConstraint(fields=["budget", "year"], name="finance_budget_year")]

    def __str__(self) -> str:
        return f"{self.budget} {self.year}"


class ExecutionLine(BaseModel):
    """What was executed on one chapter, one side, in one year (the source's row label kept)."""

    budget_year = models.ForeignKey(
        BudgetYear, verbose_name=_("exercice"), on_delete=models.CASCADE, related_name="lines"
    )
    chapter = models.ForeignKey(Chapter, verbose_name=_("chapitre"), on_delete=models.PROTECT, related_name="+")
    side = models.CharField(_("sens"), max_length=10, choices=Side.choices)
    label = models.CharField(_("libellé de la source"), max_length=200, blank=True)
    amount = _amount(_("montant réalisé"))

    class Meta:
        verbose_name = _("ligne d'exécution")
        verbose_name_plural = _("lignes d'exécution")
        ordering = ["budget_year", "chapter__section", "side", "chapter__code", "label"]
        constraints = [
            models.UniqueConstraint(fields=["budget_year", "chapter", "side", "label"], name="finance_line_unique")
        ]

    def __str__(self) -> str:
        return f"{self.budget_year} {self.chapter.code} {self.side} {self.amount}"


class TotalScope(models.TextChoices):
    YEAR = "exercice", _("exercice seul")
    CUMULATIVE = "cumul", _("avec le résultat reporté")


class StatedTotal(BaseModel):
    """A section total as a source prints it: checked against the lines, and the year's own
    execution (scope « exercice ») is the figure the results start from when it is given."""

    budget_year = models.ForeignKey(
        BudgetYear, verbose_name=_("exercice"), on_delete=models.CASCADE, related_name="stated_totals"
    )
    section = models.CharField(_("section"), max_length=16, choices=Section.choices)
    side = models.CharField(_("sens"), max_length=10, choices=Side.choices)
    scope = models.CharField(_("portée"), max_length=10, choices=TotalScope.choices)
    amount = _amount(_("montant"))
    source = models.CharField(_("source"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("total déclaré")
        verbose_name_plural = _("totaux déclarés")
        constraints = [
            models.UniqueConstraint(fields=["budget_year", "section", "side", "scope"], name="finance_total_unique")
        ]


class CarriedForward(BaseModel):
    """A result carried from the previous year: R001/D001 (investment), R002/D002 (operating)."""

    budget_year = models.ForeignKey(
        BudgetYear, verbose_name=_("exercice"), on_delete=models.CASCADE, related_name="carried"
    )
    code = models.CharField(_("code"), max_length=4, choices=CarriedCode.choices)
    amount = _amount(_("montant"), validators=POSITIVE)

    class Meta:
        verbose_name = _("résultat reporté")
        verbose_name_plural = _("résultats reportés")
        constraints = [models.UniqueConstraint(fields=["budget_year", "code"], name="finance_carried_unique")]


class RemainingCommitment(BaseModel):
    """Restes à réaliser at 31/12: committed, not yet paid (or received); split into the part
    mutualised among all members and the part personalised to some."""

    budget_year = models.ForeignKey(
        BudgetYear, verbose_name=_("exercice"), on_delete=models.CASCADE, related_name="remaining"
    )
    section = models.CharField(_("section"), max_length=16, choices=Section.choices, default=Section.INVESTMENT)
    side = models.CharField(_("sens"), max_length=10, choices=Side.choices)
    amount = _amount(_("montant"), validators=POSITIVE)
    mutualised_amount = _amount(_("part mutualisée"), null=True, blank=True, validators=POSITIVE)
    personalised_amount = _amount(_("part personnalisée"), null=True, blank=True, validators=POSITIVE)

    class Meta:
        verbose_name = _("restes à réaliser")
        verbose_name_plural = _("restes à réaliser")
        constraints = [models.UniqueConstraint(fields=["budget_year", "section", "side"], name="finance_rar_unique")]


class RemainingOperation(BaseModel):
    """One of the main operations behind the restes à réaliser, as the report lists them."""

    commitment = models.ForeignKey(
        RemainingCommitment, verbose_name=_("restes à réaliser"), on_delete=models.CASCADE, related_name="operations"
    )
    label = models.CharField(_("opération"), max_length=300)
    amount = _amount(_("montant"), validators=POSITIVE)

    class Meta:
        verbose_name = _("opération en reste à réaliser")
        verbose_name_plural = _("opérations en reste à réaliser")
        ordering = ["-amount", "label"]


class Loan(BaseModel):
    budget = models.ForeignKey(Budget, verbose_name=_("budget"), on_delete=models.CASCADE, related_name="loans")
    lender = models.CharField(_("prêteur"), max_length=200)
    label = models.CharField(_("objet"), max_length=200, blank=True)
    initial_capital = _amount(_("capital initial"), validators=POSITIVE)
    rate = models.DecimalField(_("taux (%)"), max_digits=6, decimal_places=3, validators=POSITIVE)
    start_year = models.PositiveSmallIntegerField(_("année de mobilisation"))

    class Meta:
        verbose_name = _("emprunt")
        verbose_name_plural = _("emprunts")
        ordering = ["start_year", "lender"]

    def __str__(self) -> str:
        return f"{self.lender} {self.start_year}"


class LoanYear(BaseModel):
    """A loan's figures for one year: outstanding at 31/12, capital repaid, interest paid."""

    loan = models.ForeignKey(Loan, verbose_name=_("emprunt"), on_delete=models.CASCADE, related_name="years")
    year = models.PositiveSmallIntegerField(_("exercice"))
    outstanding = _amount(_("encours au 31/12"), validators=POSITIVE)
    capital_repaid = _amount(_("capital remboursé"), validators=POSITIVE)
    interest = _amount(_("intérêts"), validators=POSITIVE)

    class Meta:
        verbose_name = _("annuité d'emprunt")
        verbose_name_plural = _("annuités d'emprunt")
        ordering = ["loan", "year"]
        constraints = [models.UniqueConstraint(fields=["loan", "year"], name="finance_loan_year")]


class ContributionKey(BaseModel):
    """How the mutualised cost is split: a blend of population, agents and subscribed applications,
    weighted in percent (the weights add up to 100)."""

    slug = models.SlugField(_("identifiant"), max_length=60, unique=True)
    name = models.CharField(_("nom"), max_length=200)
    population_weight = models.DecimalField(
        _("poids de la population (%)"), max_digits=5, decimal_places=2, default=Decimal(0), validators=POSITIVE
    )
    agents_weight = models.DecimalField(
        _("poids du nombre d'agents (%)"), max_digits=5, decimal_places=2, default=Decimal(0), validators=POSITIVE
    )
    applications_weight = models.DecimalField(
        _("poids des applications souscrites (%)"),
        max_digits=5,
        decimal_places=2,
        default=Decimal(0),
        validators=POSITIVE,
    )

    class Meta:
        verbose_name = _("clé de répartition")
        verbose_name_plural = _("clés de répartition")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def weights(self) -> dict[str, Decimal]:
        return {
            "population": self.population_weight,
            "agents": self.agents_weight,
            "applications": self.applications_weight,
        }

    def clean(self) -> None:
        total = sum(self.weights.values(), Decimal(0))
        if total != 100:
            raise ValidationError(
                gettext("les pondérations totalisent %(t)s %%, elles doivent totaliser 100 %%")
                % {"t": f"{total.normalize():f}".replace(".", ",")}
            )


class ContributionCall(BaseModel):
    """A year's call for contributions: the mutualised cost split by a key, plus a price per
    subscribed application (the personalised parts)."""

    budget_year = models.OneToOneField(
        BudgetYear, verbose_name=_("exercice"), on_delete=models.CASCADE, related_name="contribution_call"
    )
    label = models.CharField(_("libellé"), max_length=200)
    mutualised_amount = _amount(_("coût mutualisé à répartir"), validators=POSITIVE)
    key = models.ForeignKey(ContributionKey, verbose_name=_("clé"), on_delete=models.PROTECT, related_name="calls")
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("appel de contributions")
        verbose_name_plural = _("appels de contributions")

    def __str__(self) -> str:
        return self.label


class ApplicationPrice(BaseModel):
    call = models.ForeignKey(ContributionCall, verbose_name=_("appel"), on_delete=models.CASCADE, related_name="prices")
    application = models.ForeignKey(
        "catalog.Application", verbose_name=_("application"), on_delete=models.PROTECT, related_name="+"
    )
    price = _amount(_("prix par adhérent abonné"), validators=POSITIVE)

    class Meta:
        verbose_name = _("prix d'application")
        verbose_name_plural = _("prix d'applications")
        constraints = [models.UniqueConstraint(fields=["call", "application"], name="finance_price_unique")]


class Cofinancing(BaseModel):
    """What partners co-finance of an annex budget's year (called the following year)."""

    budget_year = models.OneToOneField(
        BudgetYear, verbose_name=_("exercice"), on_delete=models.CASCADE, related_name="cofinancing"
    )
    label = models.CharField(_("libellé"), max_length=200)
    amount = _amount(_("montant à cofinancer"), validators=POSITIVE)
    called_in = models.PositiveSmallIntegerField(_("appelé en"), null=True, blank=True)

    class Meta:
        verbose_name = _("cofinancement")
        verbose_name_plural = _("cofinancements")

    def __str__(self) -> str:
        return self.label


class CofinancingShare(BaseModel):
    cofinancing = models.ForeignKey(
        Cofinancing, verbose_name=_("cofinancement"), on_delete=models.CASCADE, related_name="shares"
    )
    partner = models.ForeignKey(
        "members.Organisation", verbose_name=_("partenaire"), on_delete=models.PROTECT, related_name="+"
    )
    fixed_amount = _amount(_("montant fixe"), null=True, blank=True, validators=POSITIVE)
    percent = models.DecimalField(
        _("pourcentage"), max_digits=6, decimal_places=3, null=True, blank=True, validators=POSITIVE
    )

    class Meta:
        verbose_name = _("part de cofinancement")
        verbose_name_plural = _("parts de cofinancement")
        constraints = [models.UniqueConstraint(fields=["cofinancing", "partner"], name="finance_share_unique")]
