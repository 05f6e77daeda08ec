"""The quality app's background work, run by Django's tasks API (`mutualis db_worker`)."""

from __future__ import annotations

from django_tasks import task

from mutualis.quality.reports import monthly_reports_run


@task()
def monthly_reports() -> int:
    """The daily run of the monthly reports, for a scheduler that enqueues tasks instead of cron."""
    return len(monthly_reports_run().created)
