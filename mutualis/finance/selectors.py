"""Reads: a budget year's figures gathered with a fixed number of aggregate queries, handed to
the pure computations; consistency warnings; statements scoped by the acting account.

Budgets of the operator are public accounts: every signed-in account reads them. A member's
account reads only its own contribution statement (another member's answers 404)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import Count, Q, QuerySet, Sum
from django.http import Http404
from django.utils.translation import gettext

from mutualis.accounts.models import User
from mutualis.catalog.models import ACTIVE_STATUSES, Application, Subscription
from mutualis.core.tenancy import is_operator
from mutualis.finance import computations as calc
from mutualis.finance.enums import CARRIED_SECTION, CARRIED_SIGN, BudgetKind, CarriedCode, ChapterKind, Section, Side
from mutualis.finance.formatting import euros, plain, plain_rate
from mutualis.finance.models import (
    Budget,
    BudgetYear,
    CarriedForward,
    Cofinancing,
    ContributionCall,
    ContributionKey,
    ExecutionLine,
    Loan,
    LoanYear,
    RemainingCommitment,
    StatedTotal,
    TotalScope,
)
from mutualis.members.models import Organisation, OrganisationKind

ZERO = Decimal("0.00")
PAIRS = [(s, d) for s in Section.values for d in (Side.EXPENSE, Side.REVENUE)]


def operator() -> Organisation | None:
    return Organisation.objects.filter(kind=OrganisationKind.OPERATOR).first()


# -- budgets ------------------------------------------------------------------------------------
def budget_list(*, actor: User) -> QuerySet[Budget]:
    """The operator's budgets, and the account's own organisation's if it keeps some here."""
    return (
        Budget.objects.visible_to(actor).select_related("organisation").order_by("organisation__name", "kind", "name")
    )


def budget_get(*, actor: User | None, slug: str, organisation: Organisation | None = None) -> Budget:
    """A budget by its slug; the operator's unless another (readable) organisation is named."""
    qs = budget_list(actor=actor) if actor is not None else Budget.objects.select_related("organisation")
    if organisation is not None:
        qs = qs.filter(organisation=organisation)
    else:
        qs = qs.filter(organisation__kind=OrganisationKind.OPERATOR)
    try:
        return qs.get(slug=slug)
    except Budget.DoesNotExist:
        raise Http404(gettext("budget « %(s)s » introuvable") % {"s": slug}) from None


def budget_year_get(*, budget: Budget, year: int) -> BudgetYear:
    try:
        return BudgetYear.objects.select_related("budget__organisation").get(budget=budget, year=year)
    except BudgetYear.DoesNotExist:
        raise Http404(gettext("exercice %(y)d du budget « %(b)s » introuvable") % {"y": year, "b": budget}) from None


def budget_years(budget: Budget) -> list[int]:
    return list(budget.years.order_by("year").values_list("year", flat=True))


# -- one year's figures -------------------------------------------------------------------------
@dataclass
class YearFigures:
    budget_year: BudgetYear
    # (section, side, chapter kind) → sum of the lines
    by_kind: dict[tuple[str, str, str], Decimal]
    stated: dict[tuple[str, str, str], StatedTotal]
    carried: dict[str, Decimal]
    remaining: dict[tuple[str, str], RemainingCommitment]
    lines: list[ExecutionLine] = field(default_factory=list)

    def line_total(self, section: str, side: str, *, with_carried: bool) -> Decimal | None:
        """The sum of the chapter lines, or None when the year has no line on that side."""
        values = [
            v
            for (s, d, k), v in self.by_kind.items()
            if s == section and d == side and (with_carried or k != ChapterKind.CARRIED)
        ]
        has_any = any(s == section and d == side for (s, d, _k) in self.by_kind)
        return sum(values, ZERO) if has_any else None

    def execution(self, section: str, side: str) -> Decimal:
        """The year's own execution: the compte administratif total when a source states it,
        otherwise the sum of the chapter lines (carried-forward chapters excluded)."""
        stated = self.stated.get((section, side, TotalScope.YEAR))
        if stated is not None:
            return stated.amount
        return self.line_total(section, side, with_carried=False) or ZERO

    def carried_signed(self, section: str) -> Decimal:
        codes = [c for c in CarriedCode if CARRIED_SECTION[c] == section]
        if any(c in self.carried for c in codes):
            return sum((CARRIED_SIGN[c] * self.carried.get(c, ZERO) for c in codes), ZERO)
        # No R00x/D00x recorded: fall back on the carried-forward chapter lines (001/002).
        revenue = self.by_kind.get((section, Side.REVENUE, ChapterKind.CARRIED), ZERO)
        expense = self.by_kind.get((section, Side.EXPENSE, ChapterKind.CARRIED), ZERO)
        return revenue - expense

    def rar(self, side: str) -> Decimal:
        item = self.remaining.get((Section.INVESTMENT, side))
        return item.amount if item is not None else ZERO


def year_figures(budget_year: BudgetYear, *, with_lines: bool = False) -> YearFigures:
    """Five queries whatever the number of lines (six with the lines themselves)."""
    by_kind = {
        (row["chapter__section"], row["side"], row["chapter__kind"]): row["total"]
        for row in ExecutionLine.objects.filter(budget_year=budget_year)
        .values("chapter__section", "side", "chapter__kind")
        .annotate(total=Sum("amount"))
    }
    figures = YearFigures(
        budget_year=budget_year,
        by_kind=by_kind,
        stated={(t.section, t.side, t.scope): t for t in StatedTotal.objects.filter(budget_year=budget_year)},
        carried=dict(CarriedForward.objects.filter(budget_year=budget_year).values_list("code", "amount")),
        remaining={
            (r.section, r.side): r
            for r in RemainingCommitment.objects.filter(budget_year=budget_year).prefetch_related("operations")
        },
    )
    if with_lines:
        figures.lines = list(
            ExecutionLine.objects.filter(budget_year=budget_year)
            .select_related("chapter")
            .order_by("chapter__section", "side", "chapter__code", "label")
        )
    return figures


def results_of(figures: YearFigures) -> calc.Results:
    return calc.compute_results(
        operating=(
            figures.execution(Section.OPERATING, Side.REVENUE),
            figures.execution(Section.OPERATING, Side.EXPENSE),
            figures.carried_signed(Section.OPERATING),
        ),
        investment=(
            figures.execution(Section.INVESTMENT, Side.REVENUE),
            figures.execution(Section.INVESTMENT, Side.EXPENSE),
            figures.carried_signed(Section.INVESTMENT),
        ),
        rar_recettes=figures.rar(Side.REVENUE),
        rar_depenses=figures.rar(Side.EXPENSE),
    )


# -- consistency warnings -----------------------------------------------------------------------
@dataclass(frozen=True)
class Warning:
    check: str
    message: str
    expected: Decimal
    found: Decimal

    @property
    def gap(self) -> Decimal:
        return self.found - self.expected

    def as_json(self) -> dict[str, str]:
        return {
            "check": self.check,
            "message": self.message,
            "expected": plain(self.expected),
            "found": plain(self.found),
            "gap": plain(self.gap),
        }


def _label(section: str, side: str) -> str:
    return f"{Section(section).label} — {Side(side).label}"


def _warn(out: list[Warning], check: str, text: str, expected: Decimal, found: Decimal) -> None:
    gap = calc.compare(check, text, expected=expected, found=found)
    if gap is None:
        return
    message = gettext("%(what)s : %(found)s au lieu de %(expected)s (écart %(gap)s)") % {
        "what": text,
        "found": euros(found),
        "expected": euros(expected),
        "gap": euros(gap.gap),
    }
    out.append(Warning(check, message, expected, found))


def warnings_of(figures: YearFigures, previous: YearFigures | None = None) -> list[Warning]:
    """Where the sources disagree, each with its gap: chapter lines against the printed totals,
    a printed total against the one computed from the execution and the carried-forward result,
    the carried-forward results against last year's, the restes à réaliser against their parts."""
    out: list[Warning] = []
    year = figures.budget_year.year
    for section, side in PAIRS:
        cumulative = figures.stated.get((section, side, TotalScope.CUMULATIVE))
        own = figures.stated.get((section, side, TotalScope.YEAR))
        lines_all = figures.line_total(section, side, with_carried=True)
        if cumulative is not None and lines_all is not None:
            _warn(
                out,
                "chapitres_total",
                gettext("%(s)s %(y)d : somme des chapitres contre le total imprimé")
                % {"s": _label(section, side), "y": year},
                cumulative.amount,
                lines_all,
            )
        elif own is not None and lines_all is not None:
            _warn(
                out,
                "chapitres_total",
                gettext("%(s)s %(y)d : somme des chapitres contre le total de l'exercice")
                % {"s": _label(section, side), "y": year},
                own.amount,
                figures.line_total(section, side, with_carried=False) or ZERO,
            )
        if cumulative is not None and own is not None:
            carried = figures.carried_signed(section)
            part = max(carried, ZERO) if side == Side.REVENUE else max(-carried, ZERO)
            _warn(
                out,
                "total_saisi",
                gettext("%(s)s %(y)d : total imprimé (reports compris) contre exécution + report")
                % {"s": _label(section, side), "y": year},
                own.amount + part,
                cumulative.amount,
            )
    if previous is not None:
        before = results_of(previous)
        _warn(
            out,
            "report_investissement",
            gettext("Résultat d'investissement reporté en %(y)d (R001/D001) contre le résultat cumulé %(p)d")
            % {"y": year, "p": previous.budget_year.year},
            before.investissement.resultat_cumule,
            figures.carried_signed(Section.INVESTMENT),
        )
        if previous.remaining:
            _warn(
                out,
                "report_fonctionnement",
                gettext("Résultat de fonctionnement reporté en %(y)d (R002/D002) contre le report calculé %(p)d")
                % {"y": year, "p": previous.budget_year.year},
                before.report_fonctionnement,
                figures.carried_signed(Section.OPERATING),
            )
    for (section, remaining_side), item in sorted(figures.remaining.items()):
        if item.mutualised_amount is not None and item.personalised_amount is not None:
            _warn(
                out,
                "rar_parts",
                gettext("Restes à réaliser %(s)s %(y)d : parts mutualisée + personnalisée contre le total")
                % {"s": _label(section, remaining_side), "y": year},
                item.amount,
                item.mutualised_amount + item.personalised_amount,
            )
    return out


@dataclass
class YearReport:
    figures: YearFigures
    results: calc.Results
    warnings: list[Warning]


def year_report(budget_year: BudgetYear, *, with_lines: bool = False) -> YearReport:
    figures = year_figures(budget_year, with_lines=with_lines)
    previous_year = BudgetYear.objects.filter(budget=budget_year.budget, year=budget_year.year - 1).first()
    previous = year_figures(previous_year) if previous_year else None
    return YearReport(figures=figures, results=results_of(figures), warnings=warnings_of(figures, previous))


def results_json(budget_year: BudgetYear) -> dict[str, Any]:
    """The `finance_results` document: amounts as strings, two decimals and a dot."""
    report = year_report(budget_year)
    r = report.results

    def section(s: calc.SectionResult) -> dict[str, str]:
        return {
            "recettes": plain(s.recettes),
            "depenses": plain(s.depenses),
            "resultat_exercice": plain(s.resultat_exercice),
            "report_anterieur": plain(s.report_anterieur),
            "resultat_cumule": plain(s.resultat_cumule),
        }

    return {
        "budget": budget_year.budget.slug,
        "year": budget_year.year,
        "fonctionnement": section(r.fonctionnement),
        "investissement": {
            **section(r.investissement),
            "rar_recettes": plain(r.rar_recettes),
            "rar_depenses": plain(r.rar_depenses),
        },
        "besoin_financement_investissement": plain(r.besoin_financement_investissement),
        "affectation_1068": plain(r.affectation_1068),
        "report_fonctionnement": plain(r.report_fonctionnement),
        "resultat_global_net_rar": plain(r.resultat_global_net_rar),
        "warnings": [w.as_json() for w in report.warnings],
    }


# -- five-year tables ---------------------------------------------------------------------------
@dataclass
class ChapterRow:
    code: str
    label: str
    kind: str
    amounts: dict[int, Decimal | None]


@dataclass
class EvolutionTable:
    section: str
    side: str
    evolution: calc.Evolution
    chapters: list[ChapterRow]

    @property
    def key(self) -> str:
        return f"{self.section}.{self.side}"

    @property
    def title(self) -> str:
        return _label(self.section, self.side)


def evolution_tables(budget: Budget, *, first: int, last: int) -> list[EvolutionTable]:
    """Per section and side: the chapters by year and the totals' evolution. Two aggregate
    queries whatever the span."""
    if first >= last:
        raise ValueError(gettext("la période doit couvrir au moins deux années"))
    rows = (
        ExecutionLine.objects.filter(budget_year__budget=budget, budget_year__year__range=(first, last))
        .values("budget_year__year", "chapter__section", "side", "chapter__code", "chapter__kind", "label")
        .annotate(total=Sum("amount"))
        .order_by("chapter__code", "label")
    )
    stated = {
        (t["budget_year__year"], t["section"], t["side"]): t["amount"]
        for t in StatedTotal.objects.filter(
            budget_year__budget=budget, budget_year__year__range=(first, last), scope=TotalScope.CUMULATIVE
        ).values("budget_year__year", "section", "side", "amount")
    }
    years = list(range(first, last + 1))
    totals: dict[tuple[str, str], dict[int, Decimal]] = defaultdict(dict)
    chapters: dict[tuple[str, str], dict[tuple[str, str], ChapterRow]] = defaultdict(dict)
    for row in rows:
        pair = (row["chapter__section"], row["side"])
        year = row["budget_year__year"]
        totals[pair][year] = totals[pair].get(year, ZERO) + row["total"]
        label = row["label"] or row["chapter__code"]
        chapter = chapters[pair].setdefault(
            (row["chapter__code"], label),
            ChapterRow(row["chapter__code"], label, row["chapter__kind"], dict.fromkeys(years)),
        )
        chapter.amounts[year] = row["total"]
    tables = []
    for pair in PAIRS:
        # The printed total when the source gives one (the chapters may not add up to it: the
        # year's warnings say so), else the sum of the chapter lines.
        series = {y: stated.get((y, *pair), totals[pair].get(y)) for y in years}
        missing = [y for y, v in series.items() if v is None]
        if missing:
            raise ValueError(
                gettext("%(s)s : aucune donnée pour %(y)s")
                % {"s": _label(*pair), "y": ", ".join(str(y) for y in missing)}
            )
        tables.append(
            EvolutionTable(
                section=pair[0],
                side=pair[1],
                evolution=calc.evolution(series),  # type: ignore[arg-type]
                chapters=sorted(chapters[pair].values(), key=lambda c: (c.code, c.label)),
            )
        )
    return tables


def evolution_json(budget: Budget, *, first: int, last: int) -> dict[str, Any]:
    document: dict[str, Any] = {"budget": budget.slug, "from": first, "to": last}
    for table in evolution_tables(budget, first=first, last=last):
        ev = table.evolution
        document[table.key] = {
            "totals": {str(y): plain(v) for y, v in ev.totals.items()},
            "yearly_evolution_pct": {str(y): plain_rate(v) for y, v in ev.yearly.items()},
            "first_to_last_evolution_pct": plain_rate(ev.first_to_last),
            "average_yearly_evolution_pct": plain_rate(ev.average_yearly),
        }
    return document


# -- debt ---------------------------------------------------------------------------------------
@dataclass
class DebtYear:
    year: int
    debt: calc.Debt
    capital_repaid: Decimal
    capital_source: str
    interest: Decimal | None


def debt_series(budget: Budget) -> list[DebtYear]:
    """Gross and net savings and the debt ratio for every year of the budget. Capital repaid and
    outstanding debt come from the loans when they are recorded; without loans, capital repaid is
    read from chapter 16 and the ratio cannot be computed. Three queries."""
    ceiling = Decimal(settings.DEBT_RATIO_CEILING)
    sums = defaultdict(lambda: ZERO)
    for row in (
        ExecutionLine.objects.filter(budget_year__budget=budget)
        .filter(
            Q(chapter__section=Section.OPERATING, chapter__kind=ChapterKind.REAL)
            | Q(chapter__section=Section.INVESTMENT, chapter__code="16", side=Side.EXPENSE)
        )
        .values("budget_year__year", "chapter__section", "side")
        .annotate(total=Sum("amount"))
    ):
        sums[(row["budget_year__year"], row["chapter__section"], row["side"])] = row["total"]
    loans = {
        row["year"]: row
        for row in LoanYear.objects.filter(loan__budget=budget)
        .values("year")
        .annotate(outstanding=Sum("outstanding"), capital=Sum("capital_repaid"), interest=Sum("interest"))
    }
    result = []
    for year in budget_years(budget):
        loan = loans.get(year)
        capital = loan["capital"] if loan else sums[(year, Section.INVESTMENT, Side.EXPENSE)]
        debt = calc.debt_position(
            real_operating_revenue=sums[(year, Section.OPERATING, Side.REVENUE)],
            real_operating_expenses=sums[(year, Section.OPERATING, Side.EXPENSE)],
            capital_repaid=capital,
            outstanding=loan["outstanding"] if loan else None,
            ceiling_years=ceiling,
        )
        result.append(
            DebtYear(
                year=year,
                debt=debt,
                capital_repaid=capital,
                capital_source=gettext("emprunts") if loan else gettext("chapitre 16"),
                interest=loan["interest"] if loan else None,
            )
        )
    return result


# -- contributions ------------------------------------------------------------------------------
def contribution_call_get(*, year: int) -> ContributionCall:
    call = (
        ContributionCall.objects.select_related("key", "budget_year__budget__organisation")
        .filter(budget_year__year=year, budget_year__budget__organisation__kind=OrganisationKind.OPERATOR)
        .first()
    )
    if call is None:
        raise Http404(gettext("aucun appel de contributions pour %(y)d") % {"y": year})
    return call


def contribution_years() -> list[int]:
    return list(ContributionCall.objects.order_by("budget_year__year").values_list("budget_year__year", flat=True))


def contributions_of(call: ContributionCall) -> dict[Organisation, calc.MemberContribution]:
    """Every member's statement for the call (raises FinanceInputError on an unusable key).
    Three queries whatever the number of members."""
    day = dt.date(call.budget_year.year, 12, 31)
    members = list(Organisation.objects.members(on=day).order_by("name"))
    counts = dict(
        Subscription.objects.filter(collectivity__in=members, status__in=ACTIVE_STATUSES)
        .values("collectivity")
        .annotate(n=Count("id"))
        .values_list("collectivity", "n")
    )
    prices = {p.application_id: p for p in call.prices.select_related("application")}
    subscribed: dict[int, list[str]] = defaultdict(list)
    for collectivity_id, application_id in (
        Subscription.objects.filter(collectivity__in=members, status__in=ACTIVE_STATUSES, application_id__in=prices)
        .order_by("application__name")
        .values_list("collectivity_id", "application_id")
    ):
        subscribed[collectivity_id].append(prices[application_id].application.name)
    shares = calc.key_shares(
        weights=call.key.weights,
        bases={
            "population": {m.pk: m.population for m in members},
            "agents": {m.pk: m.agents_count for m in members},
            "applications": {m.pk: counts.get(m.pk, 0) for m in members},
        },
        names={m.pk: m.name for m in members},
    )
    by_pk = calc.contributions(
        mutualised_total=call.mutualised_amount,
        shares=shares,
        subscriptions=subscribed,
        prices={p.application.name: p.price for p in prices.values()},
    )
    return {m: by_pk[m.pk] for m in members}


def contributions_for(*, actor: User, call: ContributionCall) -> dict[Organisation, calc.MemberContribution]:
    """What the account may see: every member for the operator, its own line for a member."""
    everything = contributions_of(call)
    if is_operator(actor):
        return everything
    return {org: c for org, c in everything.items() if org.pk == actor.organisation_id}


def statement_get(*, actor: User, call: ContributionCall, slug: str) -> tuple[Organisation, calc.MemberContribution]:
    if not is_operator(actor) and getattr(actor.organisation, "slug", None) != slug:
        raise Http404(gettext("relevé introuvable"))
    for org, contribution in contributions_of(call).items():
        if org.slug == slug:
            return org, contribution
    raise Http404(gettext("relevé introuvable"))


def cofinancing_of(budget_year: BudgetYear) -> tuple[Cofinancing | None, dict[Organisation, Decimal]]:
    cofinancing = Cofinancing.objects.filter(budget_year=budget_year).first()
    if cofinancing is None:
        return None, {}
    shares = list(cofinancing.shares.select_related("partner").order_by("partner__name"))
    split = calc.cofinancing(
        cofinancing.amount,
        {s.partner: calc.CofinancingShare(fixed=s.fixed_amount, percent=s.percent) for s in shares},
    )
    return cofinancing, split


# -- settings the operator edits -----------------------------------------------------------------
def contribution_key_list() -> QuerySet[ContributionKey]:
    return ContributionKey.objects.annotate(call_count=Count("calls")).order_by("name")


def contribution_key_get(*, slug: str) -> ContributionKey:
    try:
        return ContributionKey.objects.get(slug=slug)
    except ContributionKey.DoesNotExist:
        raise Http404(gettext("clé de répartition « %(s)s » introuvable") % {"s": slug}) from None


def call_budget_years() -> QuerySet[BudgetYear]:
    """The operator's budget-years that may open a call: one call per year, the pages find it by year."""
    taken = ContributionCall.objects.values("budget_year__year")
    return (
        BudgetYear.objects.select_related("budget")
        .filter(budget__organisation__kind=OrganisationKind.OPERATOR)
        .exclude(year__in=taken)
        .order_by("-year", "budget__kind", "budget__name")
    )


def application_prices(call: ContributionCall) -> list[tuple[Application, Decimal | None]]:
    """Every catalogue application with the call's price for it (None: no personalised part)."""
    prices = dict(call.prices.values_list("application_id", "price"))
    return [(app, prices.get(app.pk)) for app in Application.objects.order_by("position", "name")]


def loan_get(*, budget: Budget, pk: int) -> Loan:
    try:
        return budget.loans.get(pk=pk)
    except Loan.DoesNotExist:
        raise Http404(gettext("emprunt introuvable")) from None


def cofinancing_partners() -> QuerySet[Organisation]:
    return Organisation.objects.collectivities().order_by("name")


def annex_years(*, year: int) -> QuerySet[BudgetYear]:
    """The operator's annex budgets for `year`: their co-financing is set beside the contributions."""
    return BudgetYear.objects.select_related("budget").filter(
        year=year, budget__organisation__kind=OrganisationKind.OPERATOR, budget__kind=BudgetKind.ANNEX
    )


def cofinancing_current(budget_year: BudgetYear) -> dict[str, Any]:
    """The recorded co-financing as initial values of its form (empty when there is none)."""
    cofinancing = Cofinancing.objects.filter(budget_year=budget_year).first()
    if cofinancing is None:
        return {"initial": {"called_in": budget_year.year + 1}, "shares": []}
    return {
        "initial": {"label": cofinancing.label, "amount": cofinancing.amount, "called_in": cofinancing.called_in},
        "shares": [
            {"partner": s.partner, "fixed_amount": s.fixed_amount, "percent": s.percent}
            for s in cofinancing.shares.select_related("partner").order_by("partner__name")
        ],
    }
