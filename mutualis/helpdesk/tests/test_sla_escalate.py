"""The service-level sweep: one event and one mail per threshold, however many runs overlap."""

from __future__ import annotations

import contextlib
import datetime as dt
import threading

import pytest
from django.core import mail
from django.db import connection, connections
from django.utils import timezone

from mutualis.helpdesk import notifications, services, sla
from mutualis.helpdesk.enums import DurationUnit
from mutualis.helpdesk.models import SlaEvent, SlaPolicy, Ticket

# Monday 2 February 2026, 09:00 Paris: a working week without public holiday ahead.
OPENED = dt.datetime(2026, 2, 2, 8, 0, tzinfo=dt.UTC)


def _ticket(world) -> Ticket:
    """An incident measured by its own policy: 8 business hours to resolve, told at 50/75/100 %."""
    world.staff.email = "staff@mutualis.test"
    world.staff.save(update_fields=["email"])
    SlaPolicy.objects.update(active=False)
    SlaPolicy.objects.create(
        name="Essai",
        ticket_type="incident",
        calendar=sla.default_calendar(),
        tto_value=None,
        ttr_value=8,
        ttr_unit=DurationUnit.HOURS,
        escalation_percents="50,75,100",
    )
    sla.sla_config_changed()
    ticket = services.ticket_create(
        actor=world.agent_a,
        collectivity=world.member_a,
        requester=None,
        ticket_type="incident",
        title="Plus d'accès",
        description="x",
        group=world.staff.service,
        now=OPENED,
    )
    assert ticket.ttr_budget_s == 8 * 3600
    return ticket


def _escalation_mails() -> list[mail.EmailMessage]:
    return [m for m in mail.outbox if "Alerte de délai" in m.subject]


@pytest.mark.parametrize(
    ("hours_later", "levels"),
    [(1, []), (5, [50]), (7, [50, 75]), (10, [50, 75, 100])],
)
def test_it_records_each_threshold_once_over_repeated_runs(
    world, django_capture_on_commit_callbacks, hours_later, levels
):
    ticket = _ticket(world)
    mail.outbox.clear()
    # Monday 09:00 Paris + business hours (08:30–12:30, 13:30–17:30): 5 h → 15:00, 7 h → 17:00,
    # 10 h → Tuesday 11:00.
    at = {1: "2026-02-02T10:00", 5: "2026-02-02T15:00", 7: "2026-02-02T17:00", 10: "2026-02-03T11:00"}[hours_later]
    now = timezone.make_aware(dt.datetime.fromisoformat(at))
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            services.sla_escalate(now=now)
    assert sorted(SlaEvent.objects.filter(ticket=ticket).values_list("percent", flat=True)) == levels
    assert len(_escalation_mails()) == (1 if levels else 0)
    ticket.refresh_from_db()
    assert ticket.ttr_breached == (100 in levels)


def test_it_mails_once_per_threshold_as_time_goes_by(world, django_capture_on_commit_callbacks):
    ticket = _ticket(world)
    mail.outbox.clear()
    for at in ("2026-02-02T15:00", "2026-02-02T15:30", "2026-02-02T17:00", "2026-02-03T11:00", "2026-02-04T11:00"):
        for _ in range(2):
            with django_capture_on_commit_callbacks(execute=True):
                services.sla_escalate(now=timezone.make_aware(dt.datetime.fromisoformat(at)))
    assert sorted(SlaEvent.objects.filter(ticket=ticket).values_list("percent", flat=True)) == [50, 75, 100]
    assert [m.subject.startswith(f"[{ticket.reference}] Alerte de délai") for m in _escalation_mails()] == [True] * 3


def test_it_tells_nothing_for_an_event_another_run_recorded(world, django_capture_on_commit_callbacks, monkeypatch):
    """The other run committed after this one read the recorded levels: the insert finds the
    event there and no mail is queued for it."""
    ticket = _ticket(world)
    now = timezone.make_aware(dt.datetime(2026, 2, 2, 15, 0))
    calls: list[tuple[int, str]] = []
    monkeypatch.setattr(notifications, "notify", lambda t, event, **kw: calls.append((t.pk, event)))
    original_elapsed = sla.clock_elapsed

    def elapsed_then_other_run(ticket, spec, clock, at):  # the other run's insert lands here
        SlaEvent.objects.get_or_create(ticket=ticket, clock=clock, percent=50)
        return original_elapsed(ticket, spec, clock, at)

    monkeypatch.setattr(sla, "clock_elapsed", elapsed_then_other_run)
    assert services.sla_escalate(now=now) == 0
    assert calls == []
    assert SlaEvent.objects.filter(ticket=ticket).count() == 1


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_it_never_mails_twice_when_two_runs_overlap(world, monkeypatch):
    """Two sweeps at the same instant, in two connections: both get past their reads before either
    writes (a barrier in the clock computation), and still exactly one event per level and one
    mail are recorded."""
    ticket = _ticket(world)
    now = timezone.make_aware(dt.datetime(2026, 2, 3, 11, 0))  # 50, 75 and 100 % crossed
    calls: list[tuple[int, str]] = []
    lock = threading.Lock()

    def record(t, event, **kw):
        with lock:
            calls.append((t.pk, event))

    monkeypatch.setattr(notifications, "notify", record)
    barrier = threading.Barrier(2)
    original_elapsed = sla.clock_elapsed

    def elapsed_together(*args):
        # The other run skipped the locked ticket and never comes here: go on after the wait.
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait(timeout=3)
        return original_elapsed(*args)

    monkeypatch.setattr(sla, "clock_elapsed", elapsed_together)
    results: list[int] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            results.append(services.sla_escalate(now=now))
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert sorted(results) == [0, 3]
    assert sorted(SlaEvent.objects.filter(ticket=ticket).values_list("percent", flat=True)) == [50, 75, 100]
    assert calls == [(ticket.pk, "escalated")]
