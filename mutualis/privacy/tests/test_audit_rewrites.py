"""core.audit's rewrites for personal data, on the engine the tests run on (SQLite and PostgreSQL
store JSON differently: SQLite escapes accents, PostgreSQL's jsonb does not)."""

from __future__ import annotations

from mutualis.core.audit import audit_drop_keys, audit_pseudonymise, audit_record, audit_redact_objects
from mutualis.core.models import AuditAction
from mutualis.members.models import Contact


def test_it_finds_an_accented_name_in_any_entry_and_replaces_it_case_blind(world):
    about_other = audit_record(
        actor=world.staff,
        action=AuditAction.UPDATE,
        obj=world.member_a,
        changes={"note": ["", "Appeler LÉA MARTIN demain"], "nested": [None, {"who": ["Léa Martin"]}]},
    )
    untouched = audit_record(
        actor=world.staff, action=AuditAction.UPDATE, obj=world.member_b, changes={"note": ["", "Léa"]}
    )
    count = audit_pseudonymise(replacements={"Léa Martin": "Personne-1"})
    assert count == 1
    about_other.refresh_from_db(), untouched.refresh_from_db()
    assert about_other.changes == {"note": ["", "Appeler Personne-1 demain"], "nested": [None, {"who": ["Personne-1"]}]}
    assert about_other.actor_label == "staff" and about_other.action == AuditAction.UPDATE
    assert untouched.changes == {"note": ["", "Léa"]}  # a first name alone is not the person


def test_it_relabels_the_accounts_entries_and_its_objects_personal_keys(world):
    by_him = audit_record(actor=world.agent_a, action=AuditAction.LOGIN, obj=world.agent_a)
    contact = Contact.objects.create(organisation=world.member_a, full_name="Léa Martin", email="l@a.test")
    about = audit_record(
        actor=world.admin,
        action=AuditAction.CREATE,
        obj=contact,
        changes={"full_name": [None, "Léa Martin"], "phone": [None, "01"], "function": [None, ""]},
    )
    count = audit_pseudonymise(
        replacements={},
        actor_id=world.agent_a.pk,
        actor_label="personne-2",
        objects=[(Contact, [contact.pk])],
        object_keys={"full_name": "Personne-2", "phone": "", "function": "x"},
    )
    assert count == 2
    by_him.refresh_from_db(), about.refresh_from_db()
    assert by_him.actor_label == "personne-2" and by_him.actor_id == world.agent_a.pk
    assert about.changes == {"full_name": [None, "Personne-2"], "phone": [None, ""], "function": [None, ""]}


def test_it_drops_keys_and_redacts_objects_in_one_statement_each(world, django_assert_num_queries):
    failed = audit_record(
        actor=None,
        action=AuditAction.LOGIN_FAILED,
        object_repr="jd",
        changes={"username": [None, "jd"], "ip_address": [None, "192.0.2.1"], "kept": [1, 2]},
    )
    with django_assert_num_queries(1):
        assert (
            audit_drop_keys(entry_ids=[failed.pk], keys=["username", "ip_address", "absent"], clear_unlinked_text=True)
            == 1
        )
    failed.refresh_from_db()
    assert failed.changes == {"kept": [1, 2]} and failed.object_repr == ""
    entry = audit_record(
        actor=world.admin,
        action=AuditAction.UPDATE,
        obj=world.member_a,
        changes={"name": ["A", "B"], "slug": ["a", "b"]},
    )
    with django_assert_num_queries(1):  # the content type is cached by the entry written above
        assert (
            audit_redact_objects(
                model=type(world.member_a), object_ids=[world.member_a.pk], keys=["name", "missing"], text="X"
            )
            == 1
        )
    entry.refresh_from_db()
    assert entry.changes == {"name": ["X", "X"], "slug": ["a", "b"]}  # no key added, the others kept
    assert entry.object_repr.endswith(f"n° {world.member_a.pk}")


def test_it_replaces_a_term_only_as_a_whole(world):
    entry = audit_record(
        actor=world.staff,
        action=AuditAction.UPDATE,
        obj=world.member_a,
        changes={"note": ["jdupont2, Jean Dupont-Martin", "jdupont, « Jean Dupont », (jdupont)."]},
    )
    audit_pseudonymise(replacements={"jdupont": "p", "Jean Dupont": "P"})
    entry.refresh_from_db()
    assert entry.changes == {"note": ["jdupont2, Jean Dupont-Martin", "p, « P », (p)."]}
