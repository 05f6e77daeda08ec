"""Reads of the flows, each scoped by the acting account (TenantQuerySet.visible_to)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.db.models import Count, Q, QuerySet

from mutualis.core.actors import Visitor
from mutualis.flows.enums import ERROR_STATES, FINAL_STATES, State
from mutualis.flows.models import ConnectorInstance, FlowBinding, FlowDocument, FlowFile
from mutualis.members.models import Organisation


def state_counts(
    user: Visitor, *, member: Organisation | None = None, flow: str = ""
) -> dict[tuple[int, str], dict[str, int]]:
    """{(member id, flow): {state: count}} in one grouped query."""
    rows = FlowDocument.objects.visible_to(user)
    if member is not None:
        rows = rows.filter(member=member)
    if flow:
        rows = rows.filter(flow=flow)
    counts: dict[tuple[int, str], dict[str, int]] = defaultdict(dict)
    for row in rows.values("member_id", "flow", "state").annotate(n=Count("pk")).order_by():
        counts[(row["member_id"], row["flow"])][row["state"]] = row["n"]
    return dict(counts)


def stuck_documents(
    user: Visitor, *, member: Organisation | None = None, flow: str = "", limit: int = 50
) -> QuerySet[FlowDocument]:
    """What needs a person: stopped on an error, or failing and being retried."""
    rows = FlowDocument.objects.visible_to(user).filter(Q(state__in=ERROR_STATES) | Q(tries__gt=0))
    rows = rows.exclude(state__in=FINAL_STATES)
    if member is not None:
        rows = rows.filter(member=member)
    if flow:
        rows = rows.filter(flow=flow)
    return rows.select_related("member").order_by("-updated_at")[:limit]


def document_list(user: Visitor, *, member: Organisation, flow: str, state: str = "") -> QuerySet[FlowDocument]:
    rows = FlowDocument.objects.visible_to(user).filter(member=member, flow=flow)
    if state:
        rows = rows.filter(state=state)
    return rows.select_related("member").defer("fields")


def document_get(user: Visitor, pk: int) -> FlowDocument:
    document: FlowDocument = FlowDocument.objects.select_related("member", "created_by").get_visible(user, pk=pk)
    return document


def connectors(user: Visitor, member: Organisation) -> tuple[list[ConnectorInstance], dict[tuple[str, str], Any]]:
    instances = list(ConnectorInstance.objects.visible_to(user).filter(member=member))
    bindings = {
        (b.flow, b.port): b.instance
        for b in FlowBinding.objects.visible_to(user).filter(member=member).select_related("instance")
    }
    return instances, bindings


def members_for(user: Visitor) -> QuerySet[Organisation]:
    return Organisation.objects.visible_to(user).collectivities()


STATE_LABELS = dict(State.choices)


def member_get(user: Visitor, slug: str) -> Organisation:
    member: Organisation = Organisation.objects.get_visible(user, slug=slug)
    return member


def connector_get(user: Visitor, pk: int) -> ConnectorInstance:
    instance: ConnectorInstance = ConnectorInstance.objects.select_related("member").get_visible(user, pk=pk)
    return instance


def file_get(user: Visitor, document: FlowDocument, pk: int) -> FlowFile:
    row: FlowFile = FlowFile.objects.filter(document=document).get_visible(user, pk=pk)
    return row
