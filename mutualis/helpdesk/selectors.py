"""Reads on tickets, scoped by the acting account.

Operator staff see every ticket; a member manager (and an elected official, read-only) sees its
collectivity's; a member agent sees the tickets it requested or watches. Anything else is 404."""

from __future__ import annotations

import datetime as dt
from typing import Any, TypedDict, cast

from django.db.models import Q, QuerySet, Subquery
from django.http import Http404
from django.utils import timezone

from mutualis.accounts.models import Role
from mutualis.catalog.models import Application
from mutualis.core.tenancy import is_operator
from mutualis.helpdesk import sla
from mutualis.helpdesk.enums import OPEN_STATUSES, Status
from mutualis.helpdesk.models import Followup, Ticket
from mutualis.members.models import Organisation


def ticket_visible(actor: Any) -> QuerySet[Ticket]:
    qs = Ticket.objects.all()
    if not getattr(actor, "is_authenticated", False):
        return qs.none()
    if is_operator(actor):
        return qs
    if actor.organisation_id is None:
        return qs.none()
    qs = qs.filter(collectivity_id=actor.organisation_id)
    if actor.role in {Role.MEMBER_MANAGER, Role.ELECTED}:
        return qs
    return qs.filter(Q(requester=actor) | Q(watchers=actor)).distinct()


def ticket_get(*, actor: Any, reference: str) -> Ticket:
    """The ticket with what its pages show. Its policy and calendar come from the cached
    service-level configuration, and the rare ticket it follows up or was merged into is read
    only when there is one: with those four joins too, PostgreSQL spent about 5 ms planning an
    eleven-table query, longer than the rest of its work on a million tickets."""
    try:
        ticket = (
            ticket_visible(actor)
            .select_related("collectivity", "requester", "application", "category", "group", "technician")
            .get(reference=reference)
        )
    except Ticket.DoesNotExist:
        raise Http404("ticket introuvable") from None
    attach_sla_config(ticket)
    return ticket


def attach_sla_config(ticket: Ticket) -> None:
    """Set the ticket's policy and calendar from sla_config() when they are in it (active
    policies, their calendars, the default calendar); otherwise they load on first use. The
    instances are shared by the process: read them, never change them."""
    config = sla.sla_config()
    policy = next((p for p in config.policies if p.pk == ticket.policy_id), None) if ticket.policy_id else None
    if policy is not None:
        ticket.policy = policy
    calendars = {c.pk: c for c in (config.default_calendar, *(p.calendar for p in config.policies))}
    if ticket.calendar_id in calendars:
        ticket.calendar = calendars[ticket.calendar_id]


def followups_for(*, actor: Any, ticket: Ticket) -> QuerySet[Followup]:
    qs = ticket.followups.select_related("author").prefetch_related("attachments")
    return qs if is_operator(actor) else qs.filter(is_private=False)


QUEUE_VIEWS = ("all", "mine", "my_group", "unassigned", "at_risk", "breached", "open")
PERIOD_FILTERS = ("opened", "solved", "backlog")


def month_bounds(value: str | None) -> tuple[dt.datetime, dt.datetime] | None:
    """'YYYY-MM' or 'YYYY-MM..YYYY-MM' as [start, end) in local time; None when malformed."""
    if not value:
        return None
    first, _sep, last = value.partition("..")
    try:
        y1, m1 = (int(p) for p in first.split("-"))
        y2, m2 = (int(p) for p in (last or first).split("-"))
        start = dt.datetime(y1, m1, 1)
        end = dt.datetime(y2 + (m2 == 12), m2 % 12 + 1, 1)
    except ValueError:
        return None
    if end <= start:
        return None
    return timezone.make_aware(start), timezone.make_aware(end)


class PeriodFilters(TypedDict, total=False):
    opened: str
    solved: str
    backlog: str


def period_filters(query: Any) -> PeriodFilters:
    """The queue's month filters present in a query string (the links of the quality dashboards)."""
    return cast(PeriodFilters, {name: query[name] for name in PERIOD_FILTERS if month_bounds(query.get(name))})


def ticket_queue(
    *,
    actor: Any,
    view: str = "open",
    collectivity: str | None = None,
    application: str | None = None,
    priority: int | None = None,
    status: str | None = None,
    ticket_type: str | None = None,
    search: str | None = None,
    now: dt.datetime | None = None,
    opened: str | None = None,
    solved: str | None = None,
    backlog: str | None = None,
) -> QuerySet[Ticket]:
    """The staff queue and saved views; members get the same filters over what they may see.
    `opened`, `solved` ('YYYY-MM' or 'YYYY-MM..YYYY-MM'): opened or solved in those months;
    `backlog` ('YYYY-MM'): opened before the month's end and not solved by it (the indicators'
    definitions, docs/indicators.md)."""
    qs = ticket_visible(actor).select_related("collectivity", "application", "group", "technician", "requester")
    now = now or timezone.now()
    if view == "open":
        qs = qs.filter(status__in=OPEN_STATUSES)
    elif view == "mine":
        qs = qs.filter(status__in=OPEN_STATUSES, technician=actor)
    elif view == "my_group":
        qs = qs.filter(status__in=OPEN_STATUSES, group_id=getattr(actor, "service_id", None))
    elif view == "unassigned":
        qs = qs.filter(status__in=OPEN_STATUSES, technician__isnull=True)
    elif view == "at_risk":
        # Open, not yet breached, due within the next 4 hours or already warned at 75 %.
        qs = (
            qs.filter(status__in=OPEN_STATUSES, ttr_breached=False)
            .filter(Q(ttr_due_at__lte=now + dt.timedelta(hours=4)) | Q(sla_events__percent__gte=75))
            .distinct()
        )
    elif view == "breached":
        qs = qs.filter(Q(tto_breached=True) | Q(ttr_breached=True), status__in=OPEN_STATUSES)
    # The slug becomes the row's id through a scalar subquery (evaluated once), not a join: the
    # database then reads the (collectivity|application, queue order) indexes in order.
    if collectivity:
        qs = qs.filter(collectivity_id=Subquery(Organisation.objects.filter(slug=collectivity).values("pk")[:1]))
    if application:
        qs = qs.filter(application_id=Subquery(Application.objects.filter(slug=application).values("pk")[:1]))
    if priority:
        qs = qs.filter(priority=priority)
    if status and status in Status.values:
        qs = qs.filter(status=status)
    if ticket_type:
        qs = qs.filter(ticket_type=ticket_type)
    if search:
        qs = qs.filter(Q(reference__icontains=search) | Q(title__icontains=search))
    if bounds := month_bounds(opened):
        qs = qs.filter(opened_at__gte=bounds[0], opened_at__lt=bounds[1])
    if bounds := month_bounds(solved):
        qs = qs.filter(solved_at__gte=bounds[0], solved_at__lt=bounds[1])
    if bounds := month_bounds(backlog):
        qs = qs.filter(Q(solved_at__isnull=True) | Q(solved_at__gte=bounds[1]), opened_at__lt=bounds[1])
    return qs.order_by("-priority", "ttr_due_at", "-opened_at", "-id")


def inbound_refused_list(*, user: Any) -> QuerySet[Any]:
    """Messages the helpdesk mailbox refused, newest first; operator admins only."""
    from mutualis.core.tenancy import require_operator_admin
    from mutualis.helpdesk.models import InboundMail, InboundOutcome

    require_operator_admin(user)
    return InboundMail.objects.filter(outcome=InboundOutcome.REFUSED).order_by("-updated_at", "-id")
