"""Reads on tickets, scoped by the acting account.

Operator staff see every ticket; a member manager (and an elected official, read-only) sees its
collectivity's; a member agent sees the tickets it requested or watches. Anything else is 404."""

from __future__ import annotations

import datetime as dt
from typing import Any, TypedDict, cast

from django.db.models import Q, QuerySet, Subquery
from django.http import Http404
from django.utils import timezone

from mutualis.accounts.models import User
from mutualis.catalog.models import Application
from mutualis.core.tenancy import is_operator, require_operator_admin
from mutualis.helpdesk.enums import OPEN_STATUSES, Status
from mutualis.helpdesk.models import Followup, InboundMail, InboundOutcome, Ticket
from mutualis.members.models import Organisation


def ticket_get(*, actor: User, reference: str) -> Ticket:
    """The ticket with what its pages show. Its policy and calendar are not joined (the staff
    page takes them from the cached service-level configuration, sla.sla_policy and
    sla.sla_calendar), and the rare ticket it follows up or was merged into is read only when
    there is one: with those four joins too, PostgreSQL spent about 5 ms planning an eleven-table
    query, longer than the rest of its work on a million tickets."""
    try:
        ticket = (
            Ticket.objects.visible_to(actor)
            .select_related("collectivity", "requester", "application", "category", "group", "technician")
            .get(reference=reference)
        )
    except Ticket.DoesNotExist:
        raise Http404("ticket introuvable") from None
    return ticket


def followups_for(*, actor: User, ticket: Ticket) -> QuerySet[Followup]:
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
    actor: User,
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
    qs = Ticket.objects.visible_to(actor).select_related(
        "collectivity", "application", "group", "technician", "requester"
    )
    now = now or timezone.now()
    if view == "open":
        qs = qs.filter(status__in=OPEN_STATUSES)
    elif view == "mine":
        qs = qs.filter(status__in=OPEN_STATUSES, technician=actor)
    elif view == "my_group":
        qs = qs.filter(status__in=OPEN_STATUSES, group_id=actor.service_id)
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


def inbound_refused_list(*, user: User) -> QuerySet[Any]:
    """Messages the helpdesk mailbox refused, newest first; operator admins only."""

    require_operator_admin(user)
    return InboundMail.objects.filter(outcome=InboundOutcome.REFUSED).order_by("-updated_at", "-id")
