"""Writes on the finance data: budgets, execution imports, loans, contribution keys and calls,
co-financing. Each checks its whole input first, then writes in one transaction with an audit
entry, so a refused input leaves nothing behind."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext

from mutualis.catalog.models import Application
from mutualis.core.audit import audit_record
from mutualis.core.models import AuditAction
from mutualis.core.services import model_create
from mutualis.core.tenancy import require_operator_staff, require_writer
from mutualis.finance import computations as calc
from mutualis.finance import tables
from mutualis.finance.models import (
    ApplicationPrice,
    Budget,
    BudgetYear,
    Chapter,
    Cofinancing,
    CofinancingShare,
    ContributionCall,
    ContributionKey,
    ExecutionLine,
    Loan,
    LoanYear,
)
from mutualis.members.models import Organisation

MAX_REPORTED_ERRORS = 20


def _require_finance_writer(actor: Any) -> None:
    # Batch jobs pass actor=None (the system); people must be operator staff, not read-only.
    if actor is None:
        return
    require_operator_staff(actor)
    require_writer(actor)


def _refuse(errors: Sequence[str], *, key: str = "file") -> None:
    shown = list(errors[:MAX_REPORTED_ERRORS])
    if len(errors) > MAX_REPORTED_ERRORS:
        shown.append(gettext("… et %(n)d autre(s) erreur(s)") % {"n": len(errors) - MAX_REPORTED_ERRORS})
    raise ValidationError({key: shown})


def budget_create(
    *, actor: Any, organisation: Organisation, slug: str, name: str, kind: str, via: str = "web"
) -> Budget:
    _require_finance_writer(actor)
    return model_create(
        actor=actor,
        model=Budget,
        data={"organisation": organisation, "slug": slug, "name": name, "kind": kind},
        via=via,
    )


# -- execution import ---------------------------------------------------------------------------
@dataclass(frozen=True)
class ImportResult:
    years: list[int]
    lines: int
    format: str


def execution_import(
    *,
    actor: Any,
    budget: Budget,
    content: bytes,
    filename: str,
    replace: bool = False,
    via: str = "web",
) -> ImportResult:
    """Load a year's execution by chapter from CSV/XLSX (columns annee, section, sens, chapitre,
    montant, optional libelle) or from an SCDL budget 0.8.3 file (a compte administratif).

    Refused whole, naming every faulty line: a missing column, an unreadable amount, an unknown
    chapter, a row given twice, or a year already loaded for this budget (unless `replace`)."""
    _require_finance_writer(actor)
    try:
        header, raw_rows = tables.read_table(content, filename)
        if tables.is_scdl(header):
            rows, errors = tables.parse_scdl(header, raw_rows)
            kind = "scdl"
        else:
            rows, errors = tables.parse_execution(header, raw_rows)
            kind = "xlsx" if filename.lower().endswith(".xlsx") else "csv"
    except calc.FinanceInputError as error:
        _refuse([str(error)])
    chapters = {(c.section, c.code): c for c in Chapter.objects.all()}
    seen: dict[tuple[int, str, str, str, str], int] = {}
    for row in rows:
        if (row.section, row.chapter) not in chapters:
            errors.append(
                gettext("ligne %(n)d : chapitre « %(c)s » inconnu en section de %(s)s (nomenclature M57)")
                % {"n": row.line, "c": row.chapter, "s": row.section}
            )
        key = (row.year, row.section, row.side, row.chapter, row.label)
        if key in seen:
            errors.append(
                gettext("ligne %(n)d : chapitre %(c)s (%(d)s %(y)d) déjà donné ligne %(m)d")
                % {"n": row.line, "c": row.chapter, "d": row.side, "y": row.year, "m": seen[key]}
            )
        seen.setdefault(key, row.line)
    years = sorted({row.year for row in rows})
    if not rows and not errors:
        errors.append(gettext("le fichier ne contient aucune ligne"))
    loaded = set(
        BudgetYear.objects.filter(budget=budget, year__in=years, lines__isnull=False).values_list("year", flat=True)
    )
    if loaded and not replace:
        errors.extend(
            gettext("l'exercice %(y)d du budget « %(b)s » est déjà chargé (remplacez-le explicitement)")
            % {"y": year, "b": budget.name}
            for year in sorted(loaded)
        )
    if errors:
        _refuse(errors)
    with transaction.atomic():
        for year in years:
            budget_year, _ = BudgetYear.objects.get_or_create(budget=budget, year=year)
            budget_year.lines.all().delete()
            ExecutionLine.objects.bulk_create(
                ExecutionLine(
                    budget_year=budget_year,
                    chapter=chapters[(row.section, row.chapter)],
                    side=row.side,
                    label=row.label,
                    amount=row.amount,
                )
                for row in rows
                if row.year == year
            )
        audit_record(
            actor=actor,
            action=AuditAction.IMPORT,
            obj=budget,
            object_repr=f"{budget} — {filename}",
            changes={"années": [None, years], "lignes": [None, len(rows)], "remplacement": [None, replace]},
            via=via,
        )
    return ImportResult(years=years, lines=len(rows), format=kind)


# -- loans --------------------------------------------------------------------------------------
def loan_create(
    *,
    actor: Any,
    budget: Budget,
    lender: str,
    initial_capital: Decimal,
    rate: Decimal,
    start_year: int,
    label: str = "",
    years: Sequence[dict[str, Any]] = (),
    via: str = "web",
) -> Loan:
    """Record a loan and its yearly figures (outstanding at 31/12, capital repaid, interest)."""
    _require_finance_writer(actor)
    with transaction.atomic():
        loan = model_create(
            actor=actor,
            model=Loan,
            data={
                "budget": budget,
                "lender": lender,
                "label": label,
                "initial_capital": initial_capital,
                "rate": rate,
                "start_year": start_year,
            },
            via=via,
        )
        for item in years:
            model_create(actor=actor, model=LoanYear, data={"loan": loan, **item}, via=via)
    return loan


# -- contributions ------------------------------------------------------------------------------
def contribution_key_create(
    *,
    actor: Any,
    slug: str,
    name: str,
    population_weight: Decimal = Decimal(0),
    agents_weight: Decimal = Decimal(0),
    applications_weight: Decimal = Decimal(0),
    via: str = "web",
) -> ContributionKey:
    """A key blending population, agents and subscribed applications; the weights must add up to
    100 % (ContributionKey.clean says so, naming the total)."""
    _require_finance_writer(actor)
    return model_create(
        actor=actor,
        model=ContributionKey,
        data={
            "slug": slug,
            "name": name,
            "population_weight": population_weight,
            "agents_weight": agents_weight,
            "applications_weight": applications_weight,
        },
        via=via,
    )


def contribution_call_create(
    *,
    actor: Any,
    budget_year: BudgetYear,
    label: str,
    mutualised_amount: Decimal,
    key: ContributionKey,
    prices: dict[Application, Decimal] | None = None,
    note: str = "",
    via: str = "web",
) -> ContributionCall:
    """Open a year's call; it is refused when the key cannot split it (a member without the
    population the key needs, say), so no call exists that cannot produce its statements."""
    from mutualis.finance.selectors import contributions_of

    _require_finance_writer(actor)
    with transaction.atomic():
        call = model_create(
            actor=actor,
            model=ContributionCall,
            data={
                "budget_year": budget_year,
                "label": label,
                "mutualised_amount": mutualised_amount,
                "key": key,
                "note": note,
            },
            via=via,
        )
        for application, price in (prices or {}).items():
            model_create(
                actor=actor,
                model=ApplicationPrice,
                data={"call": call, "application": application, "price": price},
                via=via,
            )
        try:
            contributions_of(call)
        except calc.FinanceInputError as error:
            transaction.set_rollback(True)
            raise ValidationError({"key": str(error)}) from None
    return call


def cofinancing_set(
    *,
    actor: Any,
    budget_year: BudgetYear,
    label: str,
    amount: Decimal,
    shares: dict[Organisation, calc.CofinancingShare],
    called_in: int | None = None,
    via: str = "web",
) -> Cofinancing:
    """Record how partners co-finance an annex budget's year; refused when the shares cannot
    cover the amount exactly (fixed amounts, then percentages adding up to 100 %)."""
    _require_finance_writer(actor)
    try:
        calc.cofinancing(amount, shares)
    except calc.FinanceInputError as error:
        raise ValidationError({"shares": str(error)}) from None
    with transaction.atomic():
        Cofinancing.objects.filter(budget_year=budget_year).delete()
        cofinancing = model_create(
            actor=actor,
            model=Cofinancing,
            data={"budget_year": budget_year, "label": label, "amount": amount, "called_in": called_in},
            via=via,
        )
        for partner, share in shares.items():
            model_create(
                actor=actor,
                model=CofinancingShare,
                data={
                    "cofinancing": cofinancing,
                    "partner": partner,
                    "fixed_amount": share.fixed,
                    "percent": share.percent,
                },
                via=via,
            )
    return cofinancing
