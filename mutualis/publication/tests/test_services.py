"""Corrections as new versions, the chained log and its verification, the guards, the settings."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, connection, transaction

from mutualis.core.models import AuditEntry
from mutualis.publication import services
from mutualis.publication.models import PublicationLogEntry, PublicationSettings, PublishedAct
from mutualis.publication.selectors import verify_chain
from mutualis.publication.tests.helpers import T0, pdf_bytes, publish, set_author


@pytest.fixture
def member(world):
    set_author(world)
    return world.member_a


def test_a_correction_is_version_2_and_version_1_stays_online(world, member):
    first = publish(member, "2026_DE_001")

    second = services.act_correct(
        actor=world.manager_a,
        act=first,
        content=pdf_bytes("corrected"),
        file_name="corrige.pdf",
        reason="erreur matérielle dans l'annexe",
        now=T0 + dt.timedelta(days=1),
    )

    assert (second.version, second.replaces_id, second.number) == (2, first.pk, "2026_DE_001")
    assert PublishedAct.objects.filter(member=member).count() == 2
    first = PublishedAct.objects.get(pk=first.pk)
    assert first.replaced_by == second and first.file.read() == pdf_bytes("2026_DE_001")
    assert AuditEntry.objects.filter(object_id=str(second.pk), action="create").exists()
    assert [e.kind for e in PublicationLogEntry.objects.filter(member=member)] == ["publish", "correct"]
    with pytest.raises(ValidationError, match="déjà remplacée"):
        services.act_correct(
            actor=world.staff, act=first, content=pdf_bytes("x"), file_name="x.pdf", reason="r", now=T0
        )


def test_a_correction_is_refused_to_an_agent_and_to_another_members_manager(world, member):
    act = publish(member, "2026_DE_001")
    for actor in (world.agent_a, world.manager_b, world.elected_a):
        with pytest.raises(PermissionDenied):
            services.act_correct(actor=actor, act=act, content=pdf_bytes("x"), file_name="x.pdf", reason="r", now=T0)
    with pytest.raises(ValidationError, match="pas un PDF"):
        services.act_correct(actor=world.staff, act=act, content=b"hello", file_name="x.pdf", reason="r", now=T0)


def test_a_published_act_and_a_log_entry_are_never_modified(member):
    act = publish(member, "2026_DE_001")
    act.subject = "autre chose"
    with pytest.raises(ValueError):
        act.save()
    with pytest.raises(ValueError):
        PublicationLogEntry.objects.get().save()
    # Around the model too: the database refuses the UPDATE.
    for model in (PublishedAct, PublicationLogEntry):
        with pytest.raises(DatabaseError), transaction.atomic():
            model.objects.update(at=T0) if model is PublicationLogEntry else model.objects.update(subject="x")


def _disable_guard(table: str) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(f"DROP TRIGGER {table}_no_update")
        else:
            # Triggers off for the test's transaction only (rolled back with it), as a database owner could.
            cursor.execute("SET LOCAL session_replication_role = replica")


def test_the_chain_holds_then_names_an_altered_entry(world, member):
    for n in range(1, 5):
        publish(member, f"2026_DE_00{n}", at=T0 + dt.timedelta(hours=n))
    set_author(world, world.member_b)
    publish(world.member_b, "2026_DE_001")  # another member's chain, apart
    assert verify_chain(member).ok and verify_chain(member).entries == 4
    assert verify_chain(world.member_b).ok

    _disable_guard("publication_publicationlogentry")
    entry = PublicationLogEntry.objects.get(member=member, seq=2)
    PublicationLogEntry.objects.filter(pk=entry.pk).update(content=entry.content.replace('"version":1', '"version":3'))

    check = verify_chain(member)
    assert not check.ok and check.broken_seq == 2 and "altéré" in check.reason


def test_the_chain_names_a_removed_entry_in_the_middle_and_at_the_end(member):
    for n in range(1, 5):
        publish(member, f"2026_DE_00{n}")
    PublicationLogEntry.objects.filter(member=member, seq=3).delete()
    check = verify_chain(member)
    assert not check.ok and check.broken_seq == 3 and "manquante" in check.reason


def test_the_chain_names_its_last_entry_removed(member):
    for n in range(1, 4):
        publish(member, f"2026_DE_00{n}")
    PublicationLogEntry.objects.filter(member=member, seq=3).delete()
    check = verify_chain(member)
    assert not check.ok and check.broken_seq == 3 and "2026_DE_003" in check.reason


def test_the_chain_names_an_entry_rewritten_with_a_recomputed_digest(member):
    for n in range(1, 4):
        publish(member, f"2026_DE_00{n}")
    _disable_guard("publication_publicationlogentry")
    entry = PublicationLogEntry.objects.get(member=member, seq=2)
    content = entry.content.replace('"number":"2026_DE_002"', '"number":"2026_DE_009"')
    assert content != entry.content
    # A forger recomputes this entry's digest: the next entry no longer follows.
    PublicationLogEntry.objects.filter(pk=entry.pk).update(
        content=content, digest=services.chain_digest(entry.previous_digest, content)
    )
    check = verify_chain(member)
    assert not check.ok and check.broken_seq == 3


def test_the_settings_default_to_deliberations_regulatory_acts_and_budgets(world):
    assert services.settings_of(world.member_a).natures == [1, 2, 5]
    with pytest.raises(PermissionDenied):
        services.publication_settings_update(
            actor=world.agent_a, member=world.member_a, natures=[1], author_name="x", author_title="y"
        )
    with pytest.raises(ValidationError):
        services.publication_settings_update(
            actor=world.staff, member=world.member_a, natures=[9], author_name="x", author_title="y"
        )
    row = services.publication_settings_update(
        actor=world.manager_a,
        member=world.member_a,
        natures=[1, 3],
        author_name=" Léa Petit ",
        author_title="présidente",
    )
    assert PublicationSettings.objects.get(pk=row.pk).natures == [1, 3] and row.author_name == "Léa Petit"
    assert AuditEntry.objects.filter(object_id=str(row.pk), action="update").exists()
