"""The finance engine as pure functions: no database, exact decimals, rounding only where stated.

Amounts are `Decimal` euros with at most two decimals. Rates are computed exactly as fractions and
rounded once, half away from zero, to the precision a finance department prints (one decimal).
Splits are rounded to the cent by the largest-remainder rule (see `allocate`), so the parts always
add up exactly to the amount split.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import TypeVar

from django.utils.translation import gettext

K = TypeVar("K", bound=Hashable)
CENT = Decimal("0.01")
ZERO = Decimal("0.00")
HUNDRED = Decimal(100)


class FinanceInputError(ValueError):
    """An input the computations cannot use; the message says which and why, in French."""


def to_cents(value: Decimal) -> int:
    """Exact number of cents; refuses a value with more than two decimals instead of rounding it."""
    cents = value * 100
    if cents != cents.to_integral_value():
        raise FinanceInputError(gettext("montant %(v)s : plus de deux décimales") % {"v": value})
    return int(cents)


def from_cents(cents: int) -> Decimal:
    return (Decimal(cents) / 100).quantize(CENT)


def round_fraction(value: Fraction, places: int = 1) -> Decimal:
    """Round an exact fraction half away from zero (how rates are printed: 13,75 → 13,8)."""
    scaled = abs(value) * 10**places
    whole, rest = divmod(scaled.numerator, scaled.denominator)
    if 2 * rest >= scaled.denominator:
        whole += 1
    result = Decimal(whole).scaleb(-places)
    return -result if value < 0 else result


# -- results and their allocation ---------------------------------------------------------------
@dataclass(frozen=True)
class SectionResult:
    recettes: Decimal
    depenses: Decimal
    report_anterieur: Decimal  # signed: R00x positive, D00x negative

    @property
    def resultat_exercice(self) -> Decimal:
        return self.recettes - self.depenses

    @property
    def resultat_cumule(self) -> Decimal:
        return self.resultat_exercice + self.report_anterieur


@dataclass(frozen=True)
class Results:
    fonctionnement: SectionResult
    investissement: SectionResult
    rar_recettes: Decimal
    rar_depenses: Decimal

    @property
    def investissement_corrige(self) -> Decimal:
        """The cumulative investment result once the restes à réaliser are settled."""
        return self.investissement.resultat_cumule + self.rar_recettes - self.rar_depenses

    @property
    def besoin_financement_investissement(self) -> Decimal:
        """What the operating surplus must cover: the corrected investment result when negative."""
        return max(-self.investissement_corrige, ZERO)

    @property
    def affectation_1068(self) -> Decimal:
        """The mandatory allocation to account 1068: the need, within the operating surplus."""
        surplus = max(self.fonctionnement.resultat_cumule, ZERO)
        return min(self.besoin_financement_investissement, surplus)

    @property
    def report_fonctionnement(self) -> Decimal:
        """Carried to next year's operating section (R002 if positive, D002 if negative)."""
        return self.fonctionnement.resultat_cumule - self.affectation_1068

    @property
    def resultat_global_net_rar(self) -> Decimal:
        return self.fonctionnement.resultat_cumule + self.investissement_corrige


def compute_results(
    *,
    operating: tuple[Decimal, Decimal, Decimal],
    investment: tuple[Decimal, Decimal, Decimal],
    rar_recettes: Decimal = ZERO,
    rar_depenses: Decimal = ZERO,
) -> Results:
    """`operating` and `investment` are (recettes, dépenses, signed carried-forward result)."""
    if rar_recettes < 0 or rar_depenses < 0:
        raise FinanceInputError(gettext("les restes à réaliser sont des montants engagés, donc positifs"))
    return Results(
        fonctionnement=SectionResult(*operating),
        investissement=SectionResult(*investment),
        rar_recettes=rar_recettes,
        rar_depenses=rar_depenses,
    )


# -- five-year tables ---------------------------------------------------------------------------
def rate(previous: Decimal, current: Decimal) -> Fraction | None:
    """Exact evolution in % from `previous` to `current`; None when there is no base to compare."""
    if previous == 0:
        return None
    return (Fraction(current) - Fraction(previous)) * 100 / abs(Fraction(previous))


@dataclass(frozen=True)
class Evolution:
    totals: dict[int, Decimal]
    yearly: dict[int, Decimal | None]  # the year's evolution on the previous one, one decimal
    first_to_last: Decimal | None
    average_yearly: Decimal | None  # arithmetic mean of the exact yearly rates, one decimal


def evolution(totals: Mapping[int, Decimal]) -> Evolution:
    """Each year's evolution on the previous year, first to last, and the average yearly evolution
    as finance departments print it: the arithmetic mean of the yearly rates (not the CAGR)."""
    years = sorted(totals)
    exact: dict[int, Fraction | None] = {}
    for before, year in zip(years, years[1:], strict=False):
        exact[year] = rate(totals[before], totals[year])
    known = [r for r in exact.values() if r is not None]
    overall = rate(totals[years[0]], totals[years[-1]]) if len(years) > 1 else None
    return Evolution(
        totals={year: totals[year] for year in years},
        yearly={year: None if r is None else round_fraction(r) for year, r in exact.items()},
        first_to_last=None if overall is None else round_fraction(overall),
        average_yearly=round_fraction(sum(known, Fraction(0)) / len(known)) if known else None,
    )


# -- savings and debt ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Debt:
    gross_savings: Decimal  # épargne brute
    net_savings: Decimal  # épargne nette
    outstanding: Decimal | None
    ratio_years: Decimal | None  # capacité de désendettement, two decimals
    ceiling_years: Decimal
    alert: bool


def debt_position(
    *,
    real_operating_revenue: Decimal,
    real_operating_expenses: Decimal,
    capital_repaid: Decimal,
    outstanding: Decimal | None,
    ceiling_years: Decimal,
) -> Debt:
    """Gross savings, net savings and the debt-capacity ratio (years of gross savings needed to
    repay the outstanding debt). No gross savings with debt outstanding is an alert: the debt
    cannot be repaid from operations at all."""
    gross = real_operating_revenue - real_operating_expenses
    ratio: Decimal | None = None
    alert = False
    if outstanding is not None:
        if gross > 0:
            ratio = round_fraction(Fraction(outstanding) / Fraction(gross), 2)
            alert = ratio > ceiling_years
        else:
            alert = outstanding > 0
    return Debt(
        gross_savings=gross,
        net_savings=gross - capital_repaid,
        outstanding=outstanding,
        ratio_years=ratio,
        ceiling_years=ceiling_years,
        alert=alert,
    )


# -- consistency --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Gap:
    """Two figures that should agree and do not; `found - expected` is the gap."""

    check: str
    subject: str
    expected: Decimal
    found: Decimal

    @property
    def gap(self) -> Decimal:
        return self.found - self.expected


def compare(check: str, subject: str, *, expected: Decimal, found: Decimal) -> Gap | None:
    return None if expected == found else Gap(check, subject, expected, found)


# -- splitting amounts --------------------------------------------------------------------------
def allocate(total: Decimal, weights: Mapping[K, Fraction | Decimal | int]) -> dict[K, Decimal]:
    """Split `total` in proportion to `weights`, to the cent, the parts adding up exactly.

    Rounding rule (largest remainder, also called Hamilton's method): each part first gets its
    exact share rounded down to the cent; the cents left over go, one each, to the parts whose
    dropped fraction was largest; ties go to the larger weight, then to the earlier key in the
    order given (callers pass members sorted by name). A negative total is split as its opposite.
    """
    if not weights:
        raise FinanceInputError(gettext("aucun bénéficiaire entre lesquels répartir le montant"))
    fractions = {key: Fraction(value) for key, value in weights.items()}
    if any(value < 0 for value in fractions.values()):
        raise FinanceInputError(gettext("une clé de répartition ne peut pas être négative"))
    weight_total = sum(fractions.values(), Fraction(0))
    if weight_total == 0:
        raise FinanceInputError(gettext("la clé de répartition est nulle pour tous les bénéficiaires"))
    cents = to_cents(total)
    sign, cents = (-1 if cents < 0 else 1), abs(cents)
    floors: dict[K, int] = {}
    remainders: dict[K, Fraction] = {}
    for key, weight in fractions.items():
        exact = cents * weight / weight_total
        floors[key] = exact.numerator // exact.denominator
        remainders[key] = exact - floors[key]
    left = cents - sum(floors.values())
    order = list(fractions)
    ranked = sorted(order, key=lambda k: (-remainders[k], -fractions[k], order.index(k)))
    for key in ranked[:left]:
        floors[key] += 1
    return {key: from_cents(sign * floors[key]) for key in order}


CRITERIA = ("population", "agents", "applications")


def key_shares(
    *,
    weights: Mapping[str, Decimal],
    bases: Mapping[str, Mapping[K, int | None]],
    names: Mapping[K, str] | None = None,
) -> dict[K, Fraction]:
    """Each member's exact share under a key blending criteria (population, agents, number of
    subscribed applications) with weights in percent that must add up to 100."""
    total_weight = sum(weights.values(), Decimal(0))
    if total_weight != HUNDRED:
        raise FinanceInputError(
            gettext("les pondérations de la clé totalisent %(t)s %%, elles doivent totaliser 100 %%")
            % {"t": _percent(total_weight)}
        )
    if any(w < 0 for w in weights.values()):
        raise FinanceInputError(gettext("une pondération ne peut pas être négative"))
    members: list[K] = []
    for base in bases.values():
        members.extend(m for m in base if m not in members)
    shares = {member: Fraction(0) for member in members}
    for criterion, weight in weights.items():
        if weight == 0:
            continue
        base = bases.get(criterion, {})
        missing = [m for m in members if base.get(m) is None]
        if missing:
            label = ", ".join((names or {}).get(m, str(m)) for m in missing)
            raise FinanceInputError(
                gettext("%(who)s : %(criterion)s non renseigné(e), or la clé l'utilise (%(w)s %%)")
                % {"who": label, "criterion": _criterion_label(criterion), "w": _percent(weight)}
            )
        total = sum(base[m] or 0 for m in members)
        if total == 0:
            raise FinanceInputError(
                gettext("%(criterion)s vaut zéro pour tous les adhérents : la clé ne peut pas répartir")
                % {"criterion": _criterion_label(criterion)}
            )
        for member in members:
            shares[member] += Fraction(weight) / 100 * Fraction(base[member] or 0, total)
    return shares


def _criterion_label(criterion: str) -> str:
    return {
        "population": gettext("la population"),
        "agents": gettext("le nombre d'agents"),
        "applications": gettext("le nombre d'applications souscrites"),
    }.get(criterion, criterion)


def _percent(value: Decimal) -> str:
    return f"{value.normalize():f}".replace(".", ",")


@dataclass(frozen=True)
class StatementLine:
    label: str
    amount: Decimal


@dataclass(frozen=True)
class MemberContribution:
    mutualised: Decimal
    personalised: list[StatementLine] = field(default_factory=list)

    @property
    def personalised_total(self) -> Decimal:
        return sum((line.amount for line in self.personalised), ZERO)

    @property
    def total(self) -> Decimal:
        return self.mutualised + self.personalised_total


def contributions(
    *,
    mutualised_total: Decimal,
    shares: Mapping[K, Fraction],
    subscriptions: Mapping[K, Sequence[str]],
    prices: Mapping[str, Decimal],
) -> dict[K, MemberContribution]:
    """Each member's mutualised part (the key's share of the mutualised cost, to the cent, largest
    remainder) and its personalised parts (the price of each application it subscribes to)."""
    mutualised = allocate(mutualised_total, shares)
    result = {}
    for member, part in mutualised.items():
        lines = [StatementLine(app, prices[app]) for app in subscriptions.get(member, ()) if app in prices]
        result[member] = MemberContribution(mutualised=part, personalised=lines)
    return result


@dataclass(frozen=True)
class CofinancingShare:
    fixed: Decimal | None = None
    percent: Decimal | None = None


def cofinancing(total: Decimal, shares: Mapping[K, CofinancingShare]) -> dict[K, Decimal]:
    """Split an annex budget's cost among partners: fixed amounts first, then what remains by
    percentages (which must add up to 100 %), to the cent by the largest-remainder rule."""
    if any(s.fixed is None and s.percent is None for s in shares.values()):
        raise FinanceInputError(gettext("chaque partenaire a un montant fixe ou un pourcentage"))
    fixed = {k: s.fixed for k, s in shares.items() if s.fixed is not None}
    percents = {k: s.percent for k, s in shares.items() if s.fixed is None and s.percent is not None}
    if any(v < 0 for v in fixed.values()) or any(v < 0 for v in percents.values()):
        raise FinanceInputError(gettext("une part de cofinancement ne peut pas être négative"))
    rest = total - sum(fixed.values(), ZERO)
    if percents:
        percent_total = sum(percents.values(), Decimal(0))
        if percent_total != HUNDRED:
            raise FinanceInputError(
                gettext("les pourcentages des partenaires totalisent %(t)s %%, ils doivent totaliser 100 %%")
                % {"t": _percent(percent_total)}
            )
        if rest < 0:
            raise FinanceInputError(gettext("les montants fixes dépassent le montant à cofinancer"))
        split = allocate(rest, percents)
    elif rest != 0:
        raise FinanceInputError(
            gettext("les montants fixes des partenaires totalisent %(s)s au lieu de %(t)s")
            % {"s": sum(fixed.values(), ZERO), "t": total}
        )
    else:
        split = {}
    return {key: fixed[key] if key in fixed else split.get(key, ZERO) for key in shares}
