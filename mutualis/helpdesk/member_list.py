"""What « Mes demandes » shows beside its rows: how many requests the account sees in each status
(one grouped query, the same scope as the list), how many wait for the member's answer, and each
row's status and service level in words (sla_display, no query per row)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Count
from django.utils.translation import gettext as _

from mutualis.accounts.models import User
from mutualis.core.timefmt import local_datetime
from mutualis.helpdesk.enums import PendingReason, Status
from mutualis.helpdesk.models import Ticket
from mutualis.helpdesk.sla_display import SlaReader


def member_status_counts(*, actor: User) -> dict[str, Any]:
    """Per status, the requests the account sees (each links to the list filtered on it, so the
    count is the number of rows it lists), the total, and those waiting for the requester."""
    grouped = Ticket.objects.visible_to(actor).order_by().values("status", "pending_reason").annotate(n=Count("pk"))
    per_status: dict[str, int] = dict.fromkeys(Status.values, 0)
    waiting = 0
    for row in grouped:
        per_status[row["status"]] = per_status.get(row["status"], 0) + row["n"]
        if row["status"] == Status.PENDING and row["pending_reason"] == PendingReason.REQUESTER:
            waiting += row["n"]
    return {
        "statuses": [
            {"key": status.value, "label": status.label, "count": per_status[status.value]} for status in Status
        ],
        "total": sum(per_status.values()),
        "waiting": waiting,
    }


def member_rows(tickets: Any, now: dt.datetime) -> list[dict[str, Any]]:
    """Each request with its status in words (« en attente de votre réponse ») and its service
    level (« reste 3 h », « dépassé de 2 j »)."""
    reader = SlaReader(now)
    rows = []
    for ticket in tickets:
        if ticket.status == Status.PENDING and ticket.pending_reason == PendingReason.REQUESTER:
            status = _("en attente de votre réponse")
        elif ticket.status == Status.PENDING and ticket.pending_reason == PendingReason.VENDOR:
            status = _("en attente de l'éditeur")
        elif ticket.status == Status.SOLVED:
            status = _("résolu, à confirmer")
        else:
            status = ticket.get_status_display()
        rows.append(
            {
                "ticket": ticket,
                "status": status,
                "sla": reader.state(ticket),
                "opened": local_datetime(ticket.opened_at),
            }
        )
    return rows
