"""Reads for the quality pages: dashboards (from kpis.compute, a fixed number of calls whatever
the data), time spent on tickets (one grouped query) and the archive of monthly reports, scoped
by the acting account."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any
from urllib.parse import urlencode

from django.db.models import Count, F, Q, QuerySet, Sum
from django.db.models.functions import ExtractMonth, ExtractYear, TruncMonth
from django.http import Http404
from django.urls import reverse
from django.utils import timezone

from mutualis.accounts.models import Role, User
from mutualis.catalog.models import Application, ServiceCommitment
from mutualis.core.tenancy import is_operator
from mutualis.helpdesk.models import Ticket, TicketTask
from mutualis.members.models import Organisation
from mutualis.quality.kpis import TZ, Month, compute, months_between
from mutualis.quality.models import MonthlyReport

TREND_MONTHS = 12
TOP_APPLICATIONS = 8
RATES = ("sla_tto_pct", "sla_ttr_pct", "blocking_2d_pct")


def can_see_member(actor: User, collectivity: Organisation) -> bool:
    """Operator staff see every member; a member's managers and elected officials their own."""
    if is_operator(actor):
        return True
    return actor.organisation_id == collectivity.pk and actor.role in {Role.MEMBER_MANAGER, Role.ELECTED}


def member_get(*, actor: User, slug: str) -> Organisation:
    collectivity = Organisation.objects.collectivities().filter(slug=slug).first()
    if collectivity is None or not can_see_member(actor, collectivity):
        raise Http404("collectivité introuvable")
    return collectivity


def last_complete_month(today: dt.date | None = None) -> Month:
    today = today or timezone.localdate()
    return Month(today.year - (today.month == 1), (today.month - 2) % 12 + 1)


def month_shift(month: Month, delta: int) -> Month:
    index = month.year * 12 + month.month - 1 + delta
    return Month(index // 12, index % 12 + 1)


def tickets_url(**filters: Any) -> str:
    """The helpdesk queue (staff) or "Mes demandes" (members) showing the tickets behind a figure."""
    query = {"view": "all", **{k: v for k, v in filters.items() if v}}
    return f"{reverse('helpdesk:index')}?{urlencode(query)}"


def _series(rows: list[dict[str, Any]], months: list[Month], slug: str | None) -> list[dict[str, Any]]:
    """One row per month (empty months included), each measure with the link to its tickets."""
    by_month = {row["month"]: row for row in rows}
    series = []
    for month in months:
        key = str(month)
        row = by_month.get(key) or {"opened": 0, "solved": 0, "closed": 0, "backlog_end": None}
        series.append(
            {
                **row,
                "month": key,
                "label": f"{month.month:02d}/{month.year % 100:02d}",
                "start": month.start().date(),
                "opened_url": tickets_url(opened=key, collectivity=slug),
                "solved_url": tickets_url(solved=key, collectivity=slug),
                "backlog_url": tickets_url(backlog=key, collectivity=slug),
            }
        )
    # A month with no row carries the previous month's backlog (nothing opened, nothing solved).
    previous = 0
    for row in series:
        if row["backlog_end"] is None:
            row["backlog_end"] = previous
        previous = row["backlog_end"]
    return series


def _peak(series: list[dict[str, Any]]) -> int | None:
    if not any(row["opened"] for row in series):
        return None
    return max(range(len(series)), key=lambda i: (series[i]["opened"], -i))


def _totals(rows: list[dict[str, Any]]) -> dict[str, Any]:
    return rows[0] if rows else {}


def _applications(rows: list[dict[str, Any]], period: str, slug: str | None) -> list[dict[str, Any]]:
    ranked = sorted((r for r in rows if r["opened"]), key=lambda r: (-r["opened"], r["application"] or ""))
    top = ranked[:TOP_APPLICATIONS]
    names = dict(
        Application.objects.filter(slug__in=[r["application"] for r in top if r["application"]]).values_list(
            "slug", "name"
        )
    )
    return [
        {
            **row,
            "name": names.get(row["application"], row["application"]) if row["application"] else None,
            "opened_url": tickets_url(opened=period, application=row["application"], collectivity=slug),
        }
        for row in top
    ]


def _collectivities(rows: list[dict[str, Any]], period: str, last: Month) -> list[dict[str, Any]]:
    names = dict(Organisation.objects.filter(slug__in=[r["collectivity"] for r in rows]).values_list("slug", "name"))
    return [
        {
            **row,
            "name": names.get(row["collectivity"], row["collectivity"]),
            "opened_url": tickets_url(opened=period, collectivity=row["collectivity"]),
            "solved_url": tickets_url(solved=period, collectivity=row["collectivity"]),
            "backlog_url": tickets_url(backlog=str(last), collectivity=row["collectivity"]),
        }
        for row in sorted(rows, key=lambda r: names.get(r["collectivity"], r["collectivity"] or "").lower())
        if row["collectivity"]
    ]


def operator_dashboard(*, last: Month) -> dict[str, Any]:
    """The operator's dashboard over the 12 months ending with `last`: three calls to compute."""
    first = month_shift(last, -(TREND_MONTHS - 1))
    months = months_between(first, last)
    period = f"{first}..{last}"
    series = _series(compute(first=first, last=last, by=["month"]), months, None)
    return {
        "first": first,
        "last": last,
        "period": period,
        "series": series,
        "peak": _peak(series),
        "totals": _totals(compute(first=first, last=last, by=[])),
        "applications": _applications(compute(first=first, last=last, by=["application"]), period, None),
        "collectivities": _collectivities(compute(first=first, last=last, by=["collectivity"]), period, last),
        "opened_url": tickets_url(opened=period),
        "solved_url": tickets_url(solved=period),
        "backlog_url": tickets_url(backlog=str(last)),
    }


def member_dashboard(*, collectivity: Organisation, last: Month) -> dict[str, Any]:
    """One member's dashboard, against the operator's average: the operator-wide rates and, for
    volumes, the operator's figures divided by the number of members."""
    first = month_shift(last, -(TREND_MONTHS - 1))
    months = months_between(first, last)
    period = f"{first}..{last}"
    slug = collectivity.slug
    series = _series(compute(first=first, last=last, by=["month"], collectivity_id=collectivity.pk), months, slug)
    operator = _series(compute(first=first, last=last, by=["month"]), months, None)
    members = max(Organisation.objects.members().count(), 1)
    for row, reference in zip(series, operator, strict=True):
        row["average_opened"] = round(reference["opened"] / members, 1)
        row["average_solved"] = round(reference["solved"] / members, 1)
        for rate in RATES:
            row[f"operator_{rate}"] = reference.get(rate)
    totals = _totals(compute(first=first, last=last, by=[], collectivity_id=collectivity.pk))
    return {
        "collectivity": collectivity,
        "first": first,
        "last": last,
        "period": period,
        "members": members,
        "series": series,
        "peak": _peak(series),
        "totals": totals,
        "applications": _applications(
            compute(first=first, last=last, by=["application"], collectivity_id=collectivity.pk), period, slug
        ),
        "opened_url": tickets_url(opened=period, collectivity=slug),
        "solved_url": tickets_url(solved=period, collectivity=slug),
        "backlog_url": tickets_url(backlog=str(last), collectivity=slug),
    }


# -- time accounting ----------------------------------------------------------------------------
def time_spent(*, actor: User, year: int, collectivity_id: int | None = None) -> list[dict[str, Any]]:
    """Seconds spent on tickets (their tasks) per member, application and month of `year`: one
    grouped query, scoped by the acting account."""
    qs = TicketTask.objects.visible_to(actor).filter(
        done_on__gte=dt.date(year, 1, 1), done_on__lt=dt.date(year + 1, 1, 1)
    )
    if collectivity_id:
        qs = qs.filter(ticket__collectivity_id=collectivity_id)
    rows = (
        qs.values(
            collectivity_slug=F("ticket__collectivity__slug"),
            collectivity_name=F("ticket__collectivity__name"),
            application_slug=F("ticket__application__slug"),
            application_name=F("ticket__application__name"),
            month=ExtractMonth("done_on"),
        )
        .annotate(seconds=Sum("duration_seconds"), tasks=Count("id"))
        .order_by("collectivity_slug", "application_slug", "month")
    )
    return [{**row, "month": f"{year:04d}-{row['month']:02d}"} for row in rows]


def time_spent_years(*, actor: User) -> list[int]:
    qs = TicketTask.objects.visible_to(actor)
    return list(qs.annotate(y=ExtractYear("done_on")).values_list("y", flat=True).distinct().order_by("-y"))


def time_spent_table(rows: list[dict[str, Any]], year: int) -> dict[str, Any]:
    """The grouped rows as a member × application by month table (hours), with totals."""
    months = [f"{year:04d}-{m:02d}" for m in range(1, 13)]
    cells: dict[tuple[Any, ...], dict[str, int]] = defaultdict(dict)
    for row in rows:
        key = (row["collectivity_name"], row["collectivity_slug"], row["application_name"], row["application_slug"])
        cells[key][row["month"]] = row["seconds"]
    lines = []
    column_totals = dict.fromkeys(months, 0)
    for (name, slug, app_name, app_slug), values in cells.items():
        for month, seconds in values.items():
            column_totals[month] += seconds
        lines.append(
            {
                "collectivity": name,
                "collectivity_slug": slug,
                "application": app_name,
                "application_slug": app_slug,
                "months": [values.get(m) for m in months],
                "total": sum(values.values()),
            }
        )
    return {
        "months": months,
        "lines": lines,
        "totals": [column_totals[m] for m in months],
        "total": sum(column_totals.values()),
    }


# -- the archive --------------------------------------------------------------------------------
def reports_for(*, actor: User, collectivity: Organisation) -> QuerySet[MonthlyReport]:
    if not can_see_member(actor, collectivity):
        raise Http404("collectivité introuvable")
    return MonthlyReport.objects.visible_to(actor).filter(collectivity=collectivity).defer("html")


def report_get(*, actor: User, collectivity: Organisation, month: str, version: int) -> MonthlyReport:
    if not can_see_member(actor, collectivity):
        raise Http404("collectivité introuvable")
    report = (
        MonthlyReport.objects.visible_to(actor).filter(collectivity=collectivity, month=month, version=version).first()
    )
    if report is None:
        raise Http404("rapport introuvable")
    return report


# -- compliance with the catalogue's service commitments -------------------------------------------
def commitment_compliance(
    *, actor: User, first: Month, last: Month, collectivity_id: int | None = None
) -> list[dict[str, Any]]:
    """Per service commitment, member and local month: the tickets solved whose policy measures
    the commitment, and how many were owned and solved within their budgets (the definitions of
    sla_tto_pct and sla_ttr_pct, docs/indicators.md). One grouped query through the policies'
    commitments, scoped by the acting account: a member sees its own rows only."""
    months = months_between(first, last)
    start, end = months[0].start(), months[-1].next().start()
    tickets = Ticket.objects.visible_to(actor).filter(
        solved_at__gte=start, solved_at__lt=end, opened_offset__isnull=False, policy__commitments__isnull=False
    )
    if collectivity_id:
        tickets = tickets.filter(collectivity_id=collectivity_id)
    ttr = F("solved_offset") - F("opened_offset") - F("waiting_seconds")
    tto = F("taken_offset") - F("opened_offset")
    rows = (
        tickets.annotate(commitment_id=F("policy__commitments"), month=TruncMonth("solved_at", tzinfo=TZ))
        .values("commitment_id", "collectivity_id", "month")
        .annotate(
            solved=Count("id"),
            ttr_n=Count("id", filter=Q(ttr_budget_s__isnull=False)),
            ttr_ok=Count("id", filter=Q(ttr_budget_s__isnull=False, ttr_budget_s__gte=ttr)),
            tto_n=Count("id", filter=Q(tto_budget_s__isnull=False, taken_offset__isnull=False)),
            tto_ok=Count("id", filter=Q(tto_budget_s__isnull=False, taken_offset__isnull=False, tto_budget_s__gte=tto)),
        )
        .order_by()
    )
    return [
        {
            **row,
            "month": _month_of(row["month"]),
        }
        for row in rows
    ]


def _month_of(instant: dt.datetime) -> str:
    local = timezone.localtime(instant, TZ)
    return str(Month(local.year, local.month))


def _pct(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


def commitment_compliance_table(rows: list[dict[str, Any]], *, first: Month, last: Month) -> list[dict[str, Any]]:
    """The grouped rows as one table per commitment (every commitment, measured or not): a line
    per member and a line for all of them, a cell per month and the period's total."""
    months = [str(m) for m in months_between(first, last)]
    members = Organisation.objects.in_bulk({row["collectivity_id"] for row in rows})
    by_commitment: dict[int, dict[int | None, dict[str, dict[str, int]]]] = defaultdict(
        lambda: defaultdict(
            lambda: defaultdict(lambda: dict.fromkeys(("solved", "ttr_n", "ttr_ok", "tto_n", "tto_ok"), 0))
        )
    )
    for row in rows:
        for member in (row["collectivity_id"], None):  # None: all members together
            for period in (row["month"], "total"):
                counts = by_commitment[row["commitment_id"]][member][period]
                for measure in ("solved", "ttr_n", "ttr_ok", "tto_n", "tto_ok"):
                    counts[measure] += row[measure]

    def cell(values: dict[str, int] | None) -> dict[str, Any] | None:
        if not values or not values["solved"]:
            return None
        return {
            "solved": values["solved"],
            "ttr_pct": _pct(values["ttr_ok"], values["ttr_n"]),
            "tto_pct": _pct(values["tto_ok"], values["tto_n"]),
        }

    tables = []
    for commitment in ServiceCommitment.objects.prefetch_related("sla_policies"):
        lines = by_commitment.get(commitment.pk, {})
        member_ids = sorted((m for m in lines if m is not None), key=lambda pk: members[pk].name)
        tables.append(
            {
                "commitment": commitment,
                "policies": list(commitment.sla_policies.all()),
                "months": months,
                "lines": [
                    {
                        "member": members[pk],
                        "cells": [cell(lines[pk].get(m)) for m in months],
                        "total": cell(lines[pk].get("total")),
                    }
                    for pk in member_ids
                ],
                "all": {
                    "cells": [cell(lines[None].get(m)) for m in months],
                    "total": cell(lines[None].get("total")),
                }
                if None in lines and len(member_ids) > 1
                else None,
            }
        )
    return tables
