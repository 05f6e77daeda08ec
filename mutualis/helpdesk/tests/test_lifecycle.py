"""The lifecycle end to end on the service layer: service-level clocks stop while pending."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError

from mutualis.helpdesk import services
from mutualis.helpdesk.enums import Action, Status

PARIS = ZoneInfo("Europe/Paris")


def at(day: int, hour: int, month: int = 11) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, 0, tzinfo=PARIS)


def test_it_moves_the_resolution_due_date_by_the_business_time_spent_pending(world):
    ticket = services.ticket_create(
        actor=world.agent_a,
        collectivity=world.member_a,
        requester=None,
        ticket_type="incident",
        title="Plus de courrier",
        description="**urgent**",
        blocking=True,
        urgency=5,
        impact=5,
        now=at(27, 16),
    )
    assert ticket.reference == "2026-000001"
    assert ticket.priority == 5
    assert ticket.ttr_due_at == at(1, 16, month=12)  # Friday 16:00 + 2 business days = Tuesday 16:00

    services.ticket_assign(actor=world.staff, ticket=ticket, group=None, technician=world.staff, now=at(30, 9))
    services.ticket_transition(
        actor=world.staff, ticket=ticket, action=Action.WAIT, pending_reason="requester", now=at(30, 10)
    )
    services.followup_add(actor=world.agent_a, ticket=ticket, body="voici", now=at(30, 11))
    ticket.refresh_from_db()
    assert ticket.status == Status.IN_PROGRESS  # the requester's answer resumed it
    assert ticket.waiting_seconds == 3600
    assert ticket.ttr_due_at == at(1, 17, month=12)

    services.ticket_transition(actor=world.staff, ticket=ticket, action=Action.SOLVE, comment="fait", now=at(30, 12))
    services.ticket_transition(actor=world.agent_a, ticket=ticket, action=Action.ACCEPT, now=at(30, 13))
    ticket.refresh_from_db()
    assert ticket.status == Status.CLOSED
    assert not ticket.ttr_breached
    assert list(ticket.transitions.values_list("action", flat=True)) == ["assign", "wait", "resume", "solve", "accept"]


def test_it_refuses_a_transition_the_table_does_not_allow(world):
    ticket = services.ticket_create(
        actor=world.agent_a,
        collectivity=world.member_a,
        requester=None,
        ticket_type="request",
        title="Compte",
        description="Créer un compte",
        now=at(27, 10),
    )
    with pytest.raises(ValidationError, match="transition refusée"):
        services.ticket_transition(actor=world.agent_a, ticket=ticket, action=Action.ACCEPT)
    ticket.refresh_from_db()
    assert ticket.status == Status.NEW
    assert not ticket.transitions.exists()


def test_it_stores_business_offsets_whose_differences_are_the_durations(world):
    from mutualis.lib.business_time import business_seconds

    ticket = services.ticket_create(
        actor=world.agent_a,
        collectivity=world.member_a,
        requester=None,
        ticket_type="incident",
        title="Lent",
        description="x",
        now=at(27, 16),
    )
    services.ticket_assign(actor=world.staff, ticket=ticket, group=None, technician=world.staff, now=at(30, 9))
    services.ticket_transition(
        actor=world.staff, ticket=ticket, action=Action.SOLVE, comment="ok", now=at(1, 11, month=12)
    )
    ticket.refresh_from_db()
    spec = ticket.calendar.spec()
    assert ticket.taken_offset - ticket.opened_offset == business_seconds(spec, at(27, 16), at(30, 9))
    assert ticket.solved_offset - ticket.opened_offset == business_seconds(spec, at(27, 16), at(1, 11, month=12))
