"""Writes on the finance data: budgets, execution imports, loans, contribution keys and calls,
co-financing. Each checks its whole input first, then writes in one transaction with an audit
entry, so a refused input leaves nothing behind."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.utils.translation import gettext

from mutualis.accounts.models import User
from mutualis.catalog.models import Application
from mutualis.core.audit import audit_delete, audit_record
from mutualis.core.models import AuditAction
from mutualis.core.services import model_create, model_update
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
from mutualis.finance.selectors import contributions_of
from mutualis.members.models import Organisation

MAX_REPORTED_ERRORS = 20


def _require_finance_writer(actor: User | None) -> None:
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
    *, actor: User | None, organisation: Organisation, slug: str, name: str, kind: str, via: str = "web"
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
    actor: User | None,
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
    actor: User | None,
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
    for item in years:
        _check_loan_year(initial_capital=initial_capital, start_year=start_year, **item)
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


def _check_loan_year(
    *,
    initial_capital: Decimal,
    start_year: int,
    year: int,
    outstanding: Decimal,
    capital_repaid: Decimal,
    interest: Decimal = Decimal(0),
) -> None:
    """Figures that cannot belong to the loan are refused before anything is written."""
    errors: dict[str, str] = {}
    if year < start_year:
        errors["year"] = gettext("l'exercice %(y)d précède l'année de mobilisation %(s)d") % {
            "y": year,
            "s": start_year,
        }
    if outstanding > initial_capital:
        errors["outstanding"] = gettext("l'encours au 31/12 dépasse le capital initial")
    if capital_repaid > initial_capital:
        errors["capital_repaid"] = gettext("le capital remboursé dépasse le capital initial")
    if errors:
        raise ValidationError(errors)


def loan_update(
    *,
    actor: User | None,
    loan: Loan,
    lender: str,
    initial_capital: Decimal,
    rate: Decimal,
    start_year: int,
    label: str = "",
    figures: dict[str, Any] | None = None,
    via: str = "web",
) -> Loan:
    """Correct a loan's terms and, with `figures`, add or correct one year (loan_year_set); its
    recorded years must still fit the terms (start year, capital). All or nothing."""
    _require_finance_writer(actor)
    for item in loan.years.all():
        if figures is not None and item.year == figures["year"]:
            continue  # replaced below, checked there
        _check_loan_year(
            initial_capital=initial_capital,
            start_year=start_year,
            year=item.year,
            outstanding=item.outstanding,
            capital_repaid=item.capital_repaid,
        )
    with transaction.atomic():
        model_update(
            actor=actor,
            instance=loan,
            data={
                "lender": lender,
                "label": label,
                "initial_capital": initial_capital,
                "rate": rate,
                "start_year": start_year,
            },
            fields=["lender", "label", "initial_capital", "rate", "start_year"],
            via=via,
        )
        if figures is not None:
            loan_year_set(actor=actor, loan=loan, via=via, **figures)
    return loan


def loan_year_set(
    *,
    actor: User | None,
    loan: Loan,
    year: int,
    outstanding: Decimal,
    capital_repaid: Decimal,
    interest: Decimal,
    via: str = "web",
) -> LoanYear:
    """Record (or correct) a loan's figures for one year: the debt page and ratio follow."""
    _require_finance_writer(actor)
    _check_loan_year(
        initial_capital=loan.initial_capital,
        start_year=loan.start_year,
        year=year,
        outstanding=outstanding,
        capital_repaid=capital_repaid,
        interest=interest,
    )
    figures = {"outstanding": outstanding, "capital_repaid": capital_repaid, "interest": interest}
    existing = LoanYear.objects.filter(loan=loan, year=year).first()
    if existing is None:
        return model_create(actor=actor, model=LoanYear, data={"loan": loan, "year": year, **figures}, via=via)
    model_update(actor=actor, instance=existing, data=figures, fields=list(figures), via=via)
    return existing


# -- contributions ------------------------------------------------------------------------------
def _check_call_splits(call: ContributionCall, *, field: str = "key") -> None:
    """Called inside the writing transaction: raising rolls it back, so no call exists that cannot
    produce its statements."""
    try:
        contributions_of(call)
    except calc.FinanceInputError as error:
        raise ValidationError(
            {field: gettext("l'appel « %(c)s » ne peut pas être réparti : %(e)s") % {"c": call.label, "e": error}}
        ) from None


def contribution_key_create(
    *,
    actor: User | None,
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
    actor: User | None,
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
    _require_finance_writer(actor)
    # The pages find a call by its year: a second one the same year would hide one of them.
    if ContributionCall.objects.filter(budget_year__year=budget_year.year).exists():
        raise ValidationError(
            {"budget_year": gettext("un appel de contributions existe déjà pour %(y)d") % {"y": budget_year.year}}
        )
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


def contribution_key_update(
    *,
    actor: User | None,
    key: ContributionKey,
    name: str,
    population_weight: Decimal,
    agents_weight: Decimal,
    applications_weight: Decimal,
    via: str = "web",
) -> ContributionKey:
    """Change a key's weights; refused when they do not add up to 100 % or when a call using the
    key could no longer be split (a member without the population it now needs, say)."""
    _require_finance_writer(actor)
    with transaction.atomic():
        model_update(
            actor=actor,
            instance=key,
            data={
                "name": name,
                "population_weight": population_weight,
                "agents_weight": agents_weight,
                "applications_weight": applications_weight,
            },
            fields=["name", "population_weight", "agents_weight", "applications_weight"],
            via=via,
        )
        for call in key.calls.select_related("budget_year", "key"):
            _check_call_splits(call, field=NON_FIELD_ERRORS)
    return key


def contribution_call_update(
    *,
    actor: User | None,
    call: ContributionCall,
    label: str,
    mutualised_amount: Decimal,
    key: ContributionKey,
    note: str = "",
    via: str = "web",
) -> ContributionCall:
    """Change a call's amount or key; the statements are recomputed from it, so a key that cannot
    split it is refused."""
    _require_finance_writer(actor)
    with transaction.atomic():
        model_update(
            actor=actor,
            instance=call,
            data={"label": label, "mutualised_amount": mutualised_amount, "key": key, "note": note},
            fields=["label", "mutualised_amount", "key", "note"],
            via=via,
        )
        _check_call_splits(call)
    return call


def application_prices_set(
    *,
    actor: User | None,
    call: ContributionCall,
    prices: dict[Application, Decimal | None],
    via: str = "web",
) -> ContributionCall:
    """Set the personalised part of a call: a price per subscribed application (None removes it).
    Every created, changed or removed price is audited."""
    _require_finance_writer(actor)
    negative = [a.name for a, p in prices.items() if p is not None and p < 0]
    if negative:
        raise ValidationError(gettext("prix négatif : %(a)s") % {"a": ", ".join(sorted(negative))})
    existing = {p.application_id: p for p in call.prices.all()}
    with transaction.atomic():
        for application, price in prices.items():
            current = existing.get(application.pk)
            if current is None and price is not None:
                model_create(
                    actor=actor,
                    model=ApplicationPrice,
                    data={"call": call, "application": application, "price": price},
                    via=via,
                )
            elif current is not None and price is None:
                audit_delete(actor=actor, obj=current, via=via)
                current.delete()
            elif current is not None and price is not None:
                model_update(actor=actor, instance=current, data={"price": price}, fields=["price"], via=via)
        _check_call_splits(call, field=NON_FIELD_ERRORS)
    return call


def cofinancing_set(
    *,
    actor: User | None,
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
        previous = Cofinancing.objects.filter(budget_year=budget_year).first()
        if previous is not None:
            audit_delete(actor=actor, obj=previous, via=via)
            previous.delete()
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
