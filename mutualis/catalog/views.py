"""Catalogue pages: the application list, one application, the deployment matrix and its exports."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from mutualis.accounts.requests import signed_in
from mutualis.catalog import services
from mutualis.catalog.exports import matrix_header, matrix_rows
from mutualis.catalog.forms import (
    ApplicationEditForm,
    ApplicationForm,
    CatalogFilterForm,
    DomainForm,
    SubscriptionEditForm,
    SubscriptionForm,
    VendorEditForm,
    VendorForm,
)
from mutualis.catalog.models import Licence, SubscriptionStatus
from mutualis.catalog.selectors import (
    application_get,
    application_list,
    deployment_matrix,
    domain_list,
    service_commitment_list,
    subscription_get,
    vendor_get,
)
from mutualis.core.forms import add_service_errors
from mutualis.core.panels import panels_render
from mutualis.core.tenancy import is_operator, require_operator_staff
from mutualis.lib.tabular import CSV_CONTENT_TYPE, PEOPLE, XLSX_CONTENT_TYPE, to_csv, to_xlsx
from mutualis.members.selectors import collectivity_list


@login_required
def application_index(request: HttpRequest) -> HttpResponse:
    domains = [(d.slug, d.name) for d in domain_list()]
    members = [(m.slug, m.name) for m in collectivity_list(actor=signed_in(request)).only("slug", "name")]
    form = CatalogFilterForm(request.GET or None, domains=domains, members=members)
    filters = form.cleaned_data if form.is_valid() else {}
    applications = application_list(
        actor=signed_in(request),
        domain=filters.get("domaine") or None,
        licence=filters.get("licence") or None,
        member=filters.get("adherent") or None,
        search=filters.get("q") or None,
    )
    return render(
        request,
        "catalog/list.html",
        {
            "form": form,
            "applications": applications,
            "commitments": service_commitment_list(),
            "can_write": is_operator(request.user) and not signed_in(request).is_read_only,
        },
    )


@login_required
def application_detail(request: HttpRequest, slug: str) -> HttpResponse:
    application = application_get(actor=signed_in(request), slug=slug)
    can_write = is_operator(request.user) and not signed_in(request).is_read_only
    return render(
        request,
        "catalog/detail.html",
        {
            "application": application,
            "subscriptions": application.subscriptions.all(),
            "can_write": can_write,
            "subscription_form": SubscriptionForm() if can_write else None,
            # the contracts covering it (procurement)
            "panels": panels_render("catalog.application", request, application=application),
        },
    )


@login_required
def application_create(request: HttpRequest) -> HttpResponse:
    require_operator_staff(request.user)
    form = ApplicationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            application = services.application_create(actor=signed_in(request), data=dict(form.cleaned_data))
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Application ajoutée au catalogue."))
            return redirect("catalog:detail", slug=application.slug)
    return render(request, "catalog/form.html", {"form": form, "title": _("Nouvelle application")})


@login_required
def application_edit(request: HttpRequest, slug: str) -> HttpResponse:
    require_operator_staff(request.user)
    application = application_get(actor=signed_in(request), slug=slug)
    form = ApplicationEditForm(request.POST or None, instance=application)
    if request.method == "POST" and form.is_valid():
        try:
            services.application_update(actor=signed_in(request), application=application, data=dict(form.cleaned_data))
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Application enregistrée."))
            return redirect("catalog:detail", slug=application.slug)
    return render(request, "catalog/form.html", {"form": form, "title": application.name})


@login_required
def subscription_create(request: HttpRequest, slug: str) -> HttpResponse:
    require_operator_staff(request.user)
    application = application_get(actor=signed_in(request), slug=slug)
    form = SubscriptionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.subscription_create(
                actor=signed_in(request), data={**form.cleaned_data, "application": application}
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Abonnement enregistré."))
            return redirect("catalog:detail", slug=application.slug)
    return render(request, "catalog/form.html", {"form": form, "title": _("Abonner à %s") % application.name})


@login_required
def subscription_edit(request: HttpRequest, pk: int) -> HttpResponse:
    require_operator_staff(request.user)
    subscription = subscription_get(actor=signed_in(request), pk=pk)
    form = SubscriptionEditForm(request.POST or None, instance=subscription)
    if request.method == "POST" and form.is_valid():
        try:
            services.subscription_update(
                actor=signed_in(request), subscription=subscription, data=dict(form.cleaned_data)
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Abonnement enregistré."))
            return redirect("catalog:detail", slug=subscription.application.slug)
    return render(request, "catalog/form.html", {"form": form, "title": str(subscription)})


def _matrix_from_request(request: HttpRequest):  # type: ignore[no-untyped-def]
    status = request.GET.get("statut", "")
    if status and status != "all" and status not in SubscriptionStatus.values:
        status = ""
    licence = request.GET.get("licence", "")
    return deployment_matrix(
        actor=signed_in(request),
        domain=request.GET.get("domaine") or None,
        licence=licence if licence in Licence.values else None,
        members=request.GET.getlist("adherent") or None,
        status=status or None,
        search=request.GET.get("q") or None,
    ), status


@login_required
def matrix(request: HttpRequest) -> HttpResponse:
    matrix, status = _matrix_from_request(request)
    context = {
        "matrix": matrix,
        "domains": domain_list(),
        "licences": Licence.choices,
        "statuses": SubscriptionStatus.choices,
        "selected": {
            "domaine": request.GET.get("domaine", ""),
            "licence": request.GET.get("licence", ""),
            "adherents": set(request.GET.getlist("adherent")),
            "statut": status,
            "q": request.GET.get("q", ""),
        },
        "query": request.GET.urlencode(),
    }
    template = "catalog/includes/_matrix.html" if request.headers.get("HX-Request") else "catalog/matrix.html"
    return render(request, template, context)


@login_required
def matrix_export(request: HttpRequest, fmt: str) -> HttpResponse:
    matrix, _status = _matrix_from_request(request)
    header, rows = matrix_header(matrix), matrix_rows(matrix)
    footer = ["", "total", *matrix.column_totals, matrix.total]
    stamp = timezone.localdate().isoformat()
    if fmt == "xlsx":
        response = HttpResponse(to_xlsx(header, [*rows, footer], title="Matrice"), content_type=XLSX_CONTENT_TYPE)
    else:
        response = HttpResponse(to_csv(header, rows, dialect=PEOPLE), content_type=CSV_CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="matrice-deploiements-{stamp}.{fmt}"'
    return response


@login_required
def vendor_create(request: HttpRequest) -> HttpResponse:
    return _simple_create(request, VendorForm, services.vendor_create, _("Nouvel éditeur"), _("Éditeur ajouté."))


@login_required
def vendor_detail(request: HttpRequest, slug: str) -> HttpResponse:
    vendor = vendor_get(actor=signed_in(request), slug=slug)
    return render(
        request,
        "catalog/vendor.html",
        {
            "vendor": vendor,
            "can_write": is_operator(request.user) and not signed_in(request).is_read_only,
            # the contracts it holds (procurement)
            "panels": panels_render("catalog.vendor", request, vendor=vendor),
        },
    )


@login_required
def vendor_edit(request: HttpRequest, slug: str) -> HttpResponse:
    require_operator_staff(request.user)
    vendor = vendor_get(actor=signed_in(request), slug=slug)
    title = vendor.name  # the service sets the posted values on `vendor` even when it refuses them
    form = VendorEditForm(request.POST or None, instance=vendor)
    if request.method == "POST" and form.is_valid():
        try:
            services.vendor_update(actor=signed_in(request), vendor=vendor, data=dict(form.cleaned_data))
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Éditeur enregistré."))
            return redirect("catalog:vendor_detail", slug=vendor.slug)
    return render(request, "catalog/form.html", {"form": form, "title": title})


@login_required
def domain_create(request: HttpRequest) -> HttpResponse:
    return _simple_create(request, DomainForm, services.domain_create, _("Nouveau domaine"), _("Domaine ajouté."))


def _simple_create(request: HttpRequest, form_class: type, create: Callable[..., object], title: str, done: str):  # type: ignore[no-untyped-def]
    require_operator_staff(request.user)
    form = form_class(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            create(actor=request.user, data=dict(form.cleaned_data))
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, done)
            return redirect("catalog:list")
    return render(request, "catalog/form.html", {"form": form, "title": title})
