"""Bodies and mandates: replacing a titular keeps who sat when; ending a mandate keeps its reason."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from mutualis.core.models import AuditEntry
from mutualis.governance import selectors, services
from mutualis.governance.models import Mandate
from mutualis.governance.tests.conftest import at

pytestmark = pytest.mark.django_db


def test_it_replaces_a_titular_and_keeps_the_history(committee):
    chloe = committee.members[2]

    new = services.mandate_replace(
        actor=committee.world.staff,
        mandate=chloe,
        person_name="Zoé  Nouvelle",
        start_on=dt.date(2026, 3, 1),
        reason="démission",
        email="zoe@example.org",
    )

    chloe.refresh_from_db()
    assert (chloe.end_on, chloe.end_reason) == (dt.date(2026, 2, 28), "démission")
    assert new.replaces == chloe and chloe.replaced_by == new
    assert (new.body, new.role, new.organisation, new.start_on) == (
        chloe.body,
        chloe.role,
        chloe.organisation,
        dt.date(2026, 3, 1),
    )
    assert new.person.full_name == "Zoé Nouvelle" and new.person.email == "zoe@example.org"
    seat = [
        (m.person.full_name, m.start_on, m.end_on)
        for m in selectors.mandate_history(body=committee.body)
        if m.organisation == chloe.organisation and m.role == chloe.role
    ]
    assert ("Chloé Titulaire", dt.date(2020, 7, 15), dt.date(2026, 2, 28)) in seat
    assert ("Zoé Nouvelle", dt.date(2026, 3, 1), None) in seat
    assert AuditEntry.objects.filter(object_id=str(new.pk), action="create").exists()


def test_it_convenes_who_sat_on_the_day_of_each_sitting(committee):
    services.mandate_replace(
        actor=committee.world.staff,
        mandate=committee.members[2],
        person_name="Zoé Nouvelle",
        start_on=dt.date(2026, 3, 1),
        reason="démission",
    )
    before = committee.plan(at(2026, 2, 26))
    after = committee.plan(at(2026, 3, 12))

    def names(sitting):
        return {m.person.full_name for m in selectors.sitting_members(sitting=sitting)}

    assert "Chloé Titulaire" in names(before) and "Zoé Nouvelle" not in names(before)
    assert "Zoé Nouvelle" in names(after) and "Chloé Titulaire" not in names(after)
    assert len(names(after)) == 5  # the substitute does not vote


def test_it_refuses_to_replace_a_mandate_twice_or_by_the_same_person(committee):
    chloe = committee.members[2]
    with pytest.raises(ValidationError, match="une autre personne"):
        services.mandate_replace(
            actor=committee.world.staff,
            mandate=chloe,
            person_name="Chloé Titulaire",
            start_on=dt.date(2026, 3, 1),
            reason="x",
        )
    services.mandate_replace(
        actor=committee.world.staff,
        mandate=chloe,
        person_name="Zoé Nouvelle",
        start_on=dt.date(2026, 3, 1),
        reason="décès",
    )
    with pytest.raises(ValidationError, match="déjà été remplacé"):
        services.mandate_replace(
            actor=committee.world.staff,
            mandate=chloe,
            person_name="Yves Autre",
            start_on=dt.date(2026, 4, 1),
            reason="x",
        )
    assert Mandate.objects.filter(replaces=chloe).count() == 1


def test_it_requires_a_reason_to_replace(committee):
    with pytest.raises(ValidationError, match="motif"):
        services.mandate_replace(
            actor=committee.world.staff,
            mandate=committee.members[2],
            person_name="Zoé Nouvelle",
            start_on=dt.date(2026, 3, 1),
            reason=" ",
        )


def test_it_ends_a_mandate_with_its_reason(committee):
    services.mandate_end(
        actor=committee.world.staff,
        mandate=committee.members[4],
        end_on=dt.date(2026, 5, 1),
        reason="fin de mandat municipal",
    )
    committee.members[4].refresh_from_db()
    assert committee.members[4].end_reason == "fin de mandat municipal"


@pytest.mark.parametrize("who", ["manager_a", "agent_a", "elected_a"])
def test_it_refuses_member_accounts_any_write(committee, who):
    with pytest.raises(Http404):
        services.body_create(actor=getattr(committee.world, who), data={"slug": "x", "name": "X", "kind": "bureau"})
    with pytest.raises(Http404):
        services.mandate_end(
            actor=getattr(committee.world, who), mandate=committee.members[0], end_on=dt.date(2026, 1, 1)
        )


def test_it_refuses_a_read_only_operator_account(committee, monkeypatch):
    from mutualis.accounts.models import User

    monkeypatch.setattr(User, "is_read_only", property(lambda self: True))
    with pytest.raises(PermissionDenied):
        services.body_update(actor=committee.world.staff, body=committee.body, data={"name": "Autre"})
    committee.body.refresh_from_db()
    assert committee.body.name == "Comité syndical"
