"""What quality shows on the home page for each role (core.panels, slot core.home.role),
registered in QualityConfig.ready: the operator admin's indicators of the month, a member IT
director's service level this month, and an elected official's latest monthly report. Each is a
fixed number of queries (kpis.compute's grouped queries, or one row of the archive)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from mutualis.accounts.models import Role
from mutualis.accounts.requests import signed_in
from mutualis.core.panels import panel_register
from mutualis.quality.kpis import Month, compute
from mutualis.quality.models import MonthlyReport
from mutualis.quality.reports import month_label


def is_operator_admin(request: HttpRequest) -> bool:
    user = request.user
    return user.is_authenticated and (user.is_superuser or user.role == Role.OPERATOR_ADMIN)


def is_member_manager(request: HttpRequest) -> bool:
    user = request.user
    return user.is_authenticated and not user.is_superuser and user.role == Role.MEMBER_MANAGER


def is_elected(request: HttpRequest) -> bool:
    user = request.user
    return user.is_authenticated and not user.is_superuser and user.role == Role.ELECTED


def _this_month() -> Month:
    today = timezone.localdate()
    return Month(today.year, today.month)


def _figures(month: Month, collectivity_id: int | None = None) -> dict[str, Any]:
    rows = compute(first=month, last=month, by=[], collectivity_id=collectivity_id)
    return rows[0] if rows else {}


def operator_month(request: HttpRequest) -> dict[str, Any]:
    month = _this_month()
    return {"month_label": month_label(month), "figures": _figures(month), "url": reverse("quality:dashboard")}


def member_month(request: HttpRequest) -> dict[str, Any]:
    """The collectivity's month so far, by the indicators' definitions (docs/indicators.md)."""
    actor = signed_in(request)
    month = _this_month()
    organisation = actor.organisation
    return {
        "month_label": month_label(month),
        "figures": _figures(month, actor.organisation_id) if organisation is not None else {},
        "url": reverse("quality:member", args=[organisation.slug]) if organisation is not None else None,
    }


def elected_report(request: HttpRequest) -> dict[str, Any]:
    """The newest report of the official's collectivity (the archive's newest month and version)."""
    actor = signed_in(request)
    report = (
        MonthlyReport.objects.visible_to(actor)
        .filter(collectivity_id=actor.organisation_id)
        .select_related("collectivity")
        .defer("html")
        .order_by("-month", "-version")
        .first()
    )
    context: dict[str, Any] = {"report": report, "list_url": None}
    if actor.organisation is not None:
        context["list_url"] = reverse("quality:reports", args=[actor.organisation.slug])
    if report is not None:
        slug, version = report.collectivity.slug, report.version
        context.update(
            month_label=month_label(Month.parse(report.month)),
            html_url=reverse("quality:report_html", args=[slug, report.month, version]),
            pdf_url=reverse("quality:report_pdf", args=[slug, report.month, version]),
            figures=report.figures,
        )
    return context


def register() -> None:
    panel_register(
        "core.home.role",
        order=20,
        template="quality/panels/home_operator.html",
        context=operator_month,
        visible=is_operator_admin,
    )
    panel_register(
        "core.home.role",
        order=20,
        template="quality/panels/home_member.html",
        context=member_month,
        visible=is_member_manager,
    )
    panel_register(
        "core.home.role",
        order=10,
        template="quality/panels/home_elected.html",
        context=elected_report,
        visible=is_elected,
    )
