"""The acts flow's publication step, through the engine with the flows' test doubles."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from mutualis.flows import engine
from mutualis.flows import services as flow_services
from mutualis.flows.enums import Action, FlowType, Port, State
from mutualis.flows.models import FileRole, FlowDocument
from mutualis.flows.ports import Outcome, RemoteState
from mutualis.flows.tests.fakes import Remote, bind_fakes, installed
from mutualis.publication.models import PublicationLogEntry, PublishedAct
from mutualis.publication.selectors import verify_chain
from mutualis.publication.tests.helpers import T0, pdf_bytes, set_author

MAIN, SIGNED, STAMPED = pdf_bytes("main"), pdf_bytes("signed"), pdf_bytes("stamped by the prefecture")


@pytest.fixture
def remote() -> Iterator[Remote]:
    with installed() as fakes:
        yield fakes


def upload(world, *, nature: int = 1, number: str = "2026_DE_001", steps=None) -> FlowDocument:
    member = world.member_a
    member.department, member.arrondissement = "069", "1"
    member.save(update_fields=["department", "arrondissement"])
    bind_fakes(member)
    return flow_services.document_create(
        actor=world.staff,
        member=member,
        flow=FlowType.ACTE,
        data={
            "number": number,
            "subject": "Tarifs de la cantine",
            "nature": nature,
            "decision_date": dt.date(2026, 2, 20),
            "classification": "7.1",
        },
        steps=steps or ["signature", "transmission", "publication", "archive"],
        main=SimpleUploadedFile("acte.pdf", MAIN, content_type="application/pdf"),
        attachments=[],
    )


def run_all(document: FlowDocument) -> str:
    state = ""
    for minutes in range(0, 600, 10):
        state = engine.document_advance(document.pk, now=T0 + dt.timedelta(minutes=minutes))
        if state in {State.TERMINE, State.ERREUR_PUBLICATION}:
            break
    return state


def answer_all(remote: Remote) -> None:
    remote.answer(Port.SIGNATURE, Outcome(RemoteState.DONE, proofs={"acte-signe.pdf": SIGNED, "bordereau.pdf": SIGNED}))
    remote.answer(
        Port.TRANSMISSION,
        Outcome(RemoteState.DONE, remote_status="4", proofs={"aracte.xml": b"<ARActe/>", "tampon.pdf": STAMPED}),
    )
    remote.answer(Port.ARCHIVE, Outcome(RemoteState.DONE, proofs={"reply.xml": b"<ArchiveTransferReply/>"}))


def test_it_publishes_the_signed_pdf_between_the_prefecture_and_the_archive(world, remote: Remote):
    set_author(world)
    document = upload(world)
    answer_all(remote)

    assert run_all(document) == State.TERMINE

    act = PublishedAct.objects.get()
    assert act.sha256 == hashlib.sha256(SIGNED).hexdigest() != hashlib.sha256(STAMPED).hexdigest()
    assert act.file.read() == SIGNED
    assert (act.number, act.nature, act.version, act.author_name, act.author_title) == (
        "2026_DE_001",
        1,
        1,
        "Claire Martin",
        "maire",
    )
    document.refresh_from_db()
    assert document.publication_remote_id == str(act.pk)
    states = list(document.log.values_list("to_state", flat=True))
    assert states.index(State.ACQUITER_TDT) < states.index(State.SEND_PUBLICATION) < states.index(State.SEND_ARCHIVE)
    assert State.PUBLICATION_OK in states
    receipt = document.files.get(role=FileRole.PROOF, step="publication")
    assert act.sha256 in receipt.file.read().decode()
    assert verify_chain(world.member_a).ok and PublicationLogEntry.objects.count() == 1


def test_it_publishes_the_main_pdf_when_the_act_was_not_signed(world, remote: Remote):
    set_author(world)
    document = upload(world, steps=["transmission", "publication"])
    answer_all(remote)
    remote.outcomes.pop(Port.SIGNATURE)

    assert run_all(document) == State.TERMINE
    assert PublishedAct.objects.get().sha256 == hashlib.sha256(MAIN).hexdigest()


def test_it_skips_the_publication_of_a_nature_the_member_does_not_publish(world, remote: Remote):
    set_author(world)  # 1, 2 and 5: an individual decision (3) is notified, not published
    document = upload(world, nature=3, number="2026_AI_001")
    answer_all(remote)

    assert run_all(document) == State.TERMINE

    assert not PublishedAct.objects.exists()
    document.refresh_from_db()
    assert "publication" not in document.steps
    assert "Acte individuel" in document.log.get(action=Action.SKIPPED).message


def test_it_stops_on_the_publication_error_when_the_author_is_unknown(world, remote: Remote):
    document = upload(world, steps=["publication"])  # no settings: the default natures, no author

    assert run_all(document) == State.ERREUR_PUBLICATION

    document.refresh_from_db()
    assert "auteur" in document.error_message
    assert not PublishedAct.objects.exists()


def test_a_second_submission_of_the_same_document_gives_the_same_publication(world, remote: Remote):
    from mutualis.flows.ports import FileToSend
    from mutualis.publication.adapter import PublicationAdapter

    set_author(world)
    document = upload(world, steps=["publication"])
    adapter = PublicationAdapter()
    first = adapter.submit(document, FileToSend("acte.pdf", MAIN), idempotency_key=f"{document.pk}:publication")
    again = adapter.submit(document, FileToSend("acte.pdf", MAIN), idempotency_key=f"{document.pk}:publication")

    assert first == again and PublishedAct.objects.count() == 1 and PublicationLogEntry.objects.count() == 1
