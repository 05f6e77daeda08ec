"""The quality app's background work, run by Django's tasks API (`mutualis db_worker`)."""

from __future__ import annotations

from django_tasks import task

from mutualis.accounts.models import User
from mutualis.members.models import Organisation
from mutualis.quality.kpis import Month
from mutualis.quality.reports import monthly_report_create, monthly_reports_run


@task()
def monthly_reports() -> int:
    """The daily run of the monthly reports, for a scheduler that enqueues tasks instead of cron."""
    return len(monthly_reports_run().created)


@task()
def monthly_report_produce(*, collectivity_id: int, month: str, actor_id: int | None) -> int | None:
    """One member's report for one month, asked for from its page: a new version if one exists."""
    collectivity = Organisation.objects.get(pk=collectivity_id)
    actor = User.objects.filter(pk=actor_id).first() if actor_id else None
    report = monthly_report_create(collectivity=collectivity, month=Month.parse(month), force=True, actor=actor)
    return report.pk if report else None
