"""The notification outbox: record a mail in the event's transaction, send it once from a task,
retry it with backoff when SMTP fails, show it to operator admins when it gives up.

Why a row per notification rather than the task alone: a task can run twice (a worker killed
after SMTP accepted the mail, requeued by the reaper; an operator who re-runs it), and a task
that fails stays failed. The row carries the idempotency key and what was already sent."""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from mutualis.accounts.models import User
from mutualis.core.audit import audit_record, diff
from mutualis.core.models import AuditAction
from mutualis.core.tenancy import require_operator_admin
from mutualis.helpdesk import mail
from mutualis.helpdesk.models import Ticket
from mutualis.helpdesk.notifications import recipients
from mutualis.helpdesk.outbox_models import Notification, NotificationStatus

logger = logging.getLogger("mutualis.helpdesk.mail")

# Waits before the 2nd, 3rd, 4th, 5th… try; the last one repeats.
RETRY_DELAYS = (
    dt.timedelta(minutes=1),
    dt.timedelta(minutes=5),
    dt.timedelta(minutes=30),
    dt.timedelta(hours=2),
)


def retry_delay(tries: int) -> dt.timedelta:
    """The wait after the `tries`-th failed try (1-based)."""
    return RETRY_DELAYS[min(tries, len(RETRY_DELAYS)) - 1]


def notification_create(*, ticket: Any, event: str, summary: str, key: str | None = None) -> Notification:
    """The outbox row of one event's mail; call it inside the event's transaction. With a
    `key`, the row already recorded under it is returned instead of a second one."""
    if key is None:
        return Notification.objects.create(key=uuid.uuid4().hex, ticket=ticket, event=event, summary=summary)
    notification, _created = Notification.objects.get_or_create(
        key=key, defaults={"ticket": ticket, "event": event, "summary": summary}
    )
    return notification


def notification_deliver(*, notification_id: int, job_id: str, now: dt.datetime | None = None) -> int:
    """Send the notification unless it is sent, failed or being sent by another job; returns the
    messages sent. On an SMTP failure: try again later (a deferred task) or, after
    HELPDESK_MAIL_MAX_TRIES tries, mark it failed for operator admins to see."""
    now = now or timezone.now()
    stale = now - dt.timedelta(seconds=settings.TASKS_STALE_AFTER)
    # Claimed by a conditional UPDATE: of two jobs running it at once, one sends. The job that
    # claimed it may take it back (its worker died and the reaper requeued the same job), and
    # so may anyone once the claim is older than a job may run.
    claimed = (
        Notification.objects.filter(pk=notification_id)
        .filter(
            Q(status=NotificationStatus.PENDING)
            | Q(status=NotificationStatus.SENDING, claimed_by=job_id)
            | Q(status=NotificationStatus.SENDING, claimed_at__lt=stale)
        )
        .update(status=NotificationStatus.SENDING, claimed_by=job_id, claimed_at=now)
    )
    if not claimed:
        logger.info("notification %s: already sent, failed or being sent, nothing to do", notification_id)
        return 0
    notification = Notification.objects.get(pk=notification_id)
    ticket = Ticket.objects.select_related("requester", "technician", "group", "collectivity", "application").get(
        pk=notification.ticket_id
    )
    served = list(notification.sent_to)

    def sent(addresses: list[str]) -> None:
        # Saved at once (autocommit): a later batch's failure, or a crash, must not resend it.
        served.extend(addresses)
        Notification.objects.filter(pk=notification.pk).update(sent_to=served)

    try:
        count = mail.deliver(ticket, notification.event, notification.summary, skip=served, sent=sent)
    except Exception as error:
        _failed(notification, error=error, served=served, now=now)
        return 0
    Notification.objects.filter(pk=notification.pk, claimed_by=job_id).update(
        status=NotificationStatus.SENT,
        tries=notification.tries + 1,
        sent_at=now,
        recipients=sorted(set(notification.recipients) | set(served)),
        last_error="",
        next_attempt_at=None,
        claimed_by="",
    )
    return count


def _failed(notification: Notification, *, error: Exception, served: list[str], now: dt.datetime) -> None:
    from mutualis.helpdesk.tasks import deliver_notification  # the task module imports this one

    tries = notification.tries + 1
    message = f"{type(error).__name__}: {error}"[:2000]
    can_defer = deliver_notification.get_backend().supports_defer
    give_up = tries >= settings.HELPDESK_MAIL_MAX_TRIES or not can_defer
    when = None if give_up else now + retry_delay(tries)
    with transaction.atomic():
        Notification.objects.filter(pk=notification.pk).update(
            status=NotificationStatus.FAILED if give_up else NotificationStatus.PENDING,
            tries=tries,
            last_error=message,
            next_attempt_at=when,
            sent_to=served,
            recipients=_recipients(notification),
            claimed_by="",
            claimed_at=None,
        )
        if when is not None:
            # Same database: the deferred job commits with the row that explains it.
            deliver_notification.using(run_after=when).enqueue(notification.pk)
    if give_up:
        logger.error("notification %s: mail failed %d time(s), given up: %s", notification.pk, tries, message)
    else:
        logger.warning("notification %s: mail failed (try %d), next at %s: %s", notification.pk, tries, when, message)


def _recipients(notification: Notification) -> list[str]:
    return recipients(notification.ticket, notification.event)


def notification_retry(*, actor: User, notification: Notification) -> Notification:
    """« Réessayer »: an operator admin sends a failed notification again (to those who did not
    get it), with a fresh set of tries."""
    require_operator_admin(actor)
    with transaction.atomic():
        locked = Notification.objects.select_for_update().get(pk=notification.pk)
        if not _gave_up().filter(pk=locked.pk).exists():
            return locked  # retried already (a double click): nothing more to queue
        before = {"status": locked.status, "tries": locked.tries}
        locked.status = NotificationStatus.PENDING
        locked.tries = 0
        locked.next_attempt_at = None
        locked.save(update_fields=["status", "tries", "next_attempt_at", "updated_at"])
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            obj=locked,
            changes=diff(before, {"status": locked.status, "tries": locked.tries}),
            organisation_id=locked.ticket.collectivity_id,
            object_repr=f"notification {locked.event} du ticket {locked.ticket.reference}",
        )
        enqueue(locked)
    return locked


def enqueue(notification: Notification) -> None:
    """Queue the task that sends `notification`: in the current transaction with the database
    backend on the same database (an outbox: it commits with the write or not at all), after
    the commit with any other backend (the immediate one runs the task at once)."""
    from mutualis.helpdesk.tasks import deliver_notification  # the task module imports this one

    pk = notification.pk
    if _queue_in_transaction():
        deliver_notification.enqueue(pk)
    else:
        transaction.on_commit(lambda: deliver_notification.enqueue(pk))


def _queue_in_transaction() -> bool:
    from django.db import DEFAULT_DB_ALIAS, router
    from django_tasks_db import DatabaseBackend
    from django_tasks_db.models import DBTaskResult

    from mutualis.helpdesk.tasks import deliver_notification  # the task module imports this one

    if not isinstance(deliver_notification.get_backend(), DatabaseBackend):
        return False
    return router.db_for_write(DBTaskResult) == DEFAULT_DB_ALIAS


def _gave_up() -> QuerySet[Notification]:
    """Failed, or stuck « being sent » longer than a job may run: its job was lost twice and
    the reaper gave it up (mutualis/core/jobs.py), so nothing will send it any more."""
    stale = timezone.now() - dt.timedelta(seconds=settings.TASKS_STALE_AFTER)
    return Notification.objects.filter(
        Q(status=NotificationStatus.FAILED) | Q(status=NotificationStatus.SENDING, claimed_at__lt=stale)
    )


def notification_failed_list(*, actor: User) -> QuerySet[Notification]:
    """The notifications that gave up, newest first (operator admins only)."""
    require_operator_admin(actor)
    return _gave_up().select_related("ticket").order_by("-updated_at", "-id")
