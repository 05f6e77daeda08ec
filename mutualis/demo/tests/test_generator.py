"""The demo history generator: calibrated volumes, subscribed applications only, exact offsets,
idempotent reruns that never touch real tickets."""

import datetime as dt
import random
from io import StringIO

import pytest
from django.core.management import call_command

from mutualis.catalog.models import SubscriptionStatus
from mutualis.demo.generator import PREFIX, generate
from mutualis.helpdesk import services, sla
from mutualis.helpdesk.models import Ticket, TicketSequence, TicketTask, TransitionLog
from mutualis.lib.business_time import business_seconds
from mutualis.quality.kpis import TZ, Month, compute
from mutualis.testing import factories as f

NOW = dt.datetime(2026, 11, 30, 18, 0, tzinfo=TZ)  # the end of November: twelve full months


@pytest.fixture
def catalogue(world):
    apps = [f.ApplicationFactory(slug=f"app-{i}", name=f"Application {i}") for i in range(6)]
    for app in apps[:4]:
        f.SubscriptionFactory(collectivity=world.member_a, application=app, status=SubscriptionStatus.PRODUCTION)
    for app in apps[3:5]:
        f.SubscriptionFactory(collectivity=world.member_b, application=app, status=SubscriptionStatus.PRODUCTION)
    f.SubscriptionFactory(collectivity=world.member_b, application=apps[0], status=SubscriptionStatus.PLANNED)
    return apps


def test_it_matches_the_reference_volumes_over_a_year(catalogue):
    result = generate(months=12, seed=42, now=NOW)
    counts = [n for _m, n in result.months]
    assert len(counts) == 12 and sum(counts) == Ticket.objects.count() == result.tickets
    assert 335 * 0.95 <= sum(counts) / 12 <= 335 * 1.05
    assert 436 * 0.93 <= max(counts) <= 436 * 1.07
    assert dict(result.months)["2026-09"] == max(counts)  # the September return
    assert dict(result.months)["2026-08"] < 0.7 * 335  # the summer dip
    rows = compute(first=Month(2025, 12), last=Month(2026, 11), by=["month"])
    assert [r["opened"] for r in rows] == counts  # the indicators see the same history
    assert all(r["ttr_median_s"] for r in rows)


def test_it_files_tickets_only_on_subscribed_applications(catalogue, world):
    generate(months=2, seed=1, now=NOW)
    pairs = set(Ticket.objects.values_list("collectivity__slug", "application__slug"))
    allowed = {("alpha", f"app-{i}") for i in range(4)} | {("bravo", "app-3"), ("bravo", "app-4")}
    assert pairs <= allowed and len(pairs) >= 4
    assert set(Ticket.objects.filter(collectivity=world.member_a).values_list("requester", flat=True)) <= {
        world.manager_a.pk,
        world.agent_a.pk,
    }
    assert set(Ticket.objects.exclude(technician=None).values_list("technician", flat=True)) <= {
        world.admin.pk,
        world.staff.pk,
    }


def test_it_writes_offsets_that_agree_with_business_seconds(catalogue):
    generate(months=3, seed=7, now=NOW)
    tickets = list(Ticket.objects.exclude(solved_at=None).select_related("calendar"))
    spec = sla.calendar_spec(tickets[0].calendar)
    for ticket in random.Random(3).sample(tickets, 60):
        assert ticket.solved_offset - ticket.opened_offset == business_seconds(spec, ticket.opened_at, ticket.solved_at)
        assert ticket.taken_offset - ticket.opened_offset == business_seconds(spec, ticket.opened_at, ticket.taken_at)
        assert ticket.opened_at <= ticket.taken_at <= ticket.solved_at
    blocking = Ticket.objects.filter(blocking=True).exclude(policy=None)
    assert blocking.exists() and not blocking.filter(ttr_budget_s=None).exists()
    assert TransitionLog.objects.filter(action="solve").count() >= len(tickets)
    assert TicketTask.objects.exists()
    closed = Ticket.objects.exclude(closed_at=None)
    share = closed.exclude(satisfaction=None).count() / closed.count()
    assert 0.2 < share < 0.4


def test_it_replaces_its_history_and_keeps_real_tickets(catalogue, world):
    real = services.ticket_create(
        actor=world.staff,
        collectivity=world.member_a,
        requester=world.agent_a,
        ticket_type="incident",
        title="vrai",
        description="d",
        now=dt.datetime(2026, 11, 2, 9, tzinfo=TZ),
    )
    first = generate(months=3, seed=5, now=NOW)
    counts = (Ticket.objects.count(), TransitionLog.objects.count(), TicketTask.objects.count())
    last = TicketSequence.objects.get(year=2026).last
    out = StringIO()
    second = generate(months=3, seed=5, now=NOW)
    assert second.deleted == first.tickets and second.months == first.months
    assert (Ticket.objects.count(), TransitionLog.objects.count(), TicketTask.objects.count()) == counts
    assert TicketSequence.objects.get(year=2026).last == last  # the numbers were given back
    assert Ticket.objects.filter(pk=real.pk, title="vrai").exists()
    assert Ticket.objects.exclude(external_id__startswith=PREFIX).count() == 1
    call_command("demo_generate_tickets", "--months", "1", "--seed", "5", stdout=out)
    assert "tickets sur 1 mois" in out.getvalue()
    assert Ticket.objects.filter(pk=real.pk).exists()


def test_it_gives_the_history_due_dates_queues_and_compliance(catalogue, world):
    from mutualis.helpdesk.enums import OPEN_STATUSES
    from mutualis.helpdesk.models import SlaEvent
    from mutualis.helpdesk.selectors import ticket_queue

    generate(months=3, seed=11, now=NOW)
    assert not Ticket.objects.filter(policy=None).exists()  # the default policies cover them all
    assert not Ticket.objects.filter(ttr_due_at=None).exists()
    rows = compute(first=Month(2026, 9), last=Month(2026, 11), by=["month"])
    for row in rows:
        assert 50 <= row["sla_tto_pct"] <= 100 and 50 <= row["sla_ttr_pct"] <= 100
        assert row["sla_ttr_pct"] < 100 or row["sla_tto_pct"] < 100  # a realistic history misses some
    at_risk = ticket_queue(actor=world.staff, view="at_risk", now=NOW)
    breached = ticket_queue(actor=world.staff, view="breached", now=NOW)
    assert at_risk.exists() and breached.exists()
    # The alerts escalation would have recorded are there, and a run at the same instant adds none.
    assert SlaEvent.objects.filter(ticket__status__in=OPEN_STATUSES).exists()
    assert services.sla_escalate(now=NOW) == 0
