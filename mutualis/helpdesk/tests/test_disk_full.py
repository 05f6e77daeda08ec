"""Attachments on a media disk that fills up (a real 256 KiB tmpfs, mounted when the tests run as
root): the writer reads a French message, and nothing is half-written — no ticket, followup or
attachment row without its files, no file without its row, no truncated file."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from mutualis.core.models import AuditEntry
from mutualis.core.uploads import StorageFull
from mutualis.helpdesk import services
from mutualis.helpdesk.models import Attachment, Followup, Ticket
from mutualis.helpdesk.tests.ui_helpers import make_ticket

KIB = 1024


def files_in(folder: Path) -> list[str]:
    return sorted(str(path.relative_to(folder)) for path in folder.rglob("*") if path.is_file())


def upload(name: str, size: int) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, b"%PDF-1.4\n" + b"0" * (size - 9), content_type="application/pdf")


@pytest.fixture
def media_on_tiny_disk(tmp_path: Path, settings) -> Iterator[Path]:  # type: ignore[no-untyped-def]
    folder = tmp_path / "media"
    folder.mkdir()
    if os.geteuid() != 0:
        pytest.skip("tmpfs absent: mounting a tiny media filesystem needs root")
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(folder)], capture_output=True, text=True
    )
    if mounted.returncode:
        pytest.skip(f"tmpfs absent: mount refused ({mounted.stderr.strip()})")
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "mutualis.core.storage.MediaStorage", "OPTIONS": {"location": str(folder)}},
    }
    yield folder
    subprocess.run(["umount", str(folder)], check=True)


def test_a_ticket_whose_attachments_do_not_fit_is_not_created(world, media_on_tiny_disk):
    before = Ticket.objects.count(), Attachment.objects.count(), AuditEntry.objects.count()
    with pytest.raises(StorageFull) as caught:
        services.ticket_create(
            actor=world.agent_a,
            collectivity=world.member_a,
            requester=None,
            ticket_type="incident",
            title="Scanner en panne",
            description="Voir les pièces jointes.",
            attachments=[upload("a.pdf", 100 * KIB), upload("b.pdf", 100 * KIB), upload("c.pdf", 100 * KIB)],
        )
    assert "plus de place" in caught.value.message_dict["attachments"][0]
    assert (Ticket.objects.count(), Attachment.objects.count(), AuditEntry.objects.count()) == before
    assert files_in(media_on_tiny_disk) == []  # a.pdf and b.pdf deleted, c.pdf never whole


def test_a_followup_whose_attachments_do_not_fit_shows_the_form_again_with_why(client, world, media_on_tiny_disk):
    ticket = make_ticket(world)
    client.force_login(world.agent_a)
    response = client.post(
        reverse("helpdesk:followup", args=[ticket.reference]),
        {"body": "Les captures demandées", "attachments": [upload("1.pdf", 120 * KIB), upload("2.pdf", 150 * KIB)]},
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "Le serveur n&#x27;a plus de place pour enregistrer les pièces jointes" in page
    assert "Les captures demandées" in page  # what was typed is kept
    assert not Followup.objects.filter(ticket=ticket).exists()
    assert not Attachment.objects.filter(ticket=ticket).exists()
    assert files_in(media_on_tiny_disk) == []


def test_an_attachment_that_does_not_fit_is_refused_with_why_and_the_others_stay(client, world, media_on_tiny_disk):
    ticket = make_ticket(world)
    services.attachment_add(actor=world.agent_a, ticket=ticket, upload=upload("tient.pdf", 100 * KIB))
    client.force_login(world.agent_a)
    response = client.post(
        reverse("helpdesk:attachment_create", args=[ticket.reference]),
        {"attachments": [upload("trop-gros.pdf", 200 * KIB)]},
        follow=True,
    )
    assert "Le serveur n&#x27;a plus de place" in response.content.decode()
    assert [a.name for a in Attachment.objects.filter(ticket=ticket)] == ["tient.pdf"]
    assert files_in(media_on_tiny_disk) == [Attachment.objects.get(ticket=ticket).file.name]
