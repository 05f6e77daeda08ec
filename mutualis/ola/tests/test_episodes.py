"""Vendor episodes recorded from the ticket's status changes: business time on the calendar, the
contract and commitment that apply, and none when no contract covers the application."""

from __future__ import annotations

import datetime as dt

from mutualis.helpdesk import services
from mutualis.helpdesk.enums import Action, DurationUnit, PendingReason
from mutualis.ola.enums import ClockState
from mutualis.ola.episodes import commitment_for, contract_for
from mutualis.ola.models import Commitment, VendorEpisode
from mutualis.ola.selectors import ticket_vendor_clocks
from mutualis.ola.tests.conftest import at, make_contract, open_ticket, resume, wait_vendor

HOUR = 3600


def test_it_records_each_vendor_period_in_business_time_with_one_still_running(world, ola):
    ticket = open_ticket(world, ola.application, now=at(10, 9))
    wait_vendor(world, ticket, at(10, 16))  # Tuesday 16:00
    resume(world, ticket, at(12, 10))  # Thursday 10:00, over the night and the 11 November holiday
    wait_vendor(world, ticket, at(12, 11))
    resume(world, ticket, at(13, 11))  # Friday 11:00
    wait_vendor(world, ticket, at(16, 9))  # Monday 09:00, still waiting

    episodes = list(VendorEpisode.objects.filter(ticket=ticket).order_by("started_at"))
    assert [(e.started_at, e.ended_at) for e in episodes] == [
        (at(10, 16), at(12, 10)),
        (at(12, 11), at(13, 11)),
        (at(16, 9), None),
    ]
    # 16:00–17:30 Tuesday, nothing on the holiday, 08:30–10:00 Thursday
    assert episodes[0].end_offset - episodes[0].start_offset == 3 * HOUR
    # 11:00–12:30 and 13:30–17:30 Thursday, 08:30–11:00 Friday
    assert episodes[1].end_offset - episodes[1].start_offset == 8 * HOUR
    assert all(e.contract == ola.contract and e.commitment == ola.commitment for e in episodes)
    assert all(e.budget_s == 4 * HOUR and e.vendor == ola.vendor for e in episodes)
    assert episodes[2].due_at == at(16, 14)  # 09:00 + 4 business hours: 3.5 h to 12:30, lunch excluded
    assert episodes[2].respond_due_at == at(16, 11)

    clocks = ticket_vendor_clocks(actor=world.staff, ticket=ticket, now=at(16, 15))
    assert [(c.elapsed_s, c.running, c.state) for c in clocks] == [
        (3 * HOUR, False, ClockState.IN_TIME),
        (8 * HOUR, False, ClockState.LATE),
        (5 * HOUR, True, ClockState.LATE),  # 09:00–12:30 and 13:30–15:00
    ]


def test_it_says_threatened_from_three_quarters_of_the_budget(world, ola):
    ticket = open_ticket(world, ola.application, now=at(16, 8, 30))
    wait_vendor(world, ticket, at(16, 9))
    states = [
        ticket_vendor_clocks(actor=world.staff, ticket=ticket, now=now)[0].state for now in (at(16, 11, 30), at(16, 12))
    ]
    assert states == [ClockState.IN_TIME, ClockState.THREATENED]  # 2.5 h then 3 h of 4


def test_it_ignores_a_wait_for_the_requester(world, ola):
    ticket = open_ticket(world, ola.application, now=at(16, 9))
    services.ticket_transition(
        actor=world.staff, ticket=ticket, action=Action.WAIT, pending_reason=PendingReason.REQUESTER, now=at(16, 10)
    )
    resume(world, ticket, at(16, 11))
    assert not VendorEpisode.objects.filter(ticket=ticket).exists()


def test_it_closes_the_episode_when_the_ticket_is_solved_while_waiting(world, ola):
    ticket = open_ticket(world, ola.application, now=at(16, 9))
    wait_vendor(world, ticket, at(16, 10))
    services.ticket_transition(actor=world.staff, ticket=ticket, action=Action.SOLVE, comment="ok", now=at(16, 11))
    episode = VendorEpisode.objects.get(ticket=ticket)
    assert episode.ended_at == at(16, 11)
    assert episode.ended_log.action == Action.SOLVE


def test_it_records_an_episode_without_contract_when_none_covers_the_application(world, ola):
    ticket = open_ticket(world, ola.bare_application, now=at(16, 9))
    wait_vendor(world, ticket, at(16, 10))
    resume(world, ticket, at(16, 11))
    episode = VendorEpisode.objects.get(ticket=ticket)
    assert (episode.contract, episode.commitment, episode.budget_s, episode.due_at) == (None, None, None, None)
    assert episode.vendor == ola.vendor  # the application's vendor
    assert episode.end_offset - episode.start_offset == HOUR
    clock = ticket_vendor_clocks(actor=world.staff, ticket=ticket, now=at(16, 12))[0]
    assert clock.state == ClockState.NO_COMMITMENT


def test_it_picks_the_current_contract_and_prefers_one_with_commitments(world, ola):
    expired = make_contract(
        "M-OLD", ola.application, ola.vendor, starts_on=dt.date(2023, 1, 1), ends_on=dt.date(2025, 12, 31)
    )
    Commitment.objects.create(contract=expired, fix_value=1, fix_unit=DurationUnit.DAYS)
    newer_without = make_contract("M-NEW", ola.application, ola.vendor, starts_on=dt.date(2026, 6, 1))
    assert contract_for(application_id=ola.application.pk, on=dt.date(2025, 6, 1)) == expired
    assert contract_for(application_id=ola.application.pk, on=dt.date(2026, 11, 16)) == ola.contract
    ola.commitment.delete()
    # neither has commitments now: the latest started wins
    assert contract_for(application_id=ola.application.pk, on=dt.date(2026, 11, 16)) == newer_without
    assert contract_for(application_id=ola.application.pk, on=dt.date(2027, 2, 1)) == newer_without  # end unknown
    assert contract_for(application_id=ola.bare_application.pk, on=dt.date(2026, 11, 16)) is None


def test_it_picks_the_most_specific_commitment(world, ola):
    typed = Commitment.objects.create(contract=ola.contract, ticket_type="incident", fix_value=2)
    exact = Commitment.objects.create(contract=ola.contract, ticket_type="incident", priority=5, fix_value=1)
    by_priority = Commitment.objects.create(contract=ola.contract, priority=4, fix_value=3)
    pick = commitment_for
    assert pick(contract=ola.contract, ticket_type="incident", priority=5) == exact
    assert pick(contract=ola.contract, ticket_type="incident", priority=4) == typed
    assert pick(contract=ola.contract, ticket_type="request", priority=4) == by_priority
    assert pick(contract=ola.contract, ticket_type="request", priority=3) == ola.commitment
    assert pick(contract=None, ticket_type="request", priority=3) is None


def test_it_measures_on_the_commitments_calendar_in_business_days(world, ola):
    ola.commitment.fix_value, ola.commitment.fix_unit = 1, DurationUnit.DAYS
    ola.commitment.save()
    ticket = open_ticket(world, ola.application, now=at(10, 9))
    wait_vendor(world, ticket, at(10, 16))
    episode = VendorEpisode.objects.get(ticket=ticket)
    assert episode.due_at == at(12, 16)  # one business day later, the holiday skipped
    assert episode.budget_s == 8 * HOUR


def test_members_see_no_vendor_clock(world, ola):
    ticket = open_ticket(world, ola.application, now=at(16, 9))
    wait_vendor(world, ticket, at(16, 10))
    assert ticket_vendor_clocks(actor=world.manager_a, ticket=ticket, now=at(16, 11)) == []
    assert VendorEpisode.objects.visible_to(world.manager_b).count() == 0
    assert VendorEpisode.objects.visible_to(world.staff).count() == 1
