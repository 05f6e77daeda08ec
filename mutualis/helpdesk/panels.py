"""What the helpdesk shows on the home page for each role (core.panels, slot core.home.role),
registered in HelpdeskConfig.ready: a member's open requests and those waiting for its answer;
the technician's queue and what is about to breach. Each panel reads a fixed number of queries."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.db.models import Count, Q
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from mutualis.accounts.models import Role
from mutualis.accounts.requests import signed_in
from mutualis.core.panels import panel_register
from mutualis.helpdesk import selectors
from mutualis.helpdesk.enums import OPEN_STATUSES, PendingReason, Status
from mutualis.helpdesk.member_list import member_rows
from mutualis.helpdesk.models import Ticket
from mutualis.helpdesk.sla_display import SlaReader, priority_label

SHOWN = 5  # rows a home panel lists; the link leads to the rest
ROW_COLUMNS = (
    "reference", "title", "status", "pending_reason", "priority", "ttr_due_at", "ttr_breached", "tto_breached",
    "ttr_budget_s", "pending_since", "calendar_id", "opened_at", "collectivity_id",
)  # fmt: skip


def is_member(request: HttpRequest) -> bool:
    """A member's manager (its collectivity's requests) or agent (its own); not elected officials,
    whose home is the service report."""
    user = request.user
    return user.is_authenticated and not user.is_superuser and user.role in {Role.MEMBER_MANAGER, Role.MEMBER_AGENT}


def is_technician(request: HttpRequest) -> bool:
    user = request.user
    return user.is_authenticated and not user.is_superuser and user.role == Role.OPERATOR_STAFF


def member_requests(request: HttpRequest) -> dict[str, Any]:
    """The member's open requests, soonest due first, and those pending for the requester: two
    queries for the rows, one for the counts."""
    actor = signed_in(request)
    visible = Ticket.objects.visible_to(actor).filter(status__in=OPEN_STATUSES)
    waiting = Q(status=Status.PENDING, pending_reason=PendingReason.REQUESTER)
    counts = visible.aggregate(open=Count("pk"), waiting=Count("pk", filter=waiting))
    rows = visible.only(*ROW_COLUMNS).order_by("ttr_due_at", "-opened_at", "-id")
    now = timezone.now()
    index = reverse("helpdesk:index")
    return {
        "open_count": counts["open"],
        "waiting_count": counts["waiting"],
        "open_rows": member_rows(rows[:SHOWN], now),
        "waiting_rows": member_rows(rows.filter(waiting)[:SHOWN], now),
        "index_url": index,
        "waiting_url": f"{index}?{urlencode({'status': Status.PENDING})}",
        "whole_collectivity": actor.role == Role.MEMBER_MANAGER,
    }


def technician_queue(request: HttpRequest) -> dict[str, Any]:
    """The technician's own open tickets in the queue's order and the tickets about to breach or
    breached: one count query over the open tickets (selectors.queue_counts), two for the rows."""
    actor = signed_in(request)
    now = timezone.now()
    views = {key: selectors.queue_filter(actor=actor, view=key, now=now) for key in ("mine", "at_risk", "breached")}
    counts = selectors.queue_counts(actor=actor, views=views)
    reader = SlaReader(now)
    base = Ticket.objects.visible_to(actor).only(*ROW_COLUMNS).order_by("-priority", "ttr_due_at", "-opened_at", "-id")

    def rows(view: str) -> list[dict[str, Any]]:
        # The most pressing first: at risk by due date, then by priority.
        tickets = base.filter(views[view])
        if view == "at_risk":
            tickets = tickets.order_by("ttr_due_at", "-priority", "-id")
        return [{"ticket": t, "priority": priority_label(t.priority), "sla": reader.state(t)} for t in tickets[:SHOWN]]

    index = reverse("helpdesk:index")
    return {
        "counts": counts,
        "mine_rows": rows("mine"),
        "at_risk_rows": rows("at_risk"),
        "mine_url": f"{index}?view=mine",
        "at_risk_url": f"{index}?view=at_risk",
        "breached_url": f"{index}?view=breached",
    }


def register() -> None:
    panel_register(
        "core.home.role",
        order=10,
        template="helpdesk/panels/home_member.html",
        context=member_requests,
        visible=is_member,
    )
    panel_register(
        "core.home.role",
        order=10,
        template="helpdesk/panels/home_technician.html",
        context=technician_queue,
        visible=is_technician,
    )
