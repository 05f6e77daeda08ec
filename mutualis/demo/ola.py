"""The vendor clocks' part of the demo: commitments on the demo's maintenance contracts (run by
`load_demo`), and the vendor episodes of the generated helpdesk history (run by
`demo_generate_tickets` after the history is written).

The generator already puts some tickets « en attente de l'éditeur » (its `_plan`: 40 % of the
pending periods, resumed by the technician; a wait for the requester is resumed by the requester).
Its rows are bulk inserted, so no transition hook runs: the episodes are derived here from the
log with that same rule, which changes none of the history's figures."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from mutualis.helpdesk import sla
from mutualis.helpdesk.enums import Action, DurationUnit, PendingReason, Status
from mutualis.helpdesk.models import Ticket, TransitionLog
from mutualis.lib.business_time import add_business_seconds
from mutualis.ola.episodes import commitment_for, contract_for, vendor_for
from mutualis.ola.models import Commitment, VendorEpisode
from mutualis.procurement.models import Contract

H, D = DurationUnit.HOURS, DurationUnit.DAYS
# contract code → commitments (ticket type, priority, respond (value, unit), fix (value, unit))
COMMITMENTS: dict[str, list[tuple[str, int | None, tuple[int, str], tuple[int, str]]]] = {
    code: [
        ("incident", 5, (2, H), (8, H)),
        ("incident", 4, (4, H), (2, D)),
        ("incident", None, (1, D), (3, D)),
        ("", None, (2, D), (5, D)),
    ]
    for code in ("2022M01", "2022M02", "2022M04", "2022M06", "2022M09", "22TN002")
}


def load_ola() -> None:
    """The commitments, idempotent: a contract that is not in the register is left out."""
    contracts = {c.code: c for c in Contract.objects.filter(code__in=COMMITMENTS)}
    for code, rows in COMMITMENTS.items():
        contract = contracts.get(code)
        if contract is None:
            continue
        for ticket_type, priority, (respond, respond_unit), (fix, fix_unit) in rows:
            Commitment.objects.update_or_create(
                contract=contract,
                ticket_type=ticket_type,
                priority=priority,
                defaults={
                    "respond_value": respond,
                    "respond_unit": respond_unit,
                    "fix_value": fix,
                    "fix_unit": fix_unit,
                },
            )


def record_generated_episodes(prefix: str) -> int:
    """Vendor episodes of the generated tickets (external id starting with `prefix`): a wait
    whose next status change is not the requester's, or the wait of a ticket still « en attente
    de l'éditeur ». Replaces those of a previous run; returns how many."""
    generated = Ticket.objects.filter(external_id__startswith=prefix)
    VendorEpisode.objects.filter(ticket__in=generated.values("pk")).delete()
    waited = TransitionLog.objects.filter(ticket__in=generated.values("pk"), action=Action.WAIT).values("ticket_id")
    rows = list(
        TransitionLog.objects.filter(ticket__in=waited)
        .select_related("ticket")
        .order_by("ticket_id", "created_at", "id")
    )
    config = sla.sla_config()
    calendar = sla.sla_calendar(config.default_calendar_id)
    offsets = calendar.offsets()
    contracts: dict[tuple[int | None, dt.date], Contract | None] = {}
    episodes = []
    for index, row in enumerate(rows):
        if row.action != Action.WAIT:
            continue
        ticket = row.ticket
        following = rows[index + 1] if index + 1 < len(rows) and rows[index + 1].ticket_id == row.ticket_id else None
        if following is None:
            if not (ticket.status == Status.PENDING and ticket.pending_reason == PendingReason.VENDOR):
                continue
        else:
            # A reassignment may end the wait before the RESUME the generator planned: the first
            # RESUME after the wait says who was awaited.
            resumed = next(
                (r for r in rows[index + 1 :] if r.ticket_id != row.ticket_id or r.action == Action.RESUME), None
            )
            if resumed is not None and resumed.ticket_id == row.ticket_id and resumed.actor_id == ticket.requester_id:
                continue
        day = timezone.localdate(row.created_at)
        key = (ticket.application_id, day)
        if key not in contracts:
            contracts[key] = contract_for(application_id=ticket.application_id, on=day)
        contract = contracts[key]
        commitment = commitment_for(contract=contract, ticket_type=ticket.ticket_type, priority=ticket.priority)
        budget = (
            sla.budget_seconds(calendar.spec, row.created_at, commitment.fix_value, commitment.fix_unit)
            if commitment
            else None
        )
        episodes.append(
            VendorEpisode(
                ticket=ticket,
                started_log=row,
                ended_log=following,
                started_at=row.created_at,
                ended_at=following.created_at if following else None,
                calendar_id=calendar.id,
                start_offset=offsets.offset(row.created_at),
                end_offset=offsets.offset(following.created_at) if following else None,
                vendor_id=vendor_for(ticket, contract),
                contract=contract,
                commitment=commitment,
                budget_s=budget,
                due_at=add_business_seconds(calendar.spec, row.created_at, budget) if budget is not None else None,
            )
        )
    VendorEpisode.objects.bulk_create(episodes, batch_size=500)
    return len(episodes)
