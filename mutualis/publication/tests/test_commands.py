"""The commands: a member's publication settings, and the chains' check."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from mutualis.core.models import AuditEntry
from mutualis.publication.models import PublicationLogEntry, PublicationSettings
from mutualis.publication.tests.helpers import publish, set_author


def test_it_sets_a_members_natures_and_author_audited(world):
    out = StringIO()
    call_command(
        "publication_settings", member="alpha", natures="1,2", author_name="Léa Petit", author_title="maire", stdout=out
    )
    row = PublicationSettings.objects.get(member=world.member_a)
    assert (row.natures, row.author_name, row.author_title) == ([1, 2], "Léa Petit", "maire")
    assert "natures publiées 1, 2" in out.getvalue()
    assert AuditEntry.objects.filter(object_id=str(row.pk), via="command").exists()
    with pytest.raises(CommandError):
        call_command("publication_settings", member="alpha", natures="1,x")
    with pytest.raises(CommandError):
        call_command("publication_settings", member="nobody", natures="1")


def test_it_reports_the_chains_and_fails_on_a_broken_one(world):
    set_author(world)
    for n in range(3):
        publish(world.member_a, f"A_{n}")
    out = StringIO()
    call_command("publication_verify", stdout=out)
    assert "alpha : 3 entrées, chaîne intacte" in out.getvalue()

    PublicationLogEntry.objects.filter(member=world.member_a, seq=2).delete()
    out = StringIO()
    with pytest.raises(CommandError):
        call_command("publication_verify", member="alpha", stdout=out)
    assert "CHAÎNE ROMPUE à l'entrée 2" in out.getvalue()
