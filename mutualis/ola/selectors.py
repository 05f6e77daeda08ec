"""Reads on vendor clocks: a contract's commitments, a ticket's vendor episodes with their state.
Vendor clocks are the operator's contract management: members see none (docs/ola.md)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone

from mutualis.accounts.models import User
from mutualis.core.tenancy import is_operator
from mutualis.helpdesk import sla
from mutualis.helpdesk.models import Ticket
from mutualis.ola.enums import THREATENED_PERCENT, ClockState
from mutualis.ola.models import Commitment, VendorEpisode
from mutualis.procurement.models import Contract


def commitment_list(*, actor: User, contract: Contract) -> list[Commitment]:
    """The contract's commitments, for operator staff (one query); nothing for a member."""
    if not is_operator(actor):
        return []
    return list(Commitment.objects.filter(contract=contract).select_related("calendar"))


def clock_state(*, elapsed_s: int, budget_s: int | None, running: bool) -> ClockState:
    """In time, threatened (a running clock past THREATENED_PERCENT of its budget), or late."""
    if budget_s is None:
        return ClockState.NO_COMMITMENT
    if elapsed_s > budget_s:
        return ClockState.LATE
    if running and elapsed_s * 100 >= budget_s * THREATENED_PERCENT:
        return ClockState.THREATENED
    return ClockState.IN_TIME


@dataclass(frozen=True)
class VendorClock:
    episode: VendorEpisode
    elapsed_s: int
    running: bool
    state: ClockState

    @property
    def percent(self) -> int | None:
        budget = self.episode.budget_s
        return min(100, self.elapsed_s * 100 // budget) if budget else None


def ticket_vendor_clocks(*, actor: User, ticket: Ticket, now: dt.datetime | None = None) -> list[VendorClock]:
    """The ticket's vendor episodes, oldest first, each with the business time it ran (up to
    `now` for the running one) and its state. One query; nothing for a member."""
    if not is_operator(actor):
        return []
    now = now or timezone.now()
    episodes = (
        VendorEpisode.objects.visible_to(actor)
        .filter(ticket=ticket)
        .select_related("vendor", "contract", "commitment")
        .order_by("started_at", "id")
    )
    clocks = []
    for episode in episodes:
        running = episode.end_offset is None
        end = (
            episode.end_offset
            if episode.end_offset is not None
            else sla.sla_calendar(episode.calendar_id).offsets().offset(now)
        )
        elapsed = max(0, end - episode.start_offset)
        clocks.append(
            VendorClock(
                episode=episode,
                elapsed_s=elapsed,
                running=running,
                state=clock_state(elapsed_s=elapsed, budget_s=episode.budget_s, running=running),
            )
        )
    return clocks
