"""Reads on governance: bodies with their current mandates; a member's seats; sittings, the
deliberations register and the delegations. Governance is the operator's own and public to every
account: nothing here is scoped by member."""

from __future__ import annotations

import datetime as dt

from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from mutualis.governance.models import (
    VOTING_ROLES,
    AgendaItem,
    Body,
    DelegatedDecision,
    Delegation,
    Mandate,
    Sitting,
)


def _current(on: dt.date) -> Q:
    return (Q(start_on__isnull=True) | Q(start_on__lte=on)) & (Q(end_on__isnull=True) | Q(end_on__gte=on))


def body_list_with_current_mandates(*, on: dt.date | None = None) -> QuerySet[Body]:
    """Governance is the operator's own: every account may read it. Two queries."""
    day = on or timezone.localdate()
    mandates = (
        Mandate.objects.filter(_current(day))
        .select_related("person", "organisation", "commission_led")
        .order_by("role", "person__full_name")
    )
    return Body.objects.prefetch_related(Prefetch("mandates", queryset=mandates, to_attr="current_mandates"))


def mandates_of_organisation(*, organisation_id: int, on: dt.date | None = None) -> QuerySet[Mandate]:
    day = on or timezone.localdate()
    return (
        Mandate.objects.filter(_current(day), organisation_id=organisation_id)
        .select_related("person", "body", "commission_led")
        .order_by("body__position", "role", "person__full_name")
    )


def sitting_members(*, sitting: Sitting, voting_only: bool = True) -> QuerySet[Mandate]:
    """The mandates on the sitting's body in office on its day: those who vote and count toward
    the quorum, or (`voting_only=False`) everyone convened, substitutes included."""
    mandates = Mandate.objects.filter(_current(timezone.localtime(sitting.starts_at).date()), body_id=sitting.body_id)
    if voting_only:
        mandates = mandates.filter(role__in=VOTING_ROLES)
    return mandates.select_related("person", "organisation").order_by("person__full_name", "pk")


def mandate_history(*, body: Body) -> QuerySet[Mandate]:
    """Every mandate ever held on `body`, current or ended, with who replaced whom."""
    return (
        Mandate.objects.filter(body=body)
        .select_related("person", "organisation", "replaces__person")
        .order_by("role", "organisation__name", "start_on", "pk")
    )


def sitting_list(*, body: Body) -> QuerySet[Sitting]:
    return Sitting.objects.filter(body=body).order_by("-starts_at")


def sitting_detail(*, pk: int) -> Sitting:
    """A sitting with its body; governance is the operator's own and every account reads it."""
    return Sitting.objects.select_related("body", "follows").get(pk=pk)


def deliberation_register(*, year: int | None = None) -> QuerySet[AgendaItem]:
    """Adopted and numbered deliberations, the year's series in order."""
    items = AgendaItem.objects.filter(sequence__isnull=False).select_related("sitting__body")
    if year is not None:
        items = items.filter(year=year)
    return items.order_by("-year", "sequence")


def deliberation_years() -> list[int]:
    years = AgendaItem.objects.filter(year__isnull=False).order_by("-year").values_list("year", flat=True)
    return [year for year in years.distinct() if year is not None]


def delegation_list() -> QuerySet[Delegation]:
    return Delegation.objects.select_related("deliberation__sitting").order_by("delegate", "-valid_from")


def delegated_decision_list() -> QuerySet[DelegatedDecision]:
    return DelegatedDecision.objects.select_related("delegation", "contract").order_by("-decided_on", "-pk")
