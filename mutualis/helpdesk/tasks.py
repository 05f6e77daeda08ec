"""The helpdesk's background work, run by Django's tasks API (`mutualis db_worker` in production)."""

from __future__ import annotations

from django_tasks import task

from mutualis.helpdesk import mail, services


@task()
def send_notification(ticket_id: int, event: str, summary: str = "") -> int:
    """Render and send one event's mail; the worker retries nothing by itself, a failure stays
    in the task's result (and the log) for an operator to see."""
    return mail.deliver(ticket_id, event, summary)


@task()
def sla_escalate() -> int:
    """The service-level sweep, for a scheduler that enqueues tasks instead of running cron."""
    return services.sla_escalate()
