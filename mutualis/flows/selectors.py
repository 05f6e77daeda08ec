"""Reads of the flows, each scoped by the acting account (TenantQuerySet.visible_to)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.db.models import Count, F, Q, QuerySet

from mutualis.accounts.models import Role, User
from mutualis.core.actors import Visitor
from mutualis.flows.enums import ERROR_STATES, FINAL_STATES, State
from mutualis.flows.models import ConnectorInstance, FlowBinding, FlowDocument, FlowFile, FlowToken
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


def flow_tokens(user: Visitor, member: Organisation) -> QuerySet[FlowToken]:
    """The member's flow tokens, active first, newest first, with their accounts (one query)."""
    return (
        FlowToken.objects.visible_to(user)
        .filter(member=member)
        .select_related("user", "created_by")
        .order_by(F("revoked_at").desc(nulls_first=True), "-created_at", "-pk")
    )


def flow_token_get(user: Visitor, member: Organisation, pk: int) -> FlowToken:
    """One of the member's tokens; another member's (or an unknown id) is 404."""
    token: FlowToken = (
        FlowToken.objects.filter(member=member).select_related("user", "created_by").get_visible(user, pk=pk)
    )
    return token


def service_accounts(member: Organisation) -> QuerySet[User]:
    """The accounts a flow token may act as: the member's active accounts that may write (an
    elected official's account reads only, so the API would refuse everything it sends)."""
    return User.objects.filter(organisation=member, is_active=True).exclude(role=Role.ELECTED).order_by("username")
