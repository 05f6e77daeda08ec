"""Writes on organisations and contacts: validation, who may write what, the audit trail."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from mutualis.core.models import AuditAction, AuditEntry
from mutualis.lib.identifiers import luhn_complete
from mutualis.members import services
from mutualis.members.cache import operator_label
from mutualis.members.models import Contact, Organisation, OrganisationKind
from mutualis.members.services import MEMBER_EDITABLE_FIELDS, OPERATOR_EDITABLE_FIELDS
from mutualis.testing import factories as f

pytestmark = pytest.mark.django_db


def counts():
    return Organisation.objects.count(), Contact.objects.count(), AuditEntry.objects.count()


def new_collectivity(**extra):
    siren = luhn_complete("21690999")
    return {
        "name": "Saint-Fons",
        "slug": "saint-fons",
        "kind": OrganisationKind.COMMUNE,
        "insee_code": "69199",
        "siren": siren,
        "siret": luhn_complete(siren + "0001"),
        **extra,
    }


def test_it_creates_a_collectivity_and_logs_every_field(world):
    organisation = services.collectivity_create(actor=world.staff, data=new_collectivity())

    organisation.refresh_from_db()
    assert organisation.insee_code == "69199"
    entry = AuditEntry.objects.get(action=AuditAction.CREATE, object_id=str(organisation.pk))
    assert entry.actor == world.staff
    assert entry.organisation_id == organisation.pk
    assert entry.changes["name"] == [None, "Saint-Fons"]
    assert entry.changes["insee_code"] == [None, "69199"]


@pytest.mark.parametrize(
    ("extra", "field", "fragment"),
    [
        ({"siret": "12345678901234"}, "siret", "clé de contrôle du SIRET"),
        ({"siret": "123"}, "siret", "14 chiffres"),
        ({"siret": luhn_complete("2169012340001")}, "siret", "doit commencer par le SIREN"),
        ({"siren": "216901230"}, "siren", "clé de contrôle du SIREN"),
        ({"insee_code": "6919"}, "insee_code", "code INSEE"),
        ({"insee_code": "2C004"}, "insee_code", "code INSEE"),
        ({"joined_on": "2020-01-01", "left_on": "2019-01-01"}, "left_on", "précède"),
    ],
)
def test_it_refuses_an_invalid_collectivity_and_writes_nothing(world, extra, field, fragment):
    before = counts()

    with pytest.raises(ValidationError) as caught:
        services.collectivity_create(actor=world.staff, data=new_collectivity(**extra))

    assert fragment in " ".join(caught.value.message_dict[field])
    assert counts() == before


def test_it_refuses_an_invalid_update_and_writes_nothing(world):
    before = counts()
    original = Organisation.objects.get(pk=world.member_a.pk).insee_code

    with pytest.raises(ValidationError) as caught:
        services.collectivity_update(actor=world.staff, organisation=world.member_a, data={"insee_code": "ABCDE"})

    assert "insee_code" in caught.value.message_dict
    assert counts() == before
    assert Organisation.objects.get(pk=world.member_a.pk).insee_code == original


def test_it_updates_a_collectivity_and_logs_before_and_after(world):
    population = world.member_a.population
    changes = services.collectivity_update(
        actor=world.staff, organisation=world.member_a, data={"name": "Alpha-sur-Rhône", "population": 12000}
    )

    assert changes == {"name": ["Alpha", "Alpha-sur-Rhône"], "population": [population, 12000]}
    world.member_a.refresh_from_db()
    assert world.member_a.name == "Alpha-sur-Rhône"
    entry = AuditEntry.objects.get(action=AuditAction.UPDATE)
    assert entry.changes == changes
    assert (entry.actor, entry.actor_label, entry.organisation_id) == (world.staff, "staff", world.member_a.pk)


def test_it_writes_nothing_when_nothing_changes(world):
    before = counts()
    changes = services.collectivity_update(actor=world.staff, organisation=world.member_a, data={"name": "Alpha"})
    assert changes == {}
    assert counts() == before


def test_it_lets_a_member_manager_edit_the_member_fields_of_their_own_organisation(world):
    data = {"website": "https://alpha.example.fr", "agents_count": 340, "notes": "Mairie annexe."}
    assert set(data) == set(MEMBER_EDITABLE_FIELDS)

    changes = services.collectivity_update(actor=world.manager_a, organisation=world.member_a, data=data)

    assert set(changes) == set(MEMBER_EDITABLE_FIELDS)
    world.member_a.refresh_from_db()
    assert world.member_a.agents_count == 340
    entry = AuditEntry.objects.get(action=AuditAction.UPDATE)
    assert entry.actor == world.manager_a
    assert entry.changes["agents_count"] == [None, 340]


@pytest.mark.parametrize("field", sorted(set(OPERATOR_EDITABLE_FIELDS) - set(MEMBER_EDITABLE_FIELDS)))
def test_it_refuses_identity_fields_to_a_member_manager(world, field):
    before = counts()
    value = {"parent": None}.get(field, "x")

    with pytest.raises(ValidationError) as caught:
        services.collectivity_update(actor=world.manager_a, organisation=world.member_a, data={field: value})

    assert field in str(caught.value)
    assert counts() == before


def test_it_answers_404_when_a_manager_edits_another_member(world):
    before = counts()
    with pytest.raises(Http404):
        services.collectivity_update(actor=world.manager_a, organisation=world.member_b, data={"notes": "pirate"})
    assert counts() == before
    world.member_b.refresh_from_db()
    assert world.member_b.notes == ""


def test_it_answers_404_when_an_agent_edits_their_own_organisation(world):
    with pytest.raises(Http404):
        services.collectivity_update(actor=world.agent_a, organisation=world.member_a, data={"notes": "x"})


def test_it_refuses_any_edit_to_an_elected_official(world):
    before = counts()
    with pytest.raises(PermissionDenied):
        services.collectivity_update(actor=world.elected_a, organisation=world.member_a, data={"notes": "x"})
    assert counts() == before


def test_it_refuses_collectivity_creation_to_members(world):
    before = counts()
    with pytest.raises(Http404):
        services.collectivity_create(actor=world.manager_a, data=new_collectivity())
    assert counts() == before


def test_it_adds_a_contact_and_logs_it(world):
    contact = services.contact_create(
        actor=world.manager_a,
        organisation=world.member_a,
        data={"full_name": "Camille Martin", "role": "dsi", "function": "DSI", "email": "cm@alpha.fr"},
    )

    assert contact.organisation == world.member_a
    entry = AuditEntry.objects.get(action=AuditAction.CREATE)
    assert entry.changes["full_name"] == [None, "Camille Martin"]
    assert entry.organisation_id == world.member_a.pk


def test_it_refuses_a_duplicate_contact_and_writes_nothing(world):
    f.ContactFactory(organisation=world.member_a, full_name="Camille Martin", function="DSI")
    before = counts()
    with pytest.raises(ValidationError):
        services.contact_create(
            actor=world.staff, organisation=world.member_a, data={"full_name": "Camille Martin", "function": "DSI"}
        )
    assert counts() == before


def test_it_refuses_an_invalid_contact_email(world):
    before = counts()
    with pytest.raises(ValidationError) as caught:
        services.contact_create(
            actor=world.staff, organisation=world.member_a, data={"full_name": "X", "email": "pas-un-courriel"}
        )
    assert "email" in caught.value.message_dict
    assert counts() == before


def test_it_deletes_a_contact_and_logs_what_it_was(world):
    contact = f.ContactFactory(organisation=world.member_a, full_name="Camille Martin")
    pk = contact.pk

    services.contact_delete(actor=world.manager_a, contact=contact)

    assert not Contact.objects.filter(pk=pk).exists()
    entry = AuditEntry.objects.get(action=AuditAction.DELETE)
    assert entry.object_id == str(pk)
    assert entry.changes["full_name"] == ["Camille Martin", None]
    assert entry.organisation_id == world.member_a.pk


@pytest.mark.parametrize("who", ["manager_b", "agent_a"])
def test_it_answers_404_for_contacts_of_an_organisation_one_may_not_edit(world, who):
    contact = f.ContactFactory(organisation=world.member_a)
    before = counts()
    actor = getattr(world, who)
    with pytest.raises(Http404):
        services.contact_create(actor=actor, organisation=world.member_a, data={"full_name": "Y"})
    with pytest.raises(Http404):
        services.contact_delete(actor=actor, contact=contact)
    assert counts() == before


def test_it_refuses_contact_writes_to_an_elected_official(world):
    contact = f.ContactFactory(organisation=world.member_a)
    with pytest.raises(PermissionDenied):
        services.contact_delete(actor=world.elected_a, contact=contact)
    assert Contact.objects.filter(pk=contact.pk).exists()


def test_it_updates_a_contact_and_logs_the_change(world):
    contact = f.ContactFactory(organisation=world.member_a, phone="")
    changes = services.contact_update(actor=world.manager_a, contact=contact, data={"phone": "04 72 00 00 00"})
    assert changes == {"phone": ["", "04 72 00 00 00"]}
    assert AuditEntry.objects.get(action=AuditAction.UPDATE).changes == changes


def test_it_drops_the_cached_operator_name_when_the_operator_is_renamed(world, django_capture_on_commit_callbacks):
    before = operator_label()
    assert before is not None
    assert before["name"] == world.operator.name
    with django_capture_on_commit_callbacks(execute=True):
        services.collectivity_update(actor=world.admin, organisation=world.operator, data={"name": "Syndicat renommé"})
    after = operator_label()
    assert after is not None
    assert after["name"] == "Syndicat renommé"
