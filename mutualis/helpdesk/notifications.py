"""Who hears about what happens to a ticket; mail leaves after the transaction commits, through
a background task (Django's tasks API) that renders and sends it."""

from __future__ import annotations

from django.db import DEFAULT_DB_ALIAS, router, transaction

EVENTS = ("created", "assigned", "followup", "solved", "closed", "escalated", "reopened", "refused")
# What the member side (requester, watchers) hears about; escalations and refusals are the
# operator's business. Private followups never reach notify at all (services.followup_add).
MEMBER_EVENTS = {"created", "assigned", "followup", "solved", "closed", "reopened"}
OPERATOR_EVENTS = {"created", "assigned", "followup", "escalated", "reopened", "refused"}


def recipients(ticket, event: str) -> list[str]:  # type: ignore[no-untyped-def]
    """Requester and watchers hear about everything public; the technician (or, without one, the
    group's staff) hears about what needs the operator. Inactive accounts hear nothing."""
    people = []
    if event in MEMBER_EVENTS and ticket.requester:
        people.append(ticket.requester)
    for watcher in ticket.watchers.all():
        if event in MEMBER_EVENTS or watcher.is_operator:
            people.append(watcher)
    if event in OPERATOR_EVENTS:
        if ticket.technician_id:
            people.append(ticket.technician)
        elif ticket.group_id:
            people.extend(ticket.group.staff.filter(is_active=True))
    return sorted({p.email.strip() for p in people if p and p.is_active and p.email and p.email.strip()})


def notify(ticket, event: str, *, summary: str = "") -> None:  # type: ignore[no-untyped-def]
    """Queue the mail of `event`; nothing leaves if the write rolls back.

    With the database task backend on the same database, the job row is written in the write's
    own transaction (an outbox): it commits with the ticket or not at all, no worker sees it
    before the commit, and the request pays one commit instead of two. Any other backend (the
    immediate one runs the task at once) is handed the task after the commit."""
    assert event in EVENTS, event
    ticket_id = ticket.pk
    if _queue_in_transaction():
        enqueue(ticket_id, event, summary)
    else:
        transaction.on_commit(lambda: enqueue(ticket_id, event, summary))


def _queue_in_transaction() -> bool:
    from django_tasks import task_backends
    from django_tasks_db import DatabaseBackend

    from mutualis.helpdesk.tasks import send_notification

    backend = task_backends[send_notification.backend]
    if not isinstance(backend, DatabaseBackend):
        return False
    from django_tasks_db.models import DBTaskResult

    return router.db_for_write(DBTaskResult) == DEFAULT_DB_ALIAS


def enqueue(ticket_id: int, event: str, summary: str) -> None:
    """Hand the mail to the task backend: a `mutualis db_worker` process in production, the
    current thread in tests (immediate backend)."""
    from mutualis.helpdesk.tasks import send_notification

    send_notification.enqueue(ticket_id, event, summary)


def deliver(ticket_id: int, event: str, summary: str) -> int:
    """Render and send now (what the task does)."""
    from mutualis.helpdesk import mail

    return mail.deliver(ticket_id, event, summary)
