"""Reads on tickets, scoped by the acting account.

Operator staff see every ticket; a member manager (and an elected official, read-only) sees its
collectivity's; a member agent sees the tickets it requested or watches. Anything else is 404."""

from __future__ import annotations

import datetime as dt
from typing import Any, TypedDict, cast

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery
from django.http import Http404
from django.utils import timezone

from mutualis.accounts.models import User
from mutualis.catalog.models import Application
from mutualis.core.tenancy import is_operator, require_operator_admin
from mutualis.helpdesk.enums import OPEN_STATUSES, Status
from mutualis.helpdesk.models import Followup, InboundMail, InboundOutcome, SlaEvent, Ticket
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
# A ticket due within this many hours is "threatened" (délai menacé), as is one warned at 75 %.
AT_RISK_HOURS = 4


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


def queue_filter(
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
) -> Q:
    """The condition behind a queue view and its filters, as one Q: the queue lists the tickets
    it matches and queue_counts counts several of them in one query."""
    now = now or timezone.now()
    q = Q()
    if view == "open":
        q &= Q(status__in=OPEN_STATUSES)
    elif view == "mine":
        q &= Q(status__in=OPEN_STATUSES, technician=actor)
    elif view == "my_group":
        q &= Q(status__in=OPEN_STATUSES, group_id=actor.service_id)
    elif view == "unassigned":
        q &= Q(status__in=OPEN_STATUSES, technician__isnull=True)
    elif view == "at_risk":
        # Open, not yet breached, due within the next 4 hours or already warned at 75 % (an
        # EXISTS rather than a join, so a ticket warned twice is one row and one count).
        warned = SlaEvent.objects.filter(ticket=OuterRef("pk"), percent__gte=75)
        q &= Q(status__in=OPEN_STATUSES, ttr_breached=False) & (
            Q(ttr_due_at__lte=now + dt.timedelta(hours=AT_RISK_HOURS)) | Q(Exists(warned))
        )
    elif view == "breached":
        q &= (Q(tto_breached=True) | Q(ttr_breached=True)) & Q(status__in=OPEN_STATUSES)
    # The slug becomes the row's id through a scalar subquery (evaluated once), not a join: the
    # database then reads the (collectivity|application, queue order) indexes in order.
    if collectivity:
        q &= Q(collectivity_id=Subquery(Organisation.objects.filter(slug=collectivity).values("pk")[:1]))
    if application:
        q &= Q(application_id=Subquery(Application.objects.filter(slug=application).values("pk")[:1]))
    if priority:
        q &= Q(priority=priority)
    if status and status in Status.values:
        q &= Q(status=status)
    if ticket_type:
        q &= Q(ticket_type=ticket_type)
    if search:
        q &= Q(reference__icontains=search) | Q(title__icontains=search)
    if bounds := month_bounds(opened):
        q &= Q(opened_at__gte=bounds[0], opened_at__lt=bounds[1])
    if bounds := month_bounds(solved):
        q &= Q(solved_at__gte=bounds[0], solved_at__lt=bounds[1])
    if bounds := month_bounds(backlog):
        q &= (Q(solved_at__isnull=True) | Q(solved_at__gte=bounds[1])) & Q(opened_at__lt=bounds[1])
    return q


def ticket_queue(*, actor: User, **filters: Any) -> QuerySet[Ticket]:
    """The staff queue and saved views; members get the same filters over what they may see.
    `opened`, `solved` ('YYYY-MM' or 'YYYY-MM..YYYY-MM'): opened or solved in those months;
    `backlog` ('YYYY-MM'): opened before the month's end and not solved by it (the indicators'
    definitions, docs/indicators.md). The filters are queue_filter's."""
    qs = Ticket.objects.visible_to(actor).select_related(
        "collectivity", "application", "group", "technician", "requester"
    )
    return qs.filter(queue_filter(actor=actor, **filters)).order_by("-priority", "ttr_due_at", "-opened_at", "-id")


def queue_counts(*, actor: User, views: dict[str, Q]) -> dict[str, int]:
    """How many tickets each view lists, in one grouped query whatever the number of views and
    tickets. Only over open tickets (the partial indexes on the open statuses): every view
    counted here lists open tickets only, so its count is exactly its number of rows."""
    if not views:
        return {}
    counts = (
        Ticket.objects.visible_to(actor)
        .filter(status__in=OPEN_STATUSES)
        .aggregate(**{key: Count("pk", filter=q) for key, q in views.items()})
    )
    return {key: int(value or 0) for key, value in counts.items()}


def inbound_refused_list(*, user: User) -> QuerySet[Any]:
    """Messages the helpdesk mailbox refused, newest first; operator admins only."""

    require_operator_admin(user)
    return InboundMail.objects.filter(outcome=InboundOutcome.REFUSED).order_by("-updated_at", "-id")
