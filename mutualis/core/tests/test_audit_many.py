"""`audit_many`: a batch of entries, each as `audit_record` writes it, in one insert."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from mutualis.core.audit import AuditDraft, audit_many, audit_record
from mutualis.core.models import AuditAction, AuditEntry
from mutualis.members.models import Organisation

FIELDS = (
    "actor",
    "actor_label",
    "action",
    "content_type",
    "object_id",
    "object_repr",
    "changes",
    "organisation",
    "via",
)


def _values(entry: AuditEntry) -> dict[str, object]:
    return {name: getattr(entry, name) for name in FIELDS}


def test_it_writes_what_audit_record_writes(world):
    member = world.member_a
    single = audit_record(
        actor=world.admin, action=AuditAction.UPDATE, obj=member, changes={"name": ["A", "Alpha"]}, via="cli"
    )
    audit_many(
        actor=world.admin,
        entries=[
            AuditDraft(
                action=AuditAction.UPDATE,
                model=Organisation,
                object_id=member.pk,
                object_repr=str(member),
                changes={"name": ["A", "Alpha"]},
                organisation_id=member.pk,
            )
        ],
        via="cli",
    )
    batch = AuditEntry.objects.exclude(pk=single.pk).get()
    assert _values(batch) == _values(single)
    assert batch.created_at is not None


def test_it_writes_a_batch_in_one_insert(world):
    entries = [
        AuditDraft(action=AuditAction.IMPORT, object_id=f"mail:{n}", object_repr="x" * 400, changes={"n": [None, n]})
        for n in range(50)
    ]
    with CaptureQueriesContext(connection) as queries:
        assert audit_many(actor=None, entries=entries, via="mail") == 50
    assert len([q for q in queries.captured_queries if "INSERT" in q["sql"].upper()]) <= 1
    entry = AuditEntry.objects.get(object_id="mail:7")
    assert (entry.actor, entry.actor_label, entry.via, entry.changes) == (None, "système", "mail", {"n": [None, 7]})
    assert len(entry.object_repr) == 300  # trimmed as audit_record trims


def test_it_refuses_an_unknown_action_like_the_single_writer(world):
    with pytest.raises(ValueError, match="unknown audit action"):
        audit_many(actor=None, entries=[AuditDraft(action="teleport")])
    with pytest.raises(ValueError, match="unknown audit action"):
        audit_record(actor=None, action="teleport")
    assert not AuditEntry.objects.exists()


def test_it_writes_nothing_for_an_empty_batch(world):
    assert audit_many(actor=world.admin, entries=[]) == 0
    assert not AuditEntry.objects.exists()
