"""Renewals and ends: dashboard buckets at 90, 60 and 30 days, and idempotent mail alerts."""

import datetime as dt
import io

import pytest
from django.core import mail
from django.core.management import call_command

from mutualis.procurement import selectors, services
from mutualis.procurement.models import ProcurementNotice
from mutualis.testing import factories as f

pytestmark = pytest.mark.django_db

TODAY = dt.date(2025, 3, 1)


@pytest.fixture
def register(world, make_contract):
    """Ends: A 01/05/2025 with renewals left (a decision is due), B 15/03/2025 without renewal,
    C 20/04/2025 without renewal, D far away, E already ended."""
    return {
        "A": make_contract(code="A", starts_on=dt.date(2024, 5, 2)),  # ends 01/05/2025, 61 d
        "B": make_contract(code="B", starts_on=dt.date(2024, 3, 16), renewals_allowed=0),  # ends 15/03/2025, 14 d
        "C": make_contract(code="C", starts_on=dt.date(2024, 4, 21), renewals_allowed=0),  # ends 20/04/2025, 50 d
        "D": make_contract(code="D", starts_on=dt.date(2025, 1, 1), renewals_allowed=0),  # ends 31/12/2025
        "E": make_contract(
            code="E", starts_on=dt.date(2024, 1, 1), notified_on=dt.date(2024, 1, 1), renewals_allowed=0
        ),  # ended 31/12/2024
    }


@pytest.fixture
def resources(world):
    service = f.OperatorServiceFactory(organisation=world.operator, slug="pole-ressources", name="Pôle ressources")
    return f.UserFactory(
        username="rh",
        organisation=world.operator,
        role="operator_staff",
        service=service,
        email="ressources@example.test",
    )


def test_it_buckets_upcoming_renewal_decisions_and_ends(world, register):
    events = selectors.upcoming_events(actor=world.manager_a, today=TODAY)

    assert [(e.contract.code, e.event, e.days_left, e.mark) for e in events] == [
        ("B", "end", 14, 30),
        ("C", "end", 50, 60),
        ("A", "renewal", 61, 90),
    ]
    buckets = selectors.events_by_mark(events)
    assert [[e.contract.code for e in buckets[m]] for m in (30, 60, 90)] == [["B"], ["C"], ["A"]]


def test_it_shows_an_end_once_the_renewals_are_used_or_refused(world, register):
    services.renewal_decide(
        actor=world.staff, contract=register["A"], decided_on=dt.date(2025, 2, 1), decision="not_renew"
    )

    events = selectors.upcoming_events(actor=world.staff, today=TODAY)

    assert ("A", "end") in [(e.contract.code, e.event) for e in events]


def test_it_mails_the_resources_team_once_per_mark(world, register, resources, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        call_command("procurement_notify", "--today", TODAY.isoformat(), stdout=io.StringIO())

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["ressources@example.test"]
    assert "- B " in message.body and "- C " in message.body and "- A " in message.body
    assert "décision de reconduction le 01/05/2025" in message.body
    assert ProcurementNotice.objects.count() == 3

    with django_capture_on_commit_callbacks(execute=True):
        call_command("procurement_notify", "--today", TODAY.isoformat(), stdout=io.StringIO())
        call_command("procurement_notify", "--today", TODAY.isoformat(), stdout=io.StringIO())
    assert len(mail.outbox) == 1  # nothing new crossed a mark

    with django_capture_on_commit_callbacks(execute=True):
        call_command("procurement_notify", "--today", "2025-03-10", stdout=io.StringIO())
    assert len(mail.outbox) == 2  # A is now 52 days away: it crossed the 60-day mark
    assert "- A " in mail.outbox[1].body and "- B " not in mail.outbox[1].body and "- C " not in mail.outbox[1].body

    with django_capture_on_commit_callbacks(execute=True):
        call_command("procurement_notify", "--today", "2025-04-01", stdout=io.StringIO())
        call_command("procurement_notify", "--today", "2025-04-01", stdout=io.StringIO())
    assert len(mail.outbox) == 3  # A and C crossed the 30-day mark, once
    assert "- A " in mail.outbox[2].body and "- C " in mail.outbox[2].body and "- B " not in mail.outbox[2].body


def test_it_sends_to_the_configured_addresses(world, register, settings, django_capture_on_commit_callbacks):
    settings.PROCUREMENT_NOTIFY_TO = ["marches@example.test"]

    with django_capture_on_commit_callbacks(execute=True):
        services.contract_alerts_send(today=TODAY)

    assert mail.outbox[0].to == ["marches@example.test"]


def test_it_sends_no_mail_and_records_nothing_when_the_transaction_rolls_back(world, register, resources):
    # Without the commit the on_commit callback never runs (pytest's transaction is rolled back).
    services.contract_alerts_send(today=TODAY)

    assert mail.outbox == []


def test_with_limit_the_alerts_left_go_with_the_next_run(
    world, register, resources, django_capture_on_commit_callbacks
):
    out = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("procurement_notify", "--today", TODAY.isoformat(), "--limit", "2", stdout=out)
        call_command("procurement_notify", "--today", TODAY.isoformat(), "--limit", "2", stdout=out)
        call_command("procurement_notify", "--today", TODAY.isoformat(), "--limit", "2", stdout=out)
    assert out.getvalue().splitlines() == [
        "alertes marchés : 2 échéance(s) signalée(s)",
        "alertes marchés : 1 échéance(s) signalée(s)",
        "alertes marchés : 0 échéance(s) signalée(s)",
    ]
    assert ProcurementNotice.objects.count() == 3
