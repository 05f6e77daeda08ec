"""Ticket creation's fast path: the SLA configuration kept in Django's cache as frozen values,
fresh after every change a service makes, and references numbered in one statement."""

from __future__ import annotations

import datetime as dt
from dataclasses import FrozenInstanceError
from zoneinfo import ZoneInfo

import pytest
from django.core.cache import cache

from mutualis.core.reference_data import ReferenceData
from mutualis.helpdesk import config_services as cs
from mutualis.helpdesk import services, sla
from mutualis.helpdesk.models import Calendar, SlaPolicy

PARIS = ZoneInfo("Europe/Paris")
MONDAY_10 = dt.datetime(2026, 3, 2, 10, 0, tzinfo=PARIS)


def _blocking_ticket(world, now=MONDAY_10):
    return services.ticket_create(
        actor=world.staff,
        collectivity=world.member_a,
        requester=world.agent_a,
        ticket_type="incident",
        title="Messagerie en panne",
        description="Plus rien ne part.",
        blocking=True,
        now=now,
    )


def test_it_reads_the_sla_configuration_once_per_version(world, django_assert_num_queries):
    sla.sla_config()
    with django_assert_num_queries(0):
        assert sla.policy_for(ticket_type="incident", priority=3, blocking=True).blocking_only
        assert services.priority_for(5, 5) == 5
    cache.clear()  # what the test fixture does between tests: the generation token is gone
    # The default calendar, the policies, their calendars, the matrix, and the one calendar's
    # spec (its hours and closures).
    with django_assert_num_queries(6):
        sla.sla_config()


def test_two_processes_agree_after_a_service_writes(world):
    # Two readers sharing Django's cache (two processes with Redis): what one service writes,
    # the next read anywhere sees, however long the values are kept.
    first, second = (ReferenceData(f"helpdesk:sla-config:{sla.SCHEMA}", sla._load_config) for _ in range(2))
    assert first.get() == second.get()
    cells = dict(cs.priority_matrix())
    cells[(1, 1)] = 4

    cs.priority_matrix_update(actor=world.staff, cells=cells)

    assert (1, 1, 4) in first.get().matrix
    assert (1, 1, 4) in second.get().matrix


def test_the_kept_configuration_is_frozen(world):
    config = sla.sla_config()
    with pytest.raises(FrozenInstanceError):
        config.policies[0].ttr_value = 1  # type: ignore[misc]
    with pytest.raises(FrozenInstanceError):
        config.default_calendar_id = 0  # type: ignore[misc]
    assert all(isinstance(part, tuple) for part in (config.matrix, config.policies, config.calendars))


def test_it_sees_a_new_policy_at_once(world):
    _blocking_ticket(world)
    calendar = sla.default_calendar()
    data = {"name": "Incidents P5", "ticket_type": "incident", "priority": 5, "blocking_only": True}
    data |= {"calendar": calendar, "tto_value": 1, "tto_unit": "hours", "ttr_value": 2, "ttr_unit": "hours"}
    data["escalation_percents"] = "50,100"
    policy = cs.policy_create(actor=world.staff, data=data)

    assert sla.policy_for(ticket_type="incident", priority=5, blocking=True).id == policy.pk


def test_it_sees_a_matrix_change_at_once(world):
    assert services.priority_for(1, 1) == 1
    cells = dict(cs.priority_matrix())
    cells[(1, 1)] = 4
    cs.priority_matrix_update(actor=world.staff, cells=cells)

    assert services.priority_for(1, 1) == 4


def test_it_uses_the_calendars_new_version_after_a_closure(world):
    first = _blocking_ticket(world)
    calendar = first.calendar
    cs.closure_add(
        actor=world.staff, calendar=calendar, label="Pont", start=dt.date(2026, 3, 3), end=dt.date(2026, 3, 3)
    )

    second = _blocking_ticket(world)

    fresh = Calendar.objects.get(pk=calendar.pk)
    assert second.calendar.updated_at == fresh.updated_at
    assert second.ttr_due_at == first.ttr_due_at + dt.timedelta(days=1)
    assert second.opened_offset == fresh.offsets().offset(MONDAY_10)


def test_it_ignores_a_deactivated_policy_and_picks_the_lowest_id_among_equals(world):
    calendar = sla.default_calendar()
    SlaPolicy.objects.update(active=False)  # the defaults of migration 0009 out of the way
    general, twin = (
        SlaPolicy.objects.create(name=name, calendar=calendar, ttr_value=5, ttr_unit="days") for name in ("B", "A")
    )
    sla.sla_config_changed()  # written around the services above
    assert sla.policy_for(ticket_type="request", priority=3, blocking=False).id == general.pk

    cs.policy_set_active(actor=world.staff, policy=general, active=False)

    assert sla.policy_for(ticket_type="request", priority=3, blocking=False).id == twin.pk


def test_it_numbers_a_new_years_references_from_one(world):
    now = dt.datetime(2031, 1, 2, 10, 0, tzinfo=PARIS)
    refs = [_blocking_ticket(world, now=now).reference for _ in range(3)]
    assert refs == ["2031-000001", "2031-000002", "2031-000003"]
