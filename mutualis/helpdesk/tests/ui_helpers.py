"""Shared helpers of the ticket pages' tests."""

from __future__ import annotations

from typing import Any

from mutualis.catalog.models import Subscription, SubscriptionStatus
from mutualis.helpdesk import services
from mutualis.helpdesk.models import Ticket


def make_ticket(world: Any, *, side: str = "own", **kwargs: Any) -> Ticket:
    """A ticket of Alpha (requested by agent_a) or of Bravo (requested by manager_b); the
    collectivity subscribes to the application it names, as the service requires."""
    actor = world.agent_a if side == "own" else world.manager_b
    org = world.member_a if side == "own" else world.member_b
    data: dict[str, Any] = {"ticket_type": "incident", "title": "Plus de courrier", "description": "Rien ne part."}
    data.update(kwargs)
    if data.get("application") is not None:
        Subscription.objects.get_or_create(
            collectivity=org, application=data["application"], defaults={"status": SubscriptionStatus.PRODUCTION}
        )
    return services.ticket_create(actor=actor, collectivity=org, requester=None, **data)
