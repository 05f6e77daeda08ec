"""Monthly service reports: built from the indicators, archived once (immutable, versioned),
mailed with the PDF to the member's managers after the archive commits."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from mutualis.accounts.models import Role, User
from mutualis.core.audit import audit_create
from mutualis.core.mail import absolute_url, mail_message
from mutualis.core.tenancy import may_write
from mutualis.lib.business_time import DEFAULT_CALENDAR
from mutualis.members.models import Organisation
from mutualis.quality import charts
from mutualis.quality.kpis import MEASURES, Month
from mutualis.quality.models import MonthlyReport
from mutualis.quality.selectors import last_complete_month, member_dashboard, month_shift

logger = logging.getLogger("mutualis.quality.reports")


def is_working_day(day: dt.date) -> bool:
    """Open on the default calendar: a weekday with opening hours, not a holiday or closure."""
    return bool(DEFAULT_CALENDAR.hours.get(day.weekday())) and not DEFAULT_CALENDAR.is_closed(day)


def first_working_day(year: int, month: int) -> dt.date:
    day = dt.date(year, month, 1)
    while not is_working_day(day):
        day += dt.timedelta(days=1)
    return day


def month_label(month: Month) -> str:
    return formats.date_format(dt.date(month.year, month.month, 1), "F Y")


def chart_img(svg: str) -> str:
    """An SVG as a data URI, for an <img> that WeasyPrint and browsers both draw."""
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


def dashboard_charts(data: dict[str, Any], *, member: bool, scope: str | None = None) -> dict[str, str]:
    """The dashboard's three charts, shared by the pages and the reports: the SVGs themselves, or,
    with the `scope` of who asks (the pages), the URLs their <img> fetch them from (charts.py)."""
    series = data["series"]
    labels = [row["label"] for row in series]
    drawings: dict[str, tuple[str, dict[str, Any]]] = {
        "volume": (
            "volume_chart",
            {
                "labels": labels,
                "opened": [row["opened"] for row in series],
                "solved": [row["solved"] for row in series],
                "peak": data["peak"],
                "reference": [row["average_opened"] for row in series] if member else None,
                "reference_label": _("moyenne par adhérent (ouvertes)"),
                "label": _("Demandes ouvertes et résolues par mois"),
                "opened_label": _("ouvertes"),
                "solved_label": _("résolues"),
                "peak_label": _("pic"),
            },
        ),
    }
    rates = {
        _("prise en compte dans les délais"): [row.get("sla_tto_pct") for row in series],
        _("résolution dans les délais"): [row.get("sla_ttr_pct") for row in series],
        _("bloquants résolus en 2 jours"): [row.get("blocking_2d_pct") for row in series],
    }
    if member:
        rates[_("résolution dans les délais (opérateur)")] = [row.get("operator_sla_ttr_pct") for row in series]
    drawings["compliance"] = (
        "rate_chart",
        {"labels": labels, "series": rates, "label": _("Respect des niveaux de service par mois (%)")},
    )
    applications = data["applications"]
    if applications:
        drawings["applications"] = (
            "bar_chart",
            {
                "labels": [row["name"] or _("sans application") for row in applications],
                "values": [row["opened"] for row in applications],
                "label": _("Applications les plus sollicitées (demandes ouvertes)"),
            },
        )
    result = {"applications": ""}
    for slot, (name, arguments) in drawings.items():
        if scope is None:
            result[slot] = getattr(charts, name)(**arguments)
        else:
            token = charts.chart_deferred(name, scope=scope, **arguments)
            result[slot] = reverse("quality:chart", args=[name, token])
    return result


def report_context(collectivity: Organisation, month: Month) -> dict[str, Any]:
    data = member_dashboard(collectivity=collectivity, last=month)
    svgs = dashboard_charts(data, member=True)
    return {
        "data": data,
        "collectivity": collectivity,
        "month": month,
        "month_label": month_label(month),
        "current": data["series"][-1],
        "peak_row": data["series"][data["peak"]] if data["peak"] is not None else None,
        "charts": {name: chart_img(svg) for name, svg in svgs.items() if svg},
    }


def render_report(collectivity: Organisation, month: Month) -> tuple[str, bytes, dict[str, Any]]:
    """The report as HTML, as PDF, and the figures it shows (archived with it)."""
    from weasyprint import HTML

    with translation.override(settings.LANGUAGE_CODE):
        context = report_context(collectivity, month)
        html = render_to_string("quality/report.html", context)
    pdf = HTML(string=html, base_url=absolute_url("/")).write_pdf()
    current = context["current"]
    figures = {"month": str(month), **{key: current.get(key) for key in MEASURES}}
    return html, pdf, figures


def monthly_report_create(
    *, collectivity: Organisation, month: Month, force: bool = False, actor: User | None = None
) -> MonthlyReport | None:
    """Archive and mail one member's report; None when it exists already and `force` is off."""
    with transaction.atomic():
        # Lock the member's row so two runs at once do not write the same version.
        Organisation.objects.select_for_update().filter(pk=collectivity.pk).first()
        latest = MonthlyReport.objects.filter(collectivity=collectivity, month=str(month)).order_by("-version").first()
        if latest is not None and not force:
            return None
        html, pdf, figures = render_report(collectivity, month)
        report = MonthlyReport(
            collectivity=collectivity,
            month=str(month),
            version=(latest.version + 1) if latest else 1,
            html=html,
            sha256=hashlib.sha256(pdf).hexdigest(),
            figures=figures,
        )
        report.pdf.save("report.pdf", ContentFile(pdf), save=False)
        report.save()
        audit_create(actor=actor, obj=report, via="cli" if actor is None else "web")
        transaction.on_commit(lambda: report_send(report_id=report.pk))
    return report


def managers_of(collectivity: Organisation) -> list[str]:
    return list(
        User.objects.filter(organisation=collectivity, role=Role.MEMBER_MANAGER, is_active=True)
        .exclude(email="")
        .order_by("email")
        .values_list("email", flat=True)
    )


def report_send(*, report_id: int) -> int:
    """Mail the archived PDF to the member's managers; a failure is logged, the archive stays."""
    report = MonthlyReport.objects.select_related("collectivity").get(pk=report_id)
    recipients = managers_of(report.collectivity)
    if not recipients:
        logger.warning("rapport %s : aucun responsable avec une adresse", report)
        return 0
    month = Month.parse(report.month)
    with translation.override(settings.LANGUAGE_CODE):
        context = {
            "report": report,
            "month_label": month_label(month),
            "reports_url": absolute_url(reverse("quality:reports", args=[report.collectivity.slug])),
        }
        subject = _("Rapport de service — %(month)s — %(name)s") % {
            "month": context["month_label"],
            "name": report.collectivity.name,
        }
        message = mail_message(subject=subject, template="quality/mail/report.txt", context=context, to=recipients)
    with report.pdf.open("rb") as handle:
        message.attach(f"rapport-{report.collectivity.slug}-{report.month}.pdf", handle.read(), "application/pdf")
    try:
        return message.send()
    except Exception:  # the report is archived; an operator resends it from the archive
        logger.exception("rapport %s : envoi impossible", report)
        return 0


@dataclass
class RunSummary:
    month: Month | None
    created: list[MonthlyReport] = field(default_factory=list)
    skipped: int = 0
    reason: str = ""


def monthly_reports_run(
    *,
    month: Month | None = None,
    force: bool = False,
    today: dt.date | None = None,
    limit: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> RunSummary:
    """What the daily scheduled run does: from the first working day of a month on (or for the
    month given), each member's report for the previous month, once. A run missed on the first
    working day (server down, scheduler late) is caught up by the next one; the reports already
    archived are left alone. With `limit`, the run stops after producing that many reports: the
    next run goes on with the members still without theirs."""
    if month is None:
        today = today or timezone.localdate()
        if today < first_working_day(today.year, today.month):
            return RunSummary(month=None, reason="before_first_working_day")
        month = month_shift(Month(today.year, today.month), -1)
    end = month.next().start().date() - dt.timedelta(days=1)
    summary = RunSummary(month=month)
    members = list(Organisation.objects.members(on=end).order_by("name"))
    for done, collectivity in enumerate(members, start=1):
        if limit is not None and len(summary.created) >= limit:
            break
        report = monthly_report_create(collectivity=collectivity, month=month, force=force)
        if report is None:
            summary.skipped += 1
        else:
            summary.created.append(report)
        if progress is not None:
            progress(done, len(members))
    return summary


# -- on demand, from the reports page ------------------------------------------------------------
def may_produce_reports(user: User) -> bool:
    """Only operator admins produce a report by hand: the page shows its buttons, and
    `monthly_report_request` accepts the request, on this one answer."""
    return may_write(user) and user.is_operator_admin


def producible_months(*, today: dt.date | None = None, count: int = 12) -> list[Month]:
    """The complete months a report may be produced for, the latest first."""
    last = last_complete_month(today)
    return [month_shift(last, -i) for i in range(count)]


def monthly_report_request(*, actor: User, collectivity: Organisation, month: Month) -> Any:
    """Produce (or produce again, as a new version) a member's report for a complete month, as a
    background task; the created report is audited with the actor. Returns the task's result:
    with the immediate backend the report already exists, with a worker it follows."""
    from mutualis.quality.tasks import monthly_report_produce  # the task module imports this one

    if not may_produce_reports(actor):
        raise PermissionDenied(_("seuls les administrateurs de l'opérateur produisent un rapport"))
    last = last_complete_month()
    if (month.year, month.month) > (last.year, last.month) or collectivity.is_operator:
        raise ValidationError(_("un rapport se produit pour un mois terminé et une collectivité adhérente"))
    # Only the months the page offers: an older or absurd month would be queued, announced as
    # coming, and then fail in the worker where nobody sees it.
    if month not in producible_months():
        raise ValidationError(_("choisissez l'un des mois proposés pour produire un rapport"))
    return monthly_report_produce.enqueue(collectivity_id=collectivity.pk, month=str(month), actor_id=actor.pk)
