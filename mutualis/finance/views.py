"""Finance pages: budgets, results and their allocation, five-year tables, debt, contributions.
Every signed-in account reads the operator's accounts; a member reads only its own statement;
operator staff import, record loans and set up contributions and co-financing (others get 404;
a read-only operator account reads the forms but cannot post them)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from mutualis.accounts.models import User
from mutualis.accounts.requests import signed_in
from mutualis.core.forms import add_service_errors
from mutualis.core.tenancy import is_operator, require_operator_staff, require_writer
from mutualis.finance import exports, selectors, services
from mutualis.finance.computations import FinanceInputError
from mutualis.finance.enums import Section, Side
from mutualis.finance.forms import (
    ApplicationPricesForm,
    CofinancingForm,
    CofinancingShareFormSet,
    ContributionCallForm,
    ContributionKeyForm,
    ExecutionImportForm,
    LoanForm,
    PeriodForm,
)


def _can_write(user: User) -> bool:
    return is_operator(user) and not user.is_read_only


def _checks(user: User, report: selectors.YearReport) -> list[selectors.Warning]:
    """The accounts' consistency gaps, for operator admins only: they correct the figures; for
    members and elected officials these are the transcription's working notes, not the accounts."""
    return report.warnings if is_operator(user) and user.is_operator_admin else []


@login_required
def index(request: HttpRequest) -> HttpResponse:
    budgets = list(selectors.budget_list(actor=signed_in(request)).prefetch_related("years"))
    return render(
        request,
        "finance/index.html",
        {
            "budgets": budgets,
            "contribution_years": selectors.contribution_years(),
            "can_write": _can_write(signed_in(request)),
        },
    )


def _sections(figures: selectors.YearFigures) -> list[dict[str, Any]]:
    out = []
    for section in Section:
        for side in (Side.EXPENSE, Side.REVENUE):
            lines = [ln for ln in figures.lines if ln.chapter.section == section and ln.side == side]
            out.append(
                {
                    "title": f"{section.label} — {side.label}",
                    "lines": lines,
                    "total": figures.line_total(section, side, with_carried=True),
                    "execution": figures.execution(section, side),
                    "stated": [t for (s, d, _k), t in figures.stated.items() if s == section and d == side],
                }
            )
    return out


@login_required
def budget_year(request: HttpRequest, slug: str, year: int) -> HttpResponse:
    budget = selectors.budget_get(actor=signed_in(request), slug=slug)
    item = selectors.budget_year_get(budget=budget, year=year)
    report = selectors.year_report(item, with_lines=True)
    try:
        cofinancing, shares = selectors.cofinancing_of(item)
        cofinancing_error = None
    except FinanceInputError as error:
        cofinancing, shares, cofinancing_error = None, {}, str(error)
    return render(
        request,
        "finance/budget.html",
        {
            "budget": budget,
            "item": item,
            "years": selectors.budget_years(budget),
            "report": report,
            "checks": _checks(signed_in(request), report),
            "sections": _sections(report.figures),
            "remaining": sorted(report.figures.remaining.values(), key=lambda r: (r.section, r.side)),
            "carried": sorted(report.figures.carried.items()),
            "cofinancing": cofinancing,
            "shares": shares,
            "cofinancing_error": cofinancing_error,
            "can_write": _can_write(signed_in(request)),
        },
    )


@login_required
def results(request: HttpRequest, slug: str, year: int) -> HttpResponse:
    budget = selectors.budget_get(actor=signed_in(request), slug=slug)
    item = selectors.budget_year_get(budget=budget, year=year)
    report = selectors.year_report(item)
    r = report.results
    chart = exports.bar_chart_svg(
        title=_("Résultats cumulés et affectation %(y)d") % {"y": year},
        categories=[_("Fonctionnement"), _("Investissement corrigé"), _("Affectation 1068"), _("Report")],
        series={
            _("montant"): [
                r.fonctionnement.resultat_cumule,
                r.investissement_corrige,
                r.affectation_1068,
                r.report_fonctionnement,
            ]
        },
    )
    return render(
        request,
        "finance/results.html",
        {
            "budget": budget,
            "item": item,
            "report": report,
            "checks": _checks(signed_in(request), report),
            "r": r,
            "chart": chart,
        },
    )


@login_required
def evolution(request: HttpRequest, slug: str) -> HttpResponse:
    budget = selectors.budget_get(actor=signed_in(request), slug=slug)
    years = selectors.budget_years(budget)
    form = PeriodForm(request.GET or None)
    first, last = (years[0], years[-1]) if years else (0, 0)
    if form.is_valid():
        first = form.cleaned_data.get("de") or first
        last = form.cleaned_data.get("a") or last
    tables, error = [], None
    try:
        tables = selectors.evolution_tables(budget, first=first, last=last)
    except ValueError as exc:
        error = str(exc)
    span = list(range(first, last + 1)) if not error else []
    for table in tables:
        table.chart = exports.bar_chart_svg(  # type: ignore[attr-defined]
            title=table.title,
            categories=[str(y) for y in span],
            series={_("total"): [table.evolution.totals[y] for y in span]},
        )
    return render(
        request,
        "finance/evolution.html",
        {"budget": budget, "tables": tables, "span": span, "form": form, "error": error, "first": first, "last": last},
    )


@login_required
def debt(request: HttpRequest, slug: str) -> HttpResponse:
    budget = selectors.budget_get(actor=signed_in(request), slug=slug)
    series = selectors.debt_series(budget)
    chart = exports.bar_chart_svg(
        title=_("Épargne brute et épargne nette"),
        categories=[str(d.year) for d in series],
        series={
            _("épargne brute"): [d.debt.gross_savings for d in series],
            _("épargne nette"): [d.debt.net_savings for d in series],
        },
    )
    return render(
        request,
        "finance/debt.html",
        {
            "budget": budget,
            "series": series,
            "chart": chart,
            "loans": budget.loans.prefetch_related("years"),
            "can_write": _can_write(signed_in(request)),
            "ceiling": series[0].debt.ceiling_years if series else None,
        },
    )


@login_required
def scdl_export(request: HttpRequest, slug: str, year: int) -> HttpResponse:
    budget = selectors.budget_get(actor=signed_in(request), slug=slug)
    item = selectors.budget_year_get(budget=budget, year=year)
    try:
        text = exports.scdl_csv(item)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("finance:budget", slug=slug, year=year)
    response = HttpResponse(text, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="budget-{slug}-{year}-scdl.csv"'
    return response


@login_required
def execution_import(request: HttpRequest, slug: str) -> HttpResponse:
    require_operator_staff(request.user)
    budget = selectors.budget_get(actor=signed_in(request), slug=slug)
    form = ExecutionImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST":
        require_writer(request.user)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                result = services.execution_import(
                    actor=signed_in(request),
                    budget=budget,
                    content=upload.read(),
                    filename=upload.name,
                    replace=form.cleaned_data["replace"],
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(
                    request,
                    _("Import réussi : %(n)d ligne(s) pour %(y)s.")
                    % {"n": result.lines, "y": ", ".join(str(y) for y in result.years)},
                )
                return redirect("finance:budget", slug=slug, year=result.years[-1])
    return render(
        request,
        "finance/form.html",
        {"form": form, "budget": budget, "title": _("Importer l'exécution — %(b)s") % {"b": budget}, "multipart": True},
    )


@login_required
def loan_create(request: HttpRequest, slug: str) -> HttpResponse:
    require_operator_staff(request.user)
    budget = selectors.budget_get(actor=signed_in(request), slug=slug)
    form = LoanForm(request.POST or None)
    if request.method == "POST":
        require_writer(request.user)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.loan_create(
                    actor=signed_in(request),
                    budget=budget,
                    lender=data["lender"],
                    label=data["label"],
                    initial_capital=data["initial_capital"],
                    rate=data["rate"],
                    start_year=data["start_year"],
                    years=[
                        {
                            "year": data["year"],
                            "outstanding": data["outstanding"],
                            "capital_repaid": data["capital_repaid"],
                            "interest": data["interest"],
                        }
                    ],
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, _("Emprunt enregistré."))
                return redirect("finance:debt", slug=slug)
    return render(
        request,
        "finance/form.html",
        {"form": form, "budget": budget, "title": _("Nouvel emprunt — %(b)s") % {"b": budget}},
    )


@login_required
def contributions(request: HttpRequest, year: int) -> HttpResponse:
    call = selectors.contribution_call_get(year=year)
    try:
        rows, error = selectors.contributions_for(actor=signed_in(request), call=call), None
    except FinanceInputError as exc:
        rows, error = {}, str(exc)
    return render(
        request,
        "finance/contributions.html",
        {
            "call": call,
            "year": year,
            "rows": rows,
            "error": error,
            "total": sum((c.total for c in rows.values()), start=call.mutualised_amount * 0),
            "everyone": is_operator(request.user),
            "can_write": _can_write(signed_in(request)),
            "annex_years": selectors.annex_years(year=year) if is_operator(request.user) else [],
        },
    )


def _statement(request: HttpRequest, year: int, org: str) -> tuple[Any, Any, Any]:
    call = selectors.contribution_call_get(year=year)
    try:
        organisation, contribution = selectors.statement_get(actor=signed_in(request), call=call, slug=org)
    except FinanceInputError as error:
        raise ValidationError(str(error)) from None
    return call, organisation, contribution


@login_required
def statement(request: HttpRequest, year: int, org: str) -> HttpResponse:
    try:
        call, organisation, contribution = _statement(request, year, org)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("finance:index")
    return render(
        request,
        "finance/statement.html",
        {"call": call, "organisation": organisation, "contribution": contribution, "year": year},
    )


@login_required
def statement_csv(request: HttpRequest, year: int, org: str) -> HttpResponse:
    try:
        _call, organisation, contribution = _statement(request, year, org)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("finance:index")
    response = HttpResponse(exports.statement_csv(contribution), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="releve-{organisation.slug}-{year}.csv"'
    return response


@login_required
def statement_pdf(request: HttpRequest, year: int, org: str) -> HttpResponse:
    try:
        call, organisation, contribution = _statement(request, year, org)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("finance:index")
    pdf = exports.statement_pdf(
        call=call, organisation=organisation, contribution=contribution, operator=selectors.operator()
    )
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="releve-{organisation.slug}-{year}.pdf"'
    return response


# -- settings the operator edits: keys, calls, prices, co-financing, loans ------------------------
def _form_page(request: HttpRequest, form: Any, title: str, **extra: Any) -> HttpResponse:
    return render(request, "finance/form.html", {"form": form, "title": title, **extra})


@login_required
def contribution_keys(request: HttpRequest) -> HttpResponse:
    require_operator_staff(request.user)
    return render(
        request,
        "finance/contribution_keys.html",
        {
            "keys": selectors.contribution_key_list(),
            "years": selectors.contribution_years(),
            "can_write": _can_write(signed_in(request)),
        },
    )


@login_required
def contribution_key_create(request: HttpRequest) -> HttpResponse:
    require_operator_staff(request.user)
    form = ContributionKeyForm(request.POST or None)
    if request.method == "POST":
        require_writer(request.user)
        if form.is_valid():
            try:
                services.contribution_key_create(actor=signed_in(request), **form.cleaned_data)
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, _("Clé de répartition enregistrée."))
                return redirect("finance:keys")
    return _form_page(request, form, _("Nouvelle clé de répartition"))


@login_required
def contribution_key_edit(request: HttpRequest, slug: str) -> HttpResponse:
    require_operator_staff(request.user)
    key = selectors.contribution_key_get(slug=slug)
    initial = {"name": key.name, **{f"{k}_weight": v for k, v in key.weights.items()}}
    form = ContributionKeyForm(request.POST or None, initial=initial, editing=True)
    if request.method == "POST":
        require_writer(request.user)
        if form.is_valid():
            try:
                services.contribution_key_update(actor=signed_in(request), key=key, **form.cleaned_data)
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, _("Clé de répartition modifiée : les contributions sont recalculées."))
                return redirect("finance:keys")
    return _form_page(request, form, _("Modifier la clé « %(k)s »") % {"k": key.name})


@login_required
def contribution_call_create(request: HttpRequest) -> HttpResponse:
    require_operator_staff(request.user)
    form = ContributionCallForm(request.POST or None, budget_years=selectors.call_budget_years())
    if request.method == "POST":
        require_writer(request.user)
        if form.is_valid():
            try:
                call = services.contribution_call_create(actor=signed_in(request), **form.cleaned_data)
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, _("Appel de contributions ouvert."))
                return redirect("finance:contributions", year=call.budget_year.year)
    return _form_page(request, form, _("Ouvrir un appel de contributions"))


@login_required
def contribution_call_edit(request: HttpRequest, year: int) -> HttpResponse:
    require_operator_staff(request.user)
    call = selectors.contribution_call_get(year=year)
    initial = {"label": call.label, "mutualised_amount": call.mutualised_amount, "key": call.key, "note": call.note}
    form = ContributionCallForm(request.POST or None, initial=initial)
    if request.method == "POST":
        require_writer(request.user)
        if form.is_valid():
            try:
                services.contribution_call_update(actor=signed_in(request), call=call, **form.cleaned_data)
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, _("Appel de contributions modifié : les contributions sont recalculées."))
                return redirect("finance:contributions", year=year)
    return _form_page(request, form, _("Modifier l'appel « %(c)s »") % {"c": call.label})


@login_required
def application_prices(request: HttpRequest, year: int) -> HttpResponse:
    require_operator_staff(request.user)
    call = selectors.contribution_call_get(year=year)
    form = ApplicationPricesForm(request.POST or None, rows=selectors.application_prices(call))
    if request.method == "POST":
        require_writer(request.user)
        if form.is_valid():
            try:
                services.application_prices_set(actor=signed_in(request), call=call, prices=form.prices())
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, _("Prix des applications enregistrés : les relevés sont recalculés."))
                return redirect("finance:contributions", year=year)
    return _form_page(
        request,
        form,
        _("Parts personnalisées — %(c)s") % {"c": call.label},
        intro=_("Le prix d'une application est facturé à chaque adhérent qui y est abonné ; laissez vide pour aucun."),
    )


@login_required
def cofinancing_edit(request: HttpRequest, slug: str, year: int) -> HttpResponse:
    require_operator_staff(request.user)
    budget = selectors.budget_get(actor=signed_in(request), slug=slug)
    item = selectors.budget_year_get(budget=budget, year=year)
    current = selectors.cofinancing_current(item)
    form = CofinancingForm(request.POST or None, initial=current.get("initial"))
    formset = CofinancingShareFormSet(request.POST or None, initial=current.get("shares"), prefix="parts")
    if request.method == "POST":
        require_writer(request.user)
        if form.is_valid() and formset.is_valid():
            try:
                services.cofinancing_set(
                    actor=signed_in(request),
                    budget_year=item,
                    shares=formset.shares(),  # type: ignore[attr-defined]
                    **form.cleaned_data,
                )
            except ValidationError as error:
                # The service names the shares as a whole: the message goes above the form.
                form.add_error(None, " ".join(error.messages))
            else:
                messages.success(request, _("Cofinancement enregistré."))
                return redirect("finance:budget", slug=slug, year=year)
    return render(
        request,
        "finance/cofinancing_form.html",
        {
            "form": form,
            "formset": formset,
            "budget": budget,
            "item": item,
            "title": _("Cofinancement — %(b)s %(y)d") % {"b": budget, "y": year},
        },
    )


@login_required
def loan_edit(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    require_operator_staff(request.user)
    budget = selectors.budget_get(actor=signed_in(request), slug=slug)
    loan = selectors.loan_get(budget=budget, pk=pk)
    initial = {
        "lender": loan.lender,
        "label": loan.label,
        "initial_capital": loan.initial_capital,
        "rate": loan.rate,
        "start_year": loan.start_year,
    }
    form = LoanForm(request.POST or None, initial=initial, editing=True)
    if request.method == "POST":
        require_writer(request.user)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.loan_update(
                    actor=signed_in(request),
                    loan=loan,
                    figures=form.year_figures(),
                    **{k: data[k] for k in ("lender", "label", "initial_capital", "rate", "start_year")},
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, _("Emprunt modifié."))
                return redirect("finance:debt", slug=slug)
    return _form_page(request, form, _("Modifier l'emprunt %(l)s — %(b)s") % {"l": loan, "b": budget}, budget=budget)
