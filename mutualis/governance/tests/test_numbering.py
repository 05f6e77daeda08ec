"""Deliberations are numbered at closing, in the year's series, without gap or repeat, even when
two sittings close at once."""

import threading
import time

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction

from mutualis.governance import services
from mutualis.governance.enums import SittingState
from mutualis.governance.models import AgendaItem, DeliberationCounter
from mutualis.governance.tests.conftest import at

pytestmark = pytest.mark.django_db


def vote_all(committee, sitting, *, adopt=True):
    for item in sitting.items.all():
        services.item_vote(
            actor=committee.world.staff,
            item=item,
            votes_for=5 if adopt else 0,
            votes_against=0 if adopt else 5,
            abstentions=0,
            not_voting=0,
        )


def test_it_numbers_adopted_deliberations_in_agenda_order_across_sittings(committee):
    march = committee.held(at(2026, 3, 10), items=3)
    vote_all(committee, march)
    services.item_vote(
        actor=committee.world.staff,
        item=march.items.get(position=2),
        votes_for=0,
        votes_against=5,
        abstentions=0,
        not_voting=0,
    )
    march = services.sitting_close(actor=committee.world.staff, sitting=march, minutes="Procès-verbal de mars")
    june = committee.held(at(2026, 6, 2))
    vote_all(committee, june)
    services.sitting_close(actor=committee.world.staff, sitting=june, minutes="Procès-verbal de juin")

    numbers = [
        (i.sitting.starts_at.month, i.position, i.number)
        for i in AgendaItem.objects.filter(sequence__isnull=False).order_by("sequence")
    ]
    assert numbers == [(3, 1, "2026-001"), (3, 3, "2026-002"), (6, 1, "2026-003"), (6, 2, "2026-004")]
    assert march.state == SittingState.CLOSED and march.minutes == "Procès-verbal de mars"
    assert AgendaItem.objects.get(sitting=march, position=2).number == ""  # rejected: no number


def test_it_starts_a_new_series_each_year(committee):
    for when in (at(2026, 12, 15), at(2027, 1, 20)):
        sitting = committee.held(when, items=1)
        vote_all(committee, sitting)
        services.sitting_close(actor=committee.world.staff, sitting=sitting, minutes="PV")
    assert sorted(i.number for i in AgendaItem.objects.filter(sequence__isnull=False)) == ["2026-001", "2027-001"]


def test_it_refuses_to_close_with_an_item_unvoted_or_without_minutes(committee):
    sitting = committee.held(at(2026, 3, 10))
    with pytest.raises(ValidationError, match="procès-verbal est vide"):
        services.sitting_close(actor=committee.world.staff, sitting=sitting, minutes=" ")
    with pytest.raises(ValidationError, match="points non votés : 1, 2"):
        services.sitting_close(actor=committee.world.staff, sitting=sitting, minutes="PV")
    assert not DeliberationCounter.objects.filter(last__gt=0).exists()


def test_it_refuses_to_close_twice(committee):
    sitting = committee.held(at(2026, 3, 10), items=1)
    vote_all(committee, sitting)
    services.sitting_close(actor=committee.world.staff, sitting=sitting, minutes="PV")
    with pytest.raises(ValidationError, match="seule une séance tenue"):
        services.sitting_close(actor=committee.world.staff, sitting=sitting, minutes="PV")
    assert AgendaItem.objects.filter(sequence__isnull=False).count() == 1


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks are PostgreSQL's")
@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_closings_get_distinct_consecutive_numbers(committee):
    first, second = committee.held(at(2026, 3, 10)), committee.held(at(2026, 3, 11))
    vote_all(committee, first)
    vote_all(committee, second)
    outcome: dict[str, object] = {}

    def close_second() -> None:
        try:
            services.sitting_close(actor=committee.world.staff, sitting=second, minutes="PV 2")
            outcome["closed"] = True
        except Exception as error:  # noqa: BLE001 — reported by the assertion below
            outcome["error"] = error
        finally:
            connection.close()

    with transaction.atomic():
        services.sitting_close(actor=committee.world.staff, sitting=first, minutes="PV 1")
        racer = threading.Thread(target=close_second)
        racer.start()
        time.sleep(0.5)
        assert racer.is_alive(), "the second closing should wait for the first one's counter lock"
    racer.join(timeout=10)

    assert outcome == {"closed": True}
    numbers = {(i.sitting_id, i.number) for i in AgendaItem.objects.filter(sequence__isnull=False)}
    assert numbers == {(first.pk, "2026-001"), (first.pk, "2026-002"), (second.pk, "2026-003"), (second.pk, "2026-004")}
