"""Recording vendor episodes as the helpdesk logs status changes (registered in helpdesk.hooks by
OlaConfig.ready), and choosing the contract and commitment that apply to one.

The transition log gives the instants; the pending reason is not a column of the log, so the
episode is opened by the hook that sees the ticket's `pending_reason` at the moment the log row
is written, in the same transaction: an episode exists exactly when its log row does."""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, Q
from django.utils import timezone

from mutualis.catalog.models import Application
from mutualis.helpdesk import sla
from mutualis.helpdesk.enums import PendingReason, Status
from mutualis.helpdesk.models import Ticket, TransitionLog
from mutualis.lib.business_time import add_business_seconds
from mutualis.ola.models import Commitment, VendorEpisode
from mutualis.procurement.models import Contract


def contract_for(*, application_id: int | None, on: dt.date) -> Contract | None:
    """The maintenance contract covering an application on a day: among the contracts naming the
    application whose execution has begun (or whose start is unknown) and has not ended (or whose
    end is unknown), one with commitments first, then the latest started, then the latest
    registered. None: « aucun contrat de maintenance »."""
    if application_id is None:
        return None
    return (
        Contract.objects.filter(applications=application_id)
        .filter(Q(starts_on__isnull=True) | Q(starts_on__lte=on))
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=on))
        .annotate(commitments=Count("ola_commitments"))
        .order_by(
            "-commitments",  # any commitment at all sorts first
            "-starts_on",
            "-id",
        )
        .first()
    )


def commitment_for(*, contract: Contract | None, ticket_type: str, priority: int) -> Commitment | None:
    """The contract's most specific commitment for the ticket: type and priority beat type alone,
    which beats priority alone, which beats a commitment for any ticket; the oldest among equals."""
    if contract is None:
        return None
    candidates = [
        c
        for c in Commitment.objects.filter(contract=contract).order_by("id")
        if c.ticket_type in ("", ticket_type) and c.priority in (None, priority)
    ]
    return max(candidates, key=lambda c: (c.specificity(), -c.pk), default=None)


def episode_open(*, ticket: Ticket, row: TransitionLog) -> VendorEpisode:
    """The episode a vendor wait starts: its contract, commitment and due instants are fixed now."""
    day = timezone.localdate(row.created_at)
    contract = contract_for(application_id=ticket.application_id, on=day)
    commitment = commitment_for(contract=contract, ticket_type=ticket.ticket_type, priority=ticket.priority)
    config = sla.sla_config()
    calendar_id = commitment.calendar_id if commitment and commitment.calendar_id else config.default_calendar_id
    calendar = sla.sla_calendar(calendar_id)
    start = row.created_at
    budget = respond_due = due = None
    if commitment is not None:
        budget = sla.budget_seconds(calendar.spec, start, commitment.fix_value, commitment.fix_unit)
        due = add_business_seconds(calendar.spec, start, budget) if budget is not None else None
        respond = sla.budget_seconds(calendar.spec, start, commitment.respond_value, commitment.respond_unit)
        respond_due = add_business_seconds(calendar.spec, start, respond) if respond is not None else None
    vendor_id = vendor_for(ticket, contract)
    return VendorEpisode.objects.create(
        ticket=ticket,
        started_log=row,
        started_at=start,
        calendar_id=calendar_id,
        start_offset=calendar.offsets().offset(start),
        vendor_id=vendor_id,
        contract=contract,
        commitment=commitment,
        budget_s=budget,
        due_at=due,
        respond_due_at=respond_due,
    )


def vendor_for(ticket: Ticket, contract: Contract | None) -> int | None:
    """The vendor whose clock runs: the application's vendor when the contract names it as a
    holder (or there is no contract), else the contract's first holder by name."""
    application_vendor = (
        Application.objects.filter(pk=ticket.application_id).values_list("vendor_id", flat=True).first()
        if ticket.application_id
        else None
    )
    if contract is None:
        return application_vendor
    holders = list(contract.holders.order_by("name").values_list("id", flat=True))
    if application_vendor in holders or not holders:
        return application_vendor
    return holders[0]


def episode_close(*, ticket: Ticket, row: TransitionLog) -> int:
    """Close the ticket's running episode at this log row (0 when none was running)."""
    episode = VendorEpisode.objects.filter(ticket=ticket, ended_at__isnull=True).order_by("-id").first()
    if episode is None:
        return 0
    offsets = sla.sla_calendar(episode.calendar_id).offsets()
    episode.ended_log = row
    episode.ended_at = row.created_at
    episode.end_offset = max(episode.start_offset, offsets.offset(row.created_at))
    episode.save(update_fields=["ended_log", "ended_at", "end_offset"])
    return 1


def on_transition(ticket: Ticket, row: TransitionLog) -> None:
    """The helpdesk's after-transition hook: leaving « en attente » ends a running vendor
    episode; entering it for the vendor starts one."""
    if row.from_status == Status.PENDING:
        episode_close(ticket=ticket, row=row)
    if row.to_status == Status.PENDING and ticket.pending_reason == PendingReason.VENDOR:
        episode_open(ticket=ticket, row=row)
