"""The retention job is registered with the scheduler, nightly, and claims tickets past those
another transaction holds (PostgreSQL: SKIP LOCKED)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections, transaction

from mutualis.core.scheduler import Daily, registered_jobs
from mutualis.helpdesk.models import Ticket
from mutualis.privacy.models import RetentionKind, RetentionRule
from mutualis.privacy.pseudonyms import NEUTRAL_TEXT
from mutualis.privacy.retention import retention_apply
from mutualis.privacy.tests.helpers import at, closed_ticket


def test_it_registers_the_nightly_job():
    [job] = [job for job in registered_jobs() if job.name == "privacy_apply_retention"]
    assert job.command == "privacy_apply_retention" and job.period == Daily(3, 30)


@pytest.mark.django_db(transaction=True)
def test_it_skips_a_ticket_another_transaction_holds(world):
    if connection.vendor != "postgresql":
        pytest.skip("row locks: PostgreSQL only (SQLite locks the whole database)")
    held, free = closed_ticket(world, opened=at(2021, 11, 2)), closed_ticket(world, opened=at(2021, 11, 9))
    locked, release = threading.Event(), threading.Event()

    def hold() -> None:
        try:
            with transaction.atomic():
                Ticket.objects.select_for_update().get(pk=held.pk)
                locked.set()
                release.wait(10)
        finally:
            connections.close_all()

    thread = threading.Thread(target=hold)
    thread.start()
    try:
        assert locked.wait(10)
        [outcome] = retention_apply(now=at(2026, 12, 5), kinds=[RetentionKind.CLOSED_TICKETS])
    finally:
        release.set()
        thread.join()
    assert outcome.count == 1
    assert Ticket.objects.get(pk=free.pk).title == NEUTRAL_TEXT
    assert Ticket.objects.get(pk=held.pk).title != NEUTRAL_TEXT
    # the next run takes it
    assert retention_apply(now=at(2026, 12, 5), kinds=[RetentionKind.CLOSED_TICKETS])[0].count == 1
    assert RetentionRule.objects.get(kind=RetentionKind.CLOSED_TICKETS).last_run_count == 1
