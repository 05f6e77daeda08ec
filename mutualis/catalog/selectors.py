"""Reads on the catalogue, scoped by the acting account; the deployment matrix in three queries."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import Http404

from mutualis.accounts.models import User
from mutualis.catalog.models import (
    ACTIVE_STATUSES,
    Application,
    Domain,
    ServiceCommitment,
    Subscription,
    SubscriptionStatus,
    Vendor,
)
from mutualis.members.models import Organisation


def vendor_get(*, actor: User, slug: str) -> Vendor:
    """A vendor, with its applications: public company data, readable by every account."""
    qs = Vendor.objects.prefetch_related(Prefetch("applications", queryset=Application.objects.order_by("name")))
    try:
        return qs.get(slug=slug)
    except Vendor.DoesNotExist:
        raise Http404("éditeur introuvable") from None


def domain_list() -> QuerySet[Domain]:
    return Domain.objects.all()


def service_commitment_list() -> QuerySet[ServiceCommitment]:
    return ServiceCommitment.objects.all()


def _statuses(status: str | None) -> Sequence[str]:
    """'' or None means active (deploying or in production); 'all' every status but withdrawn."""
    if not status:
        return ACTIVE_STATUSES
    if status == "all":
        return [s for s in SubscriptionStatus.values if s != SubscriptionStatus.WITHDRAWN]
    if status not in SubscriptionStatus.values:
        raise ValueError(f"statut inconnu : {status}")
    return [status]


def application_list(
    *,
    actor: User,
    domain: str | None = None,
    licence: str | None = None,
    member: str | None = None,
    search: str | None = None,
) -> QuerySet[Application]:
    """The catalogue is the operator's offer: every account sees every application, but the
    subscription counts only cover the organisations the account may see."""
    visible = Organisation.objects.collectivities().visible_to(actor).values("pk")
    qs = Application.objects.select_related("domain", "vendor", "support_group").annotate(
        member_count=Count(
            "subscriptions",
            filter=Q(subscriptions__status__in=ACTIVE_STATUSES, subscriptions__collectivity__in=visible),
        )
    )
    if domain:
        qs = qs.filter(domain__slug=domain)
    if licence:
        qs = qs.filter(licence=licence)
    if member:
        qs = qs.filter(
            subscriptions__collectivity__slug=member,
            subscriptions__collectivity__in=visible,
            subscriptions__status__in=ACTIVE_STATUSES,
        )
    if search:
        qs = qs.filter(Q(name__icontains=search) | Q(software__icontains=search))
    return qs.order_by("domain__position", "domain__name", "position", "name")


def application_get(*, actor: User, slug: str) -> Application:
    visible = Organisation.objects.collectivities().visible_to(actor)
    subscriptions = Subscription.objects.filter(collectivity__in=visible).select_related("collectivity")
    try:
        return (
            Application.objects.select_related("domain", "vendor", "support_group")
            .prefetch_related(Prefetch("subscriptions", queryset=subscriptions.order_by("collectivity__name")))
            .get(slug=slug)
        )
    except Application.DoesNotExist:
        raise Http404("application introuvable") from None


def subscription_list(
    *,
    actor: User,
    collectivity: str | None = None,
    application: str | None = None,
    status: str | None = None,
) -> QuerySet[Subscription]:
    qs = Subscription.objects.visible_to(actor).select_related("collectivity", "application", "application__domain")
    if collectivity:
        qs = qs.filter(collectivity__slug=collectivity)
    if application:
        qs = qs.filter(application__slug=application)
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("application__name", "collectivity__name", "pk")


def subscription_get(*, actor: User, pk: int) -> Subscription:
    return Subscription.objects.select_related("collectivity", "application").get_visible(actor, pk=pk)


@dataclass
class MatrixRow:
    application: Application
    cells: list[str | None]  # the subscription's status per member column, None where there is none
    total: int


@dataclass
class MatrixGroup:
    domain: Domain
    rows: list[MatrixRow] = field(default_factory=list)


@dataclass
class Matrix:
    members: list[Organisation]
    groups: list[MatrixGroup]
    column_totals: list[int]
    statuses: Sequence[str]
    all_members: list[Organisation] = field(default_factory=list)  # the visible ones, for filters

    @property
    def total(self) -> int:
        return sum(self.column_totals)

    @property
    def row_count(self) -> int:
        return sum(len(group.rows) for group in self.groups)

    def rows(self) -> list[tuple[Domain, MatrixRow]]:
        return [(group.domain, row) for group in self.groups for row in group.rows]


def deployment_matrix(
    *,
    actor: User,
    domain: str | None = None,
    licence: str | None = None,
    members: Sequence[str] | None = None,
    status: str | None = None,
    search: str | None = None,
) -> Matrix:
    """Applications grouped by domain × member columns (in name order). Three queries whatever
    the size: members, applications with their domain, and the (application, member, status)
    triples of the matching subscriptions."""
    statuses = _statuses(status)
    member_qs = Organisation.objects.members().visible_to(actor)
    all_members = list(member_qs.order_by("name").only("pk", "name", "short_name", "slug", "kind"))
    wanted = set(members or ())
    member_list = [m for m in all_members if m.slug in wanted] if wanted else all_members
    column = {m.pk: index for index, m in enumerate(member_list)}

    app_qs = Application.objects.select_related("domain").only(
        "pk",
        "slug",
        "name",
        "software",
        "position",
        "source_confidence",
        "source_reported_count",
        "domain__id",
        "domain__slug",
        "domain__name",
        "domain__position",
    )
    if domain:
        app_qs = app_qs.filter(domain__slug=domain)
    if licence:
        app_qs = app_qs.filter(licence=licence)
    if search:
        app_qs = app_qs.filter(Q(name__icontains=search) | Q(software__icontains=search))
    applications = list(app_qs.order_by("domain__position", "domain__name", "position", "name"))

    cells: dict[int, list[str | None]] = {app.pk: [None] * len(member_list) for app in applications}
    # Unordered (the cells are filled by index) and fetched at once: sorting the subscriptions by
    # the model's default ordering, or a server-side cursor on PostgreSQL, cost more than the rest
    # of the query at 300 × 150.
    triples = (
        Subscription.objects.filter(status__in=statuses, collectivity_id__in=[m.pk for m in member_list])
        .order_by()
        .values_list("application_id", "collectivity_id", "status")
    )
    if domain or licence or search:
        triples = triples.filter(application_id__in=[a.pk for a in applications])
    column_totals = [0] * len(member_list)
    for app_id, member_id, sub_status in triples:
        row = cells.get(app_id)
        if row is None:
            continue
        index = column[member_id]
        row[index] = sub_status
        column_totals[index] += 1

    groups: list[MatrixGroup] = []
    for app in applications:
        if not groups or groups[-1].domain.pk != app.domain_id:
            groups.append(MatrixGroup(domain=app.domain))
        row_cells = cells[app.pk]
        groups[-1].rows.append(
            MatrixRow(application=app, cells=row_cells, total=sum(1 for c in row_cells if c is not None))
        )
    return Matrix(
        members=member_list, groups=groups, column_totals=column_totals, statuses=statuses, all_members=all_members
    )


# What a member's ticket may name: an application it has or is getting (deploying, in production),
# the catalogue's own meaning of "subscribes" (the matrix and the demo history use it too).
TICKET_STATUSES = ACTIVE_STATUSES


def applications_subscribed(*, collectivity_id: int | None) -> QuerySet[Application]:
    """The applications a collectivity subscribes to, by name: the choices of a ticket's
    application. No collectivity (a builder's preview): every application of the catalogue."""
    qs = Application.objects.select_related("support_group")
    if collectivity_id is not None:
        qs = qs.filter(
            subscriptions__collectivity_id=collectivity_id, subscriptions__status__in=TICKET_STATUSES
        ).distinct()
    return qs.order_by("name")


def subscription_pairs(*, statuses: Sequence[str] = TICKET_STATUSES) -> set[tuple[int, int]]:
    """Every (collectivity id, application id) subscribed with one of `statuses`, in one query:
    a bulk import checks its rows against it."""
    return set(Subscription.objects.filter(status__in=statuses).values_list("collectivity_id", "application_id"))


def is_subscribed(*, collectivity_id: int, application_id: int) -> bool:
    return Subscription.objects.filter(
        collectivity_id=collectivity_id, application_id=application_id, status__in=TICKET_STATUSES
    ).exists()
