"""Set-up shared by the publication tests: a member that publishes, acts put online."""

from __future__ import annotations

import datetime as dt

from mutualis.flows.enums import FlowType
from mutualis.flows.models import FlowDocument
from mutualis.members.models import Organisation
from mutualis.publication import services
from mutualis.publication.models import PublishedAct

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def pdf_bytes(tag: str) -> bytes:
    return b"%PDF-1.4\n% " + tag.encode() + b"\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def set_author(world, member: Organisation | None = None, natures=(1, 2, 5)) -> None:
    services.publication_settings_update(
        actor=world.staff,
        member=member or world.member_a,
        natures=natures,
        author_name="Claire Martin",
        author_title="maire",
    )


def publish(
    member: Organisation, number: str, *, nature: int = 1, content: bytes | None = None, at: dt.datetime = T0
) -> PublishedAct:
    """An act of `member` put online as the flow's step would (its flow document written directly)."""
    document = FlowDocument.objects.create(
        member=member,
        flow=FlowType.ACTE,
        steps=["publication"],
        number=number,
        subject=f"Objet de l'acte {number}",
        nature=nature,
        decision_date=dt.date(2026, 2, 20),
    )
    return services.act_publish(
        document=document, content=content or pdf_bytes(number), file_name=f"{number}.pdf", now=at
    )
