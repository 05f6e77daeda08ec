"""Register pages: the list with filters and exports, one contract, the thresholds, the
renewals dashboard. Every signed-in account reads; operator staff write (others get 404)."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from mutualis.accounts.models import User
from mutualis.accounts.requests import signed_in
from mutualis.core.forms import add_service_errors
from mutualis.core.panels import panels_render
from mutualis.core.tenancy import is_operator, may_write, require_operator_staff
from mutualis.lib.periods import year_in_range
from mutualis.lib.tabular import CSV_CONTENT_TYPE, PEOPLE, XLSX_CONTENT_TYPE, to_csv, to_xlsx
from mutualis.procurement import selectors, services
from mutualis.procurement.decp import schema_errors
from mutualis.procurement.enums import MARKS
from mutualis.procurement.exports import register_header, register_rows
from mutualis.procurement.exports_decp import decp_export, decp_threshold
from mutualis.procurement.forms import (
    ContractForm,
    DecpImportForm,
    LotForm,
    RegisterFilterForm,
    RenewalForm,
    ThresholdForm,
)
from mutualis.procurement.models import Contract
from mutualis.procurement.services import NewHolder


def _can_write(user: User) -> bool:
    """The register's writes are the operator's: the pages show their forms on this answer."""
    return is_operator(user) and may_write(user)


def _register(request: HttpRequest) -> tuple[RegisterFilterForm, list[Any]]:
    form = RegisterFilterForm(
        request.GET or None,
        years=selectors.contract_years(),
        vendors=selectors.vendor_choices(),
        applications=selectors.application_choices(),
    )
    filters = form.cleaned_data if form.is_valid() else {}
    contracts = selectors.contract_list(
        actor=signed_in(request),
        year=filters.get("annee"),
        vendor=filters.get("titulaire") or None,
        procedure=filters.get("procedure") or None,
        application=filters.get("application") or None,
        ending_within=filters.get("echeance"),
    )
    return form, selectors.attach_warnings(contracts)


@login_required
def contract_index(request: HttpRequest) -> HttpResponse:
    form, contracts = _register(request)
    context = {
        "form": form,
        "contracts": contracts,
        "can_write": _can_write(signed_in(request)),
        "total": sum(c.max_amount_ht for c in contracts),
        "query": request.GET.urlencode(),
    }
    if not request.headers.get("HX-Request"):
        context["decp"] = _decp_context(request)
    template = "procurement/includes/_register.html" if request.headers.get("HX-Request") else "procurement/list.html"
    return render(request, template, context)


def _decp_year(request: HttpRequest, years: list[int]) -> int | None:
    """The year the DECP block shows: the register's year filter, else the latest year with contracts."""
    try:
        chosen = int(request.GET.get("annee", ""))
    except ValueError:
        chosen = None
    return chosen if chosen in years else (years[0] if years else None)


def _decp_context(request: HttpRequest) -> dict[str, Any] | None:
    """What the year's DECP export publishes and what each left-out contract still lacks (operator only)."""
    if not is_operator(request.user):
        return None
    years = selectors.contract_years()
    year = _decp_year(request, years)
    if year is None:
        return None
    export = decp_export(year=year)
    contracts = {c.code: c for c in Contract.objects.filter(code__in=export.skipped).only("code", "object")}
    return {
        "year": year,
        "years": years,
        "published": len(export.document["marches"]["marche"]),
        "threshold": decp_threshold(),
        "gaps": [(contracts[code], missing) for code, missing in export.skipped.items() if code in contracts],
    }


@login_required
def decp_download(request: HttpRequest, year: int) -> HttpResponse:
    """« Télécharger les DECP »: the year's data in the DECP 2.0.3 format, checked against its schema."""
    require_operator_staff(request.user)
    if not year_in_range(year):  # the URL takes any digits; datetime and the database do not
        raise Http404("année inconnue")
    export = decp_export(year=year)
    if schema_errors(export.document):  # a bug of ours: never hand out a file the schema refuses
        messages.error(
            request, _("L'export DECP %(year)s n'est pas conforme au schéma : il n'est pas proposé.") % {"year": year}
        )
        return redirect("procurement:list")
    body = json.dumps(export.document, ensure_ascii=False, indent=2)
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="decp-{year}.json"'
    return response


@login_required
def contract_export(request: HttpRequest, fmt: str) -> HttpResponse:
    _form, contracts = _register(request)
    header, rows = register_header(), register_rows(contracts)
    stamp = timezone.localdate().isoformat()
    if fmt == "xlsx":
        response = HttpResponse(to_xlsx(header, rows, title=_("Marchés")), content_type=XLSX_CONTENT_TYPE)
    else:
        response = HttpResponse(to_csv(header, rows, dialect=PEOPLE), content_type=CSV_CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="registre-marches-{stamp}.{fmt}"'
    return response


@login_required
def contract_detail(request: HttpRequest, code: str) -> HttpResponse:
    contract = selectors.contract_get(actor=signed_in(request), code=code)
    can_write = _can_write(signed_in(request))
    return render(
        request,
        "procurement/detail.html",
        {
            "contract": contract,
            "warnings": selectors.contract_warnings(contract),
            "lots": contract.lots.all(),
            "decisions": contract.renewal_decisions.all(),
            "renewals_left": max(contract.renewals_allowed - contract.renewals_used, 0),  # type: ignore[attr-defined]
            "can_write": can_write,
            "renewal_form": RenewalForm(initial={"decided_on": timezone.localdate()}) if can_write else None,
            "lot_form": LotForm() if can_write else None,
            "panels": panels_render("procurement.contract", request, contract=contract),
        },
    )


def _holders_and_apps(form: ContractForm) -> dict[str, Any]:
    data = dict(form.cleaned_data)
    holders = list(data.pop("holders", []) or [])
    applications = list(data.pop("applications", []) or [])
    name, siret = data.pop("new_holder_name", ""), data.pop("new_holder_siret", "")
    new_holders = [NewHolder(siret=siret.replace(" ", ""), name=name)] if siret or name else []
    if data.get("decp_details") is None:
        data["decp_details"] = {}
    return {"data": data, "holders": holders, "applications": applications, "new_holders": new_holders}


@login_required
def contract_create(request: HttpRequest) -> HttpResponse:
    require_operator_staff(request.user)
    form = ContractForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            contract = services.contract_create(actor=signed_in(request), **_holders_and_apps(form))
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Marché enregistré."))
            return redirect("procurement:detail", code=contract.code)
    return render(request, "procurement/form.html", {"form": form, "title": _("Nouveau marché")})


@login_required
def contract_edit(request: HttpRequest, code: str) -> HttpResponse:
    require_operator_staff(request.user)
    contract = selectors.contract_get(actor=signed_in(request), code=code)
    form = ContractForm(request.POST or None, instance=contract)
    if request.method == "POST" and form.is_valid():
        try:
            services.contract_update(actor=signed_in(request), contract=contract, **_holders_and_apps(form))
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Marché enregistré."))
            return redirect("procurement:detail", code=contract.code)
    return render(request, "procurement/form.html", {"form": form, "title": contract.code})


@login_required
@require_POST
def renewal_create(request: HttpRequest, code: str) -> HttpResponse:
    require_operator_staff(request.user)
    contract = selectors.contract_get(actor=signed_in(request), code=code)
    form = RenewalForm(request.POST)
    if form.is_valid():
        try:
            services.renewal_decide(actor=signed_in(request), contract=contract, **form.cleaned_data)
        except ValidationError as error:
            for message in error.messages:
                messages.error(request, message)
        else:
            messages.success(request, _("Décision de reconduction enregistrée."))
    else:
        messages.error(request, _("Décision incomplète : indiquez la date et la décision."))
    return redirect("procurement:detail", code=contract.code)


@login_required
def lot_create(request: HttpRequest, code: str) -> HttpResponse:
    require_operator_staff(request.user)
    contract = selectors.contract_get(actor=signed_in(request), code=code)
    form = LotForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.lot_add(actor=signed_in(request), contract=contract, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Lot ajouté."))
            return redirect("procurement:detail", code=contract.code)
    return render(request, "procurement/form.html", {"form": form, "title": _("Lot du marché %s") % contract.code})


@login_required
def decp_import(request: HttpRequest) -> HttpResponse:
    require_operator_staff(request.user)
    form = DecpImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            result = services.decp_import(
                actor=signed_in(request), content=upload.read(), source=upload.name, via="web"
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request,
                _("Import DECP : %(c)d marché(s) créé(s), %(u)d mis à jour.")
                % {"c": len(result.created), "u": len(result.updated)},
            )
            return redirect("procurement:list")
    return render(
        request, "procurement/form.html", {"form": form, "title": _("Importer un fichier DECP"), "multipart": True}
    )


def _thresholds_page(request: HttpRequest, form: ThresholdForm | None) -> HttpResponse:
    today = timezone.localdate()
    return render(
        request,
        "procurement/thresholds.html",
        {
            "thresholds": selectors.threshold_list(),
            "in_force": selectors.thresholds_in_force(on=today).values(),
            "today": today,
            "form": form,
        },
    )


@login_required
def threshold_index(request: HttpRequest) -> HttpResponse:
    return _thresholds_page(request, ThresholdForm() if _can_write(signed_in(request)) else None)


@login_required
def threshold_create(request: HttpRequest) -> HttpResponse:
    require_operator_staff(request.user)
    form = ThresholdForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.threshold_create(actor=signed_in(request), data=dict(form.cleaned_data))
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Seuil enregistré."))
            return redirect("procurement:thresholds")
    return _thresholds_page(request, form)


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    buckets = selectors.events_by_mark(selectors.upcoming_events(actor=signed_in(request), today=today))
    return render(
        request,
        "procurement/dashboard.html",
        {
            "buckets": [(mark, buckets[mark]) for mark in MARKS],
            "today": today,
        },
    )
