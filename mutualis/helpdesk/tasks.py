"""The helpdesk's background work, run by Django's tasks API (`mutualis db_worker` in production)."""

from __future__ import annotations

from django_tasks import TaskContext, task

from mutualis.helpdesk import outbox, services
from mutualis.helpdesk.models import Ticket


@task(takes_context=True)
def deliver_notification(context: TaskContext, notification_id: int) -> int:
    """Send one outbox notification (mutualis/helpdesk/outbox.py): once, however often this
    runs; an SMTP failure is retried later by a deferred copy of this task, then shown to
    operator admins."""
    return outbox.notification_deliver(notification_id=notification_id, job_id=str(context.task_result.id))


@task(takes_context=True)
def send_notification(context: TaskContext, ticket_id: int, event: str, summary: str = "") -> int:
    """Jobs queued by the first release (before the outbox): recorded in the outbox under the
    job's id (a rerun finds the same row), then sent as every notification is."""
    ticket = Ticket.objects.filter(pk=ticket_id).first()
    if ticket is None:  # deleted since: nothing to say
        return 0
    job_id = str(context.task_result.id)
    notification = outbox.notification_create(ticket=ticket, event=event, summary=summary, key=f"job-{job_id}")
    return outbox.notification_deliver(notification_id=notification.pk, job_id=job_id)


@task()
def sla_escalate() -> int:
    """The service-level sweep, for a scheduler that enqueues tasks instead of running cron."""
    return services.sla_escalate()
