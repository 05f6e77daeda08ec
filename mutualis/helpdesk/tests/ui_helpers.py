"""Shared helpers of the ticket pages' tests."""

from __future__ import annotations

from typing import Any

from mutualis.helpdesk import services
from mutualis.helpdesk.models import Ticket


def make_ticket(world: Any, *, side: str = "own", **kwargs: Any) -> Ticket:
    """A ticket of Alpha (requested by agent_a) or of Bravo (requested by manager_b)."""
    actor = world.agent_a if side == "own" else world.manager_b
    org = world.member_a if side == "own" else world.member_b
    data: dict[str, Any] = {"ticket_type": "incident", "title": "Plus de courrier", "description": "Rien ne part."}
    data.update(kwargs)
    return services.ticket_create(actor=actor, collectivity=org, requester=None, **data)
