"""Holding a sitting: quorum of members present in person (proxies do not count), one proxy per
holder, a new sitting three days later at least without quorum, votes within the voices present
and represented, the result by the votes cast."""

import pytest
from django.core.exceptions import ValidationError

from mutualis.governance import services
from mutualis.governance.enums import Attendance, SittingState, VoteResult
from mutualis.governance.models import Presence
from mutualis.governance.tests.conftest import at

pytestmark = pytest.mark.django_db

P, A, E, R = Attendance.PRESENT, Attendance.ABSENT, Attendance.EXCUSED, Attendance.REPRESENTED


def attendance(committee, *statuses, proxies=None):
    proxies = proxies or {}
    return {
        m.pk: (s, committee.members[proxies[n]].pk if n in proxies else None)
        for n, (m, s) in enumerate(zip(committee.members, statuses, strict=True))
    }


def test_it_reaches_quorum_with_a_majority_present(committee):
    sitting = committee.convened(at(2026, 3, 10))

    sitting = services.sitting_hold(
        actor=committee.world.staff, sitting=sitting, attendance=attendance(committee, P, P, P, A, E)
    )

    assert sitting.state == SittingState.HELD
    assert (sitting.in_office, sitting.present, sitting.represented, sitting.quorum) == (5, 3, 0, 3)
    assert Presence.objects.filter(sitting=sitting).count() == 5


def test_it_does_not_count_proxies_toward_quorum(committee):
    # Two present holding the proxies of two others: four voices, but only two present of five.
    sitting = committee.convened(at(2026, 3, 10))

    sitting = services.sitting_hold(
        actor=committee.world.staff,
        sitting=sitting,
        attendance=attendance(committee, P, P, R, R, A, proxies={2: 0, 3: 1}),
    )

    assert sitting.state == SittingState.NO_QUORUM
    assert (sitting.present, sitting.represented) == (2, 2)


def test_it_refuses_a_second_proxy_to_the_same_holder(committee):
    sitting = committee.convened(at(2026, 3, 10))

    with pytest.raises(ValidationError, match="Anne Présidente détient déjà le pouvoir de"):
        services.sitting_hold(
            actor=committee.world.staff,
            sitting=sitting,
            attendance=attendance(committee, P, P, P, R, R, proxies={3: 0, 4: 0}),
        )
    sitting.refresh_from_db()
    assert sitting.state == SittingState.CONVENED
    assert not Presence.objects.filter(sitting=sitting).exists()


def test_it_refuses_a_proxy_to_an_absent_member_or_without_holder(committee):
    sitting = committee.convened(at(2026, 3, 10))
    with pytest.raises(ValidationError, match="doit être présent"):
        services.sitting_hold(
            actor=committee.world.staff,
            sitting=sitting,
            attendance=attendance(committee, A, P, P, R, P, proxies={3: 0}),
        )
    with pytest.raises(ValidationError, match="indiquez qui détient son pouvoir"):
        services.sitting_hold(
            actor=committee.world.staff, sitting=sitting, attendance=attendance(committee, P, P, P, R, P)
        )


def test_it_refuses_a_mandate_foreign_to_the_body_and_a_missing_member(committee):
    from mutualis.testing import factories as f

    sitting = committee.convened(at(2026, 3, 10))
    stranger = f.MandateFactory()  # on another body
    entries = {**committee.everyone(), stranger.pk: (P, None)}
    with pytest.raises(ValidationError, match="ne siègent pas"):
        services.sitting_hold(actor=committee.world.staff, sitting=sitting, attendance=entries)
    # The substitute is convened but does not vote: it is not one of the members to record.
    with pytest.raises(ValidationError, match="ne siègent pas"):
        services.sitting_hold(
            actor=committee.world.staff,
            sitting=sitting,
            attendance={**committee.everyone(), committee.substitute.pk: (P, None)},
        )
    partial = committee.everyone()
    partial.pop(committee.members[4].pk)
    with pytest.raises(ValidationError, match="indiquez la présence de : Emma Titulaire"):
        services.sitting_hold(actor=committee.world.staff, sitting=sitting, attendance=partial)


def test_it_reconvenes_three_days_later_at_least_and_deliberates_without_quorum(committee):
    first = committee.convened(at(2026, 3, 10))
    first = services.sitting_hold(
        actor=committee.world.staff, sitting=first, attendance=attendance(committee, P, P, A, A, E)
    )
    assert first.state == SittingState.NO_QUORUM

    with pytest.raises(ValidationError, match="le 13/03/2026 au plus tôt"):
        committee.plan(at(2026, 3, 12), follows=first)
    second = committee.plan(at(2026, 3, 20), follows=first)
    assert [i.title for i in second.items.all()] == ["Point 1", "Point 2"]  # the agenda carried over
    second = services.sitting_convene(actor=committee.world.staff, sitting=second, now=at(2026, 3, 13, 9))
    second = services.sitting_hold(
        actor=committee.world.staff, sitting=second, attendance=attendance(committee, P, A, A, A, E)
    )

    assert second.state == SittingState.HELD  # one present of five: valid after a sitting without quorum
    with pytest.raises(ValidationError, match="déjà été reconvoquée"):
        committee.plan(at(2026, 3, 25), follows=first)


def test_it_counts_proxies_in_the_vote_and_refuses_more_votes_than_voices(committee):
    sitting = committee.convened(at(2026, 3, 10))
    sitting = services.sitting_hold(
        actor=committee.world.staff, sitting=sitting, attendance=attendance(committee, P, P, P, R, A, proxies={3: 0})
    )
    item = sitting.items.get(position=1)

    with pytest.raises(ValidationError, match="5 voix décomptées pour 4 votants possibles"):
        services.item_vote(
            actor=committee.world.staff, item=item, votes_for=3, votes_against=1, abstentions=1, not_voting=0
        )
    item = services.item_vote(
        actor=committee.world.staff, item=item, votes_for=3, votes_against=0, abstentions=1, not_voting=0
    )

    assert item.result == VoteResult.ADOPTED


def test_it_rejects_on_a_majority_against_and_lets_the_president_decide_a_tie(committee):
    sitting = committee.held(at(2026, 3, 10))
    first, second = sitting.items.order_by("position")

    assert (
        services.item_vote(
            actor=committee.world.staff, item=first, votes_for=1, votes_against=2, abstentions=2, not_voting=0
        ).result
        == VoteResult.REJECTED
    )
    with pytest.raises(ValidationError, match="partage égal"):
        services.item_vote(
            actor=committee.world.staff, item=second, votes_for=2, votes_against=2, abstentions=1, not_voting=0
        )
    assert (
        services.item_vote(
            actor=committee.world.staff,
            item=second,
            votes_for=2,
            votes_against=2,
            abstentions=1,
            not_voting=0,
            casting_vote="pour",
        ).result
        == VoteResult.ADOPTED
    )


def test_it_refuses_a_vote_before_the_sitting_is_held(committee):
    sitting = committee.convened(at(2026, 3, 10))
    with pytest.raises(ValidationError, match="séance tenue"):
        services.item_vote(
            actor=committee.world.staff,
            item=sitting.items.first(),
            votes_for=3,
            votes_against=0,
            abstentions=0,
            not_voting=0,
        )


def test_it_audits_the_attendance_in_words(committee):
    from mutualis.core.models import AuditEntry

    sitting = committee.convened(at(2026, 3, 10))
    services.sitting_hold(
        actor=committee.world.staff, sitting=sitting, attendance=attendance(committee, P, P, P, R, E, proxies={3: 0})
    )

    entry = AuditEntry.objects.filter(changes__has_key="présences").get()
    assert entry.changes["présences"][1] == [
        "Anne Présidente : présent",
        "Bruno Vice : présent",
        "Chloé Titulaire : présent",
        "David Titulaire : représenté (pouvoir) → Anne Présidente",
        "Emma Titulaire : excusé",
    ]
