"""The retention rules applied: each kind of record older than its rule's duration is anonymised
(tickets, directory entries) or loses the personal data it no longer needs (addresses in the log,
mail senders) or is deleted (expired sessions), set-based, in batches.

A ticket keeps what the indicators and monthly reports read (dates, statuses, collectivity,
application, category, priority, service-level figures, satisfaction score, time spent) and loses
what may name someone: its requester and watchers, its title and every free text, its attachments
(files and rows), the addresses its mails went to."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from typing import Any

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib.sessions.models import Session
from django.core.files.storage import default_storage
from django.db import models, transaction
from django.db.models import Case, Exists, OuterRef, Q, Value, When
from django.utils import timezone

from mutualis.accounts.models import Role, User
from mutualis.core.audit import audit_drop_keys, audit_record, audit_redact_objects
from mutualis.core.models import AuditAction, AuditEntry
from mutualis.helpdesk.enums import Status
from mutualis.helpdesk.models import (
    Attachment,
    Followup,
    InboundMail,
    Notification,
    Ticket,
    TicketTask,
    TransitionLog,
)
from mutualis.identity.models import Agent, AgentStatus
from mutualis.privacy.models import DEFAULT_MONTHS, AnonymisedRecord, RetentionKind, RetentionRule
from mutualis.privacy.pseudonyms import NEUTRAL_TEXT, pseudonym

BATCH = 500
MEMBER_ROLES = [Role.MEMBER_MANAGER, Role.MEMBER_AGENT, Role.ELECTED]
Progress = Callable[[int, int | None], None]


def months_before(instant: dt.datetime, months: int) -> dt.datetime:
    """The same day and time `months` months earlier, the day clamped to the month's end (31 March
    minus one month is 28 or 29 February)."""
    index = instant.year * 12 + instant.month - 1 - months
    year, month = divmod(index, 12)
    month += 1
    next_month = dt.date(year + (month == 12), month % 12 + 1, 1)
    last_day = (next_month - dt.timedelta(days=1)).day
    return instant.replace(year=year, month=month, day=min(instant.day, last_day))


def _anonymised(kind: str) -> Exists:
    return Exists(AnonymisedRecord.objects.filter(kind=kind, object_id=OuterRef("pk")))


def _mark(kind: str, ids: list[int], now: dt.datetime) -> None:
    AnonymisedRecord.objects.bulk_create(
        [AnonymisedRecord(kind=kind, object_id=pk, anonymised_at=now) for pk in ids], ignore_conflicts=True
    )


def _claim(queryset: models.QuerySet[Any], size: int) -> list[int]:
    """The next batch's ids, locked; rows another transaction holds (a ticket being changed) are
    skipped and left to the next batch or run. Call inside the batch's transaction."""
    return list(
        queryset.select_for_update(skip_locked=True, of=("self",)).order_by("pk").values_list("pk", flat=True)[:size]
    )


# --- closed tickets --------------------------------------------------------------------------------


def closed_tickets(cutoff: dt.datetime) -> models.QuerySet[Ticket]:
    return Ticket.objects.filter(status=Status.CLOSED, closed_at__lt=cutoff).filter(
        ~_anonymised(RetentionKind.CLOSED_TICKETS)
    )


def tickets_anonymise(ids: list[int], *, now: dt.datetime) -> None:
    """Anonymise these tickets with everything hung on them; inside the caller's transaction."""
    followup_ids = list(Followup.objects.filter(ticket_id__in=ids).values_list("pk", flat=True))
    task_ids = list(TicketTask.objects.filter(ticket_id__in=ids).values_list("pk", flat=True))
    attachments = list(Attachment.objects.filter(ticket_id__in=ids).values_list("pk", "file"))
    Ticket.objects.filter(pk__in=ids).update(
        title=NEUTRAL_TEXT,
        description=NEUTRAL_TEXT,
        requester=None,
        satisfaction_comment=Case(When(satisfaction_comment="", then=Value("")), default=Value(NEUTRAL_TEXT)),
        form_answers=None,
        updated_at=now,
    )
    Ticket.watchers.through.objects.filter(ticket_id__in=ids).delete()
    Followup.objects.filter(pk__in=followup_ids).update(body=NEUTRAL_TEXT)
    # A member's followup loses its author; an operator agent's keeps it (the operator's own work).
    Followup.objects.filter(pk__in=followup_ids, author__role__in=MEMBER_ROLES, author__is_superuser=False).update(
        author=None
    )
    TicketTask.objects.filter(pk__in=task_ids).update(description=NEUTRAL_TEXT)
    TransitionLog.objects.filter(ticket_id__in=ids).exclude(comment="").update(comment=NEUTRAL_TEXT)
    Notification.objects.filter(ticket_id__in=ids).update(summary="", recipients=[], sent_to=[], last_error="")
    InboundMail.objects.filter(ticket_id__in=ids).update(sender="", subject=NEUTRAL_TEXT, reason="")
    Attachment.objects.filter(pk__in=[pk for pk, _ in attachments]).delete()
    files = [name for _, name in attachments if name]
    transaction.on_commit(lambda: _files_delete(files))
    audit_redact_objects(
        model=Ticket,
        object_ids=ids,
        keys=["title", "description", "satisfaction_comment", "form_answers"],
        text=NEUTRAL_TEXT,
    )
    audit_redact_objects(model=Followup, object_ids=followup_ids, keys=["body"], text=NEUTRAL_TEXT)
    audit_redact_objects(model=TicketTask, object_ids=task_ids, keys=["description"], text=NEUTRAL_TEXT)
    audit_redact_objects(
        model=Attachment, object_ids=[pk for pk, _ in attachments], keys=["name", "file"], text=NEUTRAL_TEXT
    )


def _files_delete(names: list[str]) -> None:
    """After the commit: a rolled-back batch keeps its files. A file already gone is no error."""
    for name in names:
        default_storage.delete(name)


def _closed_tickets_apply(cutoff: dt.datetime, now: dt.datetime, limit: int | None, progress: Progress) -> int:
    done = 0
    while limit is None or done < limit:
        size = min(BATCH // 5, limit - done) if limit is not None else BATCH // 5
        with transaction.atomic():
            ids = _claim(closed_tickets(cutoff), size)
            if not ids:
                break
            tickets_anonymise(ids, now=now)
            _mark(RetentionKind.CLOSED_TICKETS, ids, now)
        done += len(ids)
        progress(done, None)
    return done


# --- agents who left the directory ---------------------------------------------------------------

AGENT_PERSONAL_FIELDS = ["civility", "last_name", "first_name", "mail", "login", "function"]


def inactive_agents(cutoff: dt.datetime) -> models.QuerySet[Agent]:
    """Agents inactive since before `cutoff` (their end date, or their last change without one),
    whose account, if any, is not active: an account still in use keeps its directory entry."""
    return (
        Agent.objects.filter(status=AgentStatus.INACTIVE)
        .filter(Q(end_on__lt=cutoff.date()) | Q(end_on__isnull=True, updated_at__lt=cutoff))
        .exclude(Exists(User.objects.filter(agent=OuterRef("pk"), is_active=True)))
        .filter(~_anonymised(RetentionKind.INACTIVE_AGENTS))
    )


def agents_anonymise(ids: list[int], *, now: dt.datetime) -> None:
    """Each agent takes its pseudonym as name and loses its other personal fields, in one UPDATE;
    its matricule stays (the HR file's key, without which a returning agent would be a duplicate)."""
    Agent.objects.filter(pk__in=ids).update(
        last_name=Case(*(When(pk=pk, then=Value(pseudonym("agent", pk))) for pk in ids), default=Value("")),
        first_name="",
        civility="",
        mail="",
        login="",
        function="",
        updated_at=now,
    )
    audit_redact_objects(model=Agent, object_ids=ids, keys=AGENT_PERSONAL_FIELDS, text=NEUTRAL_TEXT)


def _inactive_agents_apply(cutoff: dt.datetime, now: dt.datetime, limit: int | None, progress: Progress) -> int:
    done = 0
    while limit is None or done < limit:
        size = min(BATCH, limit - done) if limit is not None else BATCH
        with transaction.atomic():
            ids = _claim(inactive_agents(cutoff), size)
            if not ids:
                break
            agents_anonymise(ids, now=now)
            _mark(RetentionKind.INACTIVE_AGENTS, ids, now)
        done += len(ids)
        progress(done, None)
    return done


# --- login traces: addresses and names typed ------------------------------------------------------

TRACE_KEYS = ["ip_address", "username", "email"]


def login_traces(cutoff: dt.datetime) -> models.QuerySet[AuditEntry]:
    return AuditEntry.objects.filter(
        action__in=[AuditAction.LOGIN_FAILED, AuditAction.PASSWORD_RESET_REQUEST], created_at__lt=cutoff
    ).filter(Q(changes__has_key="ip_address") | Q(changes__has_key="username") | Q(changes__has_key="email"))


def _throttle_rows(cutoff: dt.datetime) -> list[models.QuerySet[Any]]:
    """django-axes' own rows (address, name typed, browser): past the cool-off they count nothing."""
    return [model.objects.filter(attempt_time__lt=cutoff) for model in (AccessAttempt, AccessFailureLog, AccessLog)]


def _login_traces_count(cutoff: dt.datetime) -> int:
    return login_traces(cutoff).count() + sum(rows.count() for rows in _throttle_rows(cutoff))


def _login_traces_apply(cutoff: dt.datetime, now: dt.datetime, limit: int | None, progress: Progress) -> int:
    done = 0
    while limit is None or done < limit:
        size = min(BATCH, limit - done) if limit is not None else BATCH
        ids = list(login_traces(cutoff).order_by("pk").values_list("pk", flat=True)[:size])
        if not ids:
            break
        with transaction.atomic():
            done += audit_drop_keys(entry_ids=ids, keys=TRACE_KEYS, clear_unlinked_text=True)
        progress(done, None)
    for rows in _throttle_rows(cutoff):
        done += rows.delete()[0]
    return done


# --- inbound mail: senders and subjects -------------------------------------------------------------


def inbound_mail(cutoff: dt.datetime) -> models.QuerySet[InboundMail]:
    return InboundMail.objects.filter(created_at__lt=cutoff).exclude(sender="", subject="", reason="")


def _inbound_mail_apply(cutoff: dt.datetime, now: dt.datetime, limit: int | None, progress: Progress) -> int:
    """The Message-ID stays: it is what keeps a message from being handled twice."""
    done = 0
    while limit is None or done < limit:
        size = min(BATCH, limit - done) if limit is not None else BATCH
        with transaction.atomic():
            ids = _claim(inbound_mail(cutoff), size)
            if not ids:
                break
            InboundMail.objects.filter(pk__in=ids).update(sender="", subject="", reason="", updated_at=now)
        done += len(ids)
        progress(done, None)
    return done


# --- expired sessions -----------------------------------------------------------------------------


def expired_sessions(cutoff: dt.datetime) -> models.QuerySet[Session]:
    return Session.objects.filter(expire_date__lt=cutoff)


def _sessions_apply(cutoff: dt.datetime, now: dt.datetime, limit: int | None, progress: Progress) -> int:
    done = 0
    while limit is None or done < limit:
        size = min(BATCH, limit - done) if limit is not None else BATCH
        keys = list(expired_sessions(cutoff).order_by("pk").values_list("pk", flat=True)[:size])
        if not keys:
            break
        done += Session.objects.filter(pk__in=keys).delete()[0]
        progress(done, None)
    return done


@dataclasses.dataclass(frozen=True)
class Handler:
    count: Callable[[dt.datetime], int]
    apply: Callable[[dt.datetime, dt.datetime, int | None, Progress], int]


HANDLERS: dict[str, Handler] = {
    RetentionKind.CLOSED_TICKETS: Handler(lambda c: closed_tickets(c).count(), _closed_tickets_apply),
    RetentionKind.INACTIVE_AGENTS: Handler(lambda c: inactive_agents(c).count(), _inactive_agents_apply),
    RetentionKind.LOGIN_TRACES: Handler(_login_traces_count, _login_traces_apply),
    RetentionKind.INBOUND_MAIL: Handler(lambda c: inbound_mail(c).count(), _inbound_mail_apply),
    RetentionKind.SESSIONS: Handler(lambda c: expired_sessions(c).count(), _sessions_apply),
}


@dataclasses.dataclass(frozen=True)
class RuleOutcome:
    rule: RetentionRule
    cutoff: dt.datetime
    count: int


def _no_progress(done: int, total: int | None) -> None:
    return None


def retention_apply(
    *,
    now: dt.datetime | None = None,
    dry_run: bool = False,
    limit: int | None = None,
    kinds: list[str] | None = None,
    progress: Progress = _no_progress,
) -> list[RuleOutcome]:
    """Apply every enabled rule (or those of `kinds`): with `dry_run`, count what each would
    change and change nothing. Each rule's run is recorded on the rule and in the audit log with
    its count and cutoff. `limit` caps each rule's count; the rest waits for the next run."""
    now = now or timezone.now()
    # A rule whose row is missing (deleted by hand, a database flushed) applies its default rather
    # than silently not at all; the migration writes the same rows on a fresh install.
    RetentionRule.objects.bulk_create(
        [RetentionRule(kind=kind, months=months) for kind, months in DEFAULT_MONTHS.items()], ignore_conflicts=True
    )
    rules = RetentionRule.objects.filter(enabled=True).order_by("kind")
    if kinds:
        rules = rules.filter(kind__in=kinds)
    outcomes = []
    for rule in rules:
        cutoff = months_before(now, rule.months)
        handler = HANDLERS[rule.kind]
        if dry_run:
            count = handler.count(cutoff)
            outcomes.append(RuleOutcome(rule, cutoff, min(count, limit) if limit is not None else count))
            continue
        count = handler.apply(cutoff, now, limit, progress)
        with transaction.atomic():
            RetentionRule.objects.filter(pk=rule.pk).update(last_run_at=now, last_run_count=count)
            audit_record(
                actor=None,
                action=AuditAction.UPDATE,
                obj=rule,
                changes={
                    "last_run_count": [rule.last_run_count, count],
                    "cutoff": [None, timezone.localtime(cutoff).isoformat()],
                },
                via="command",
            )
        outcomes.append(RuleOutcome(rule, cutoff, count))
    return outcomes
