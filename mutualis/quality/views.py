"""Quality pages under /qualite/: the operator's and each member's dashboard, time spent on
tickets (page, CSV, XLSX) and the archive of monthly reports. Thin: selectors do the reading."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_tasks.base import TaskResultStatus

from mutualis.accounts.models import User
from mutualis.accounts.requests import signed_in
from mutualis.core.tenancy import is_operator
from mutualis.lib.periods import parse_year
from mutualis.lib.tabular import CSV_CONTENT_TYPE, PEOPLE, XLSX_CONTENT_TYPE, to_csv, to_xlsx
from mutualis.members.models import Organisation
from mutualis.quality import charts, selectors
from mutualis.quality.kpis import Month
from mutualis.quality.models import MonthlyReport
from mutualis.quality.reports import (
    dashboard_charts,
    may_produce_reports,
    month_label,
    monthly_report_request,
    producible_months,
)


def _month(request: HttpRequest) -> Month:
    """The last month of the trend: ?month=YYYY-MM, else the current month; a month that is
    not one (or outside the years Month.parse accepts) is a page that does not exist."""
    value = request.GET.get("month", "")
    if not value:
        today = timezone.localdate()
        return Month(today.year, today.month)
    try:
        return Month.parse(value)
    except ValueError:
        raise Http404("mois inconnu") from None


def chart_scope(user: User) -> str:
    """Who may fetch a chart a page deferred: the operator's staff, or one member's accounts."""
    return "operator" if is_operator(user) else f"member:{user.organisation_id}"


def _context(data: dict[str, Any], *, member: bool, user: User) -> dict[str, Any]:
    peak = data["peak"]
    return {
        "data": data,
        "charts": dashboard_charts(data, member=member, scope=chart_scope(user)),
        "peak_row": data["series"][peak] if peak is not None else None,
        "first_label": month_label(data["first"]),
        "last_label": month_label(data["last"]),
        "month_value": str(data["last"]),
    }


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """The operator's dashboard; a member's manager is sent to its own."""
    user = signed_in(request)
    if not is_operator(user):
        organisation = user.organisation
        if organisation is None or not selectors.can_see_member(user, organisation):
            raise Http404("page réservée")
        return redirect("quality:member", slug=organisation.slug)
    data = selectors.operator_dashboard(last=_month(request))
    return render(request, "quality/dashboard.html", _context(data, member=False, user=user))


@login_required
def member(request: HttpRequest, slug: str) -> HttpResponse:
    user = signed_in(request)
    collectivity = selectors.member_get(actor=user, slug=slug)
    data = selectors.member_dashboard(collectivity=collectivity, last=_month(request))
    return render(request, "quality/member.html", _context(data, member=True, user=user))


@login_required
def chart(request: HttpRequest, name: str, token: str) -> HttpResponse:
    """A chart a quality page of the same scope deferred (charts.chart_deferred): drawn on its
    first request, then served from the cache; 404 for another scope or a forged token."""
    svg = charts.chart_fetch(name, token, scope=chart_scope(signed_in(request)))
    if svg is None:
        raise Http404("graphique inconnu")
    return HttpResponse(svg, content_type="image/svg+xml; charset=utf-8")


# -- compliance with the service commitments ----------------------------------------------------
@login_required
def commitments(request: HttpRequest) -> HttpResponse:
    """Compliance per service commitment, member and month over the trend's months. Operator
    staff see every member (?member=slug for one); a member's managers and elected officials
    see their own collectivity only."""
    user = signed_in(request)
    if not is_operator(user) and not (user.organisation and selectors.can_see_member(user, user.organisation)):
        raise Http404("page réservée")
    last = _month(request)
    first = selectors.month_shift(last, -(selectors.TREND_MONTHS - 1))
    visible = Organisation.objects.visible_to(user).collectivities()
    members = visible.order_by("name") if is_operator(user) else []
    chosen = visible.filter(slug=request.GET.get("member") or "").first()
    if not is_operator(user):
        chosen = user.organisation
    rows = selectors.commitment_compliance(
        actor=user, first=first, last=last, collectivity_id=chosen.pk if chosen else None
    )
    context = {
        "tables": selectors.commitment_compliance_table(rows, first=first, last=last),
        "members": members,
        "chosen": chosen,
        "first_label": month_label(first),
        "last_label": month_label(last),
        "month_value": str(last),
    }
    return render(request, "quality/commitments.html", context)


# -- time accounting ----------------------------------------------------------------------------
TIME_HEADER = [
    "mois",
    "collectivite",
    "collectivite_nom",
    "application",
    "application_nom",
    "taches",
    "secondes",
    "heures",
]


def time_rows(rows: list[dict[str, Any]]) -> list[list[Any]]:
    return [
        [
            r["month"],
            r["collectivity_slug"],
            r["collectivity_name"],
            r["application_slug"] or "",
            r["application_name"] or "",
            r["tasks"],
            r["seconds"],
            round(r["seconds"] / 3600, 2),
        ]
        for r in rows
    ]


@login_required
def time_spent(request: HttpRequest) -> HttpResponse:
    """Time spent on tickets per member, application and month of a year; ?format=csv|xlsx."""
    user = signed_in(request)
    if not is_operator(user) and not (user.organisation and selectors.can_see_member(user, user.organisation)):
        raise Http404("page réservée")
    years = selectors.time_spent_years(actor=user)
    value = request.GET.get("year")
    if not value:
        year = years[0] if years else timezone.localdate().year
    else:
        try:
            year = parse_year(value)
        except ValueError:
            raise Http404("année inconnue") from None
    members = Organisation.objects.visible_to(user).order_by("name")
    if is_operator(user):
        members = members.collectivities()
    chosen = members.filter(slug=request.GET.get("member") or "").first()
    rows = selectors.time_spent(actor=user, year=year, collectivity_id=chosen.pk if chosen else None)
    export = request.GET.get("format")
    name = f"temps-passe-{year}{'-' + chosen.slug if chosen else ''}"
    if export == "csv":
        response = HttpResponse(to_csv(TIME_HEADER, time_rows(rows), dialect=PEOPLE), content_type=CSV_CONTENT_TYPE)
        response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
        return response
    if export == "xlsx":
        response = HttpResponse(
            to_xlsx(TIME_HEADER, time_rows(rows), title=_("Temps passé")), content_type=XLSX_CONTENT_TYPE
        )
        response["Content-Disposition"] = f'attachment; filename="{name}.xlsx"'
        return response
    query = request.GET.copy()
    query.pop("format", None)
    context = {
        "year": year,
        "years": sorted({*years, year}, reverse=True),
        "members": members if is_operator(user) else [],
        "chosen": chosen,
        "table": selectors.time_spent_table(rows, year),
        "query": query.urlencode(),
    }
    return render(request, "quality/time.html", context)


# -- monthly reports ----------------------------------------------------------------------------
@login_required
def report_list(request: HttpRequest, slug: str) -> HttpResponse:
    collectivity = selectors.member_get(actor=signed_in(request), slug=slug)
    reports = list(selectors.reports_for(actor=signed_in(request), collectivity=collectivity))
    months = []
    if may_produce_reports(signed_in(request)):
        latest: dict[str, Any] = {}
        for report in reports:  # newest version first
            latest.setdefault(report.month, report)
        months = [{"value": str(m), "label": month_label(m), "latest": latest.get(str(m))} for m in producible_months()]
    return render(request, "quality/reports.html", {"collectivity": collectivity, "reports": reports, "months": months})


@login_required
@require_POST
def report_produce(request: HttpRequest, slug: str) -> HttpResponse:
    """« Produire » / « Produire à nouveau »: one member's report for one month, as a task."""
    collectivity = selectors.member_get(actor=signed_in(request), slug=slug)
    try:
        month = Month.parse(request.POST.get("month", ""))
    except ValueError:
        raise Http404("mois inconnu") from None
    try:
        result = monthly_report_request(actor=signed_in(request), collectivity=collectivity, month=month)
    except ValidationError as error:
        for text in error.messages:
            messages.error(request, text)
        return redirect("quality:reports", slug=collectivity.slug)
    report = (
        MonthlyReport.objects.visible_to(request.user).filter(pk=result.return_value).first()
        if result.status == TaskResultStatus.SUCCESSFUL
        else None
    )
    if report is not None:
        messages.success(
            request,
            _("Rapport de %(month)s produit : version %(version)s.")
            % {"month": month_label(month), "version": report.version},
        )
    else:
        messages.info(
            request,
            _("Production du rapport de %(month)s lancée : il apparaîtra dans la liste une fois prêt.")
            % {"month": month_label(month)},
        )
    return redirect("quality:reports", slug=collectivity.slug)


@login_required
def report_pdf(request: HttpRequest, slug: str, month: str, version: int) -> FileResponse:
    collectivity = selectors.member_get(actor=signed_in(request), slug=slug)
    report = selectors.report_get(actor=signed_in(request), collectivity=collectivity, month=month, version=version)
    return FileResponse(
        report.pdf.open("rb"),
        content_type="application/pdf",
        as_attachment=True,
        filename=f"rapport-{collectivity.slug}-{report.month}-v{report.version}.pdf",
    )


@login_required
def report_html(request: HttpRequest, slug: str, month: str, version: int) -> HttpResponse:
    """The archived HTML as it was produced (a standalone document, not the site's layout)."""
    collectivity = selectors.member_get(actor=signed_in(request), slug=slug)
    report = selectors.report_get(actor=signed_in(request), collectivity=collectivity, month=month, version=version)
    response = HttpResponse(report.html, content_type="text/html; charset=utf-8")
    # The stored document embeds its charts as data: URIs and runs no script.
    response["Content-Security-Policy"] = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
    return response
