"""Reads on organisations, scoped by the acting account."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q, QuerySet

from mutualis.core.tenancy import get_scoped, scope
from mutualis.members.models import Organisation, OrganisationKind, StaffFigures


def collectivity_list(*, actor: Any, kind: str | None = None, include_former: bool = True) -> QuerySet[Organisation]:
    """Collectivities (not the operator) the actor may see, with their subscription counts."""
    from mutualis.catalog.models import ACTIVE_STATUSES

    qs = Organisation.objects.collectivities()
    if kind:
        qs = qs.filter(kind=kind)
    if not include_former:
        qs = qs.filter(left_on__isnull=True)
    qs = qs.annotate(active_subscriptions=Count("subscriptions", filter=Q(subscriptions__status__in=ACTIVE_STATUSES)))
    return scope(qs, actor, field="pk").order_by("name")


def collectivity_get(*, actor: Any, slug: str) -> Organisation:
    return get_scoped(Organisation.objects.collectivities(), actor, field="pk", slug=slug)


def operator_get() -> Organisation | None:
    return Organisation.objects.filter(kind=OrganisationKind.OPERATOR).prefetch_related("services").first()


def operator_staff_figures(operator: Organisation) -> StaffFigures | None:
    return operator.staff_figures.order_by("-year").first()
