"""A fresh install's service levels: every incident and request has a policy by priority (GLPI's
six), the blocking incidents' rule the tightest; the defaults leave an operator's own alone."""

from __future__ import annotations

import datetime as dt
import importlib

import pytest
from django.apps import apps

from mutualis.helpdesk import config_services as cs
from mutualis.helpdesk import services, sla
from mutualis.helpdesk.models import SlaPolicy

DEFAULTS = importlib.import_module("mutualis.helpdesk.migrations.0009_default_policies")
# Monday 2 February 2026, 09:00 Paris.
MONDAY = dt.datetime(2026, 2, 2, 8, 0, tzinfo=dt.UTC)
PRIORITIES = range(1, 7)


def _budgets(policy: sla.PolicyRef) -> tuple[int | None, int | None]:
    spec = sla.sla_calendar(policy.calendar_id).spec
    return (
        sla.budget_seconds(spec, MONDAY, policy.tto_value, policy.tto_unit),
        sla.budget_seconds(spec, MONDAY, policy.ttr_value, policy.ttr_unit),
    )


@pytest.mark.django_db
@pytest.mark.parametrize("ticket_type", ["incident", "request"])
@pytest.mark.parametrize("priority", PRIORITIES)
def test_it_gives_every_incident_and_request_a_policy_by_priority(ticket_type, priority):
    policy = sla.policy_for(ticket_type=ticket_type, priority=priority, blocking=False)
    assert policy is not None
    assert (policy.ticket_type, policy.priority, policy.blocking_only) == (ticket_type, priority, False)
    assert policy.calendar_id == sla.default_calendar().pk
    assert policy.tto_value and policy.tto_unit == "hours"
    assert policy.ttr_value and policy.ttr_unit == "days"


@pytest.mark.django_db
@pytest.mark.parametrize("priority", PRIORITIES)
def test_it_makes_the_blocking_rule_the_tightest(priority):
    blocking = sla.policy_for(ticket_type="incident", priority=priority, blocking=True)
    assert blocking is not None and blocking.blocking_only
    tto, ttr = _budgets(blocking)
    assert ttr == 2 * 8 * 3600  # 2 business days of the default calendar
    for ticket_type in ("incident", "request"):
        general = sla.policy_for(ticket_type=ticket_type, priority=priority, blocking=False)
        general_tto, general_ttr = _budgets(general)
        assert ttr < general_ttr
        assert tto is not None and tto <= general_tto


def test_it_gives_a_request_filed_today_its_due_dates(world):
    ticket = services.ticket_create(
        actor=world.agent_a,
        collectivity=world.member_a,
        requester=None,
        ticket_type="request",
        title="Un accès",
        description="x",
        now=MONDAY,
    )
    assert ticket.policy is not None and ticket.policy.priority == ticket.priority == 3
    assert ticket.tto_due_at is not None and ticket.ttr_due_at is not None
    assert ticket.tto_due_at < ticket.ttr_due_at


def test_it_lets_the_matrix_give_glpis_major_priority(world):
    cells = dict(cs.priority_matrix())
    cells[(5, 5)] = 6
    cs.priority_matrix_update(actor=world.staff, cells=cells)
    ticket = services.ticket_create(
        actor=world.agent_a,
        collectivity=world.member_a,
        requester=None,
        ticket_type="incident",
        title="Tout est arrêté",
        description="x",
        urgency=5,
        impact=5,
        now=MONDAY,
    )
    assert ticket.priority == 6
    assert ticket.policy is not None and ticket.policy.priority == 6


@pytest.mark.django_db
def test_it_leaves_an_operators_own_policies_alone():
    SlaPolicy.objects.exclude(name=DEFAULTS.BLOCKING).delete()
    SlaPolicy.objects.create(name="Maison", calendar=sla.default_calendar(), ttr_value=4, ttr_unit="days")
    DEFAULTS.create(apps, None)
    assert sorted(SlaPolicy.objects.values_list("name", flat=True)) == sorted([DEFAULTS.BLOCKING, "Maison"])


@pytest.mark.django_db
def test_it_creates_the_defaults_once():
    count = SlaPolicy.objects.count()
    assert count == 13  # 2 types × 6 priorities, and the blocking incidents' rule
    DEFAULTS.create(apps, None)
    assert SlaPolicy.objects.count() == count
