"""Reads on governance: bodies with their current mandates; a member's seats."""

from __future__ import annotations

import datetime as dt

from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from mutualis.governance.models import Body, Mandate


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
