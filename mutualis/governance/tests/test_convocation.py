"""The convocation: five clear days before the sitting (one in a stated emergency), weekends
counted, refused when late with the dates named; mailed to everyone seated, the date recorded."""

import datetime as dt

import pytest
from django.core import mail
from django.core.exceptions import ValidationError

from mutualis.governance import services
from mutualis.governance.enums import SittingState
from mutualis.governance.tests.conftest import PARIS, at

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("sent_on", "sitting_on", "days"),
    [
        (dt.date(2026, 3, 4), dt.date(2026, 3, 10), 5),  # Wed → Tue: Thu, Fri, Sat, Sun, Mon
        (dt.date(2026, 3, 5), dt.date(2026, 3, 10), 4),
        (dt.date(2026, 3, 6), dt.date(2026, 3, 9), 2),  # Fri → Mon: the weekend counts
        (dt.date(2026, 3, 9), dt.date(2026, 3, 10), 0),
        (dt.date(2026, 3, 10), dt.date(2026, 3, 10), 0),
    ],
)
def test_it_counts_clear_days_without_the_day_sent_nor_the_sitting_day(sent_on, sitting_on, days):
    assert services.clear_days(sent_on=sent_on, sitting_on=sitting_on) == days


def test_it_convenes_five_clear_days_ahead_and_mails_everyone_seated(committee, django_capture_on_commit_callbacks):
    sitting = committee.plan(at(2026, 3, 10))  # a Tuesday
    sent = dt.datetime(2026, 3, 4, 23, 30, tzinfo=PARIS)  # late Wednesday evening, Paris time

    with django_capture_on_commit_callbacks(execute=True):
        sitting = services.sitting_convene(actor=committee.world.staff, sitting=sitting, now=sent)

    assert sitting.state == SittingState.CONVENED
    assert sitting.convened_at == sent
    (message,) = mail.outbox
    assert message.to == []
    assert sorted(message.bcc) == sorted(m.person.email for m in committee.members)
    assert "Comité syndical" in message.subject and "10/03/2026 à 18:00" in message.subject
    assert "1. Point 1" in message.body and "2. Point 2" in message.body
    assert sitting.convocation_not_mailed == "Sam Suppléant"  # convened, but by post
    assert sitting.transitions.get().target == SittingState.CONVENED


def test_it_refuses_a_convocation_four_clear_days_ahead_naming_the_dates(committee):
    sitting = committee.plan(at(2026, 3, 10))

    with pytest.raises(ValidationError) as refused:
        services.sitting_convene(actor=committee.world.staff, sitting=sitting, now=at(2026, 3, 5, 9))

    text = " ".join(refused.value.messages)
    assert "envoyée le 05/03/2026 pour une séance le 10/03/2026" in text
    assert "soit 4 jours francs ; il en faut 5" in text
    assert "un envoi le 04/03/2026 au plus tard" in text
    sitting.refresh_from_db()
    assert sitting.state == SittingState.PLANNED and sitting.convened_at is None
    assert mail.outbox == []


def test_it_counts_the_weekend_as_clear_days(committee):
    # Sent on Wednesday for the Tuesday after: Thursday to Monday, a weekend in between, is five.
    sitting = committee.plan(at(2026, 3, 10))
    services.sitting_convene(actor=committee.world.staff, sitting=sitting, now=at(2026, 3, 4, 9))
    sitting.refresh_from_db()
    assert sitting.state == SittingState.CONVENED


def test_it_accepts_one_clear_day_when_the_emergency_is_stated(committee):
    sitting = committee.plan(at(2026, 3, 10))

    with pytest.raises(ValidationError, match="sauf urgence motivée"):
        services.sitting_convene(actor=committee.world.staff, sitting=sitting, now=at(2026, 3, 8, 9))
    sitting = services.sitting_convene(
        actor=committee.world.staff,
        sitting=sitting,
        now=at(2026, 3, 8, 9),
        emergency_reason="Attribution du marché avant l'expiration des offres",
    )

    assert sitting.state == SittingState.CONVENED
    assert sitting.emergency_reason.startswith("Attribution")


def test_it_refuses_even_an_emergency_the_day_before(committee):
    sitting = committee.plan(at(2026, 3, 10))
    with pytest.raises(ValidationError, match="trop tardive même en urgence"):
        services.sitting_convene(
            actor=committee.world.staff, sitting=sitting, now=at(2026, 3, 9, 9), emergency_reason="urgence"
        )


def test_it_refuses_to_convene_twice_or_to_change_the_agenda_once_sent(committee):
    sitting = committee.convened(at(2026, 3, 10))
    with pytest.raises(ValidationError, match="convoquée"):
        services.sitting_convene(actor=committee.world.staff, sitting=sitting, now=at(2026, 3, 1, 9))
    with pytest.raises(ValidationError, match="arrêté"):
        services.agenda_item_add(actor=committee.world.staff, sitting=sitting, data={"title": "Ajout tardif"})


def test_it_refuses_to_convene_an_empty_agenda(committee):
    sitting = committee.plan(at(2026, 3, 10), items=0)
    with pytest.raises(ValidationError, match="ordre du jour est vide"):
        services.sitting_convene(actor=committee.world.staff, sitting=sitting, now=at(2026, 3, 1, 9))
