"""The As@lae adapter against the local As@lae on loopback: SEDA 2.1 transfers, acknowledgement, reply."""

from __future__ import annotations

import hashlib
import time
from datetime import UTC, datetime

import pytest
import requests

from mutualis.flows.adapters.asalae import AsalaeArchive, pack
from mutualis.flows.adapters.base import ADAPTERS
from mutualis.flows.formats.seda import ArchiveDocument, ArchiveTransfer, build_archive_transfer
from mutualis.flows.localservers.asalae import AsalaeServer
from mutualis.flows.ports import FileToSend, RecoverableError, RemoteState, UnrecoverableError

ACT = FileToSend("acte.pdf", b"%PDF-1.7\n% acte\n%%EOF\n")
AR = FileToSend("ararte.xml", b"<?xml version='1.0'?><ARActe/>", mime="application/xml")


def transfer(message_id: str = "MUTUALIS-ACTES-000123", agency: str = "OPSN") -> bytes:
    return build_archive_transfer(
        ArchiveTransfer(
            message_id=message_id,
            date=datetime(2026, 1, 5, 9, 0, tzinfo=UTC),
            title="Délibération DEL2026_001",
            archival_agency="SAE-LOCAL",
            transferring_agency=agency,
            originating_agency="VILLE1",
            documents=(ArchiveDocument(title="Délibération DEL2026_001 - budget", files=(ACT, AR)),),
        )
    ).xml


def adapter(server: AsalaeServer, *, timeout: float = 5, **overrides: str) -> AsalaeArchive:
    config = {"url": server.url, "login": "mutualis", "password": "secret", "transferring_agency": "OPSN", **overrides}
    return AsalaeArchive.from_config(config, timeout=timeout)


def test_it_is_registered_as_an_archive_connector() -> None:
    assert ADAPTERS["asalae"] is AsalaeArchive
    assert AsalaeArchive.port == "archive"
    assert [s.name for s in AsalaeArchive.settings if s.secret] == ["password"]


def test_it_checks_the_connection(asalae_server: AsalaeServer) -> None:
    assert "2.1.0" in adapter(asalae_server).check()


def test_the_password_travels_as_its_sha256(asalae_server: AsalaeServer) -> None:
    plain = requests.get(f"{asalae_server.url}/versions", auth=("mutualis", "secret"), timeout=5)
    hashed = requests.get(
        f"{asalae_server.url}/versions", auth=("mutualis", hashlib.sha256(b"secret").hexdigest()), timeout=5
    )
    assert (plain.status_code, hashed.status_code) == (401, 200)


def test_a_transfer_is_acknowledged_then_accepted_with_reply_code_000(asalae_server: AsalaeServer) -> None:
    archive = adapter(asalae_server)
    remote_id = archive.submit(transfer(), (ACT, AR), message_id="MUTUALIS-ACTES-000123")

    received = asalae_server.transfers[("OPSN", remote_id)]
    assert received.files == {"acte.pdf": ACT.content, "ararte.xml": AR.content}
    waiting = archive.poll(remote_id)
    assert (waiting.state, waiting.remote_status) == (RemoteState.PENDING, "accuse")
    assert b"Acknowledgement" in waiting.proofs["acknowledgement.xml"]

    asalae_server.accept(remote_id)
    done = archive.poll(remote_id)

    assert (done.state, done.remote_status) == (RemoteState.DONE, "000")
    assert set(done.proofs) == {"acknowledgement.xml", "archive-transfer-reply.xml"}
    assert b"<MessageRequestIdentifier>MUTUALIS-ACTES-000123<" in done.proofs["archive-transfer-reply.xml"]


def test_a_refused_transfer_is_rejected_with_its_code_and_comment(asalae_server: AsalaeServer) -> None:
    archive = adapter(asalae_server)
    remote_id = archive.submit(transfer(), (ACT, AR), message_id="MUTUALIS-ACTES-000123")
    asalae_server.reject(remote_id, "Profil d'archivage inconnu")

    outcome = archive.poll(remote_id)

    assert (outcome.state, outcome.remote_status) == (RemoteState.REJECTED, "300")
    assert "Profil d'archivage inconnu" in outcome.message


def test_files_that_do_not_match_their_digest_are_refused_by_the_archive(asalae_server: AsalaeServer) -> None:
    archive = adapter(asalae_server)
    tampered = FileToSend("acte.pdf", ACT.content + b"x")
    remote_id = archive.submit(transfer(), (tampered,), message_id="MUTUALIS-ACTES-000123")

    outcome = archive.poll(remote_id)

    assert (outcome.state, outcome.remote_status) == (RemoteState.REJECTED, "200")
    assert "Empreinte incorrecte : acte.pdf" in outcome.message
    assert "Fichier absent : ararte.xml" in outcome.message


def test_an_invalid_seda_message_is_refused_by_the_server(asalae_server: AsalaeServer) -> None:
    archive = adapter(asalae_server)
    invalid = transfer().replace(b"<CodeListVersions/>", b"")

    with pytest.raises(UnrecoverableError, match="HTTP 400") as error:
        archive.submit(invalid, (ACT, AR), message_id="MUTUALIS-ACTES-000123")
    assert "SEDA 2.1" in error.value.detail
    assert asalae_server.transfers == {}


def test_the_archive_acts_by_itself_after_k_polls_for_the_demo(asalae_server: AsalaeServer) -> None:
    asalae_server.auto_after = 2
    archive = adapter(asalae_server)
    kept = archive.submit(transfer("MUTUALIS-1"), (ACT, AR), message_id="MUTUALIS-1")
    refused = archive.submit(transfer("MUTUALIS-REFUS-2"), (ACT, AR), message_id="MUTUALIS-REFUS-2")

    assert [archive.poll(kept).state for _ in range(2)] == [RemoteState.PENDING, RemoteState.DONE]
    assert [archive.poll(refused).state for _ in range(2)] == [RemoteState.PENDING, RemoteState.REJECTED]


def test_a_job_run_twice_sends_the_transfer_once(asalae_server: AsalaeServer) -> None:
    archive = adapter(asalae_server)
    first = archive.submit(transfer(), (ACT, AR), message_id="MUTUALIS-ACTES-000123")
    second = adapter(asalae_server).submit(transfer(), (ACT, AR), message_id="MUTUALIS-ACTES-000123")

    assert first == second
    assert len(asalae_server.transfers) == 1
    assert asalae_server.seen.count("POST /sedaMessages") == 1


def test_a_transfer_stating_another_identifier_or_agency_is_not_sent(asalae_server: AsalaeServer) -> None:
    archive = adapter(asalae_server)

    with pytest.raises(UnrecoverableError, match="MUTUALIS-9"):
        archive.submit(transfer(), (ACT, AR), message_id="MUTUALIS-9")
    with pytest.raises(UnrecoverableError, match="service versant"):
        archive.submit(transfer(agency="AUTRE"), (ACT, AR), message_id="MUTUALIS-ACTES-000123")
    assert asalae_server.seen == []


def test_a_server_error_is_recoverable(asalae_server: AsalaeServer) -> None:
    archive = adapter(asalae_server)
    asalae_server.fail_next(2, status=503)

    with pytest.raises(RecoverableError, match="HTTP 503"):
        archive.submit(transfer(), (ACT, AR), message_id="MUTUALIS-ACTES-000123")
    with pytest.raises(RecoverableError):
        archive.poll("MUTUALIS-ACTES-000123")
    assert archive.poll("MUTUALIS-ACTES-000123").state is RemoteState.PENDING


def test_a_timeout_is_recoverable(asalae_server: AsalaeServer) -> None:
    asalae_server.delay_next(1, seconds=1)

    with pytest.raises(RecoverableError, match="n'a pas répondu"):
        adapter(asalae_server, timeout=0.2).poll("MUTUALIS-ACTES-000123")


def test_wrong_credentials_are_unrecoverable(asalae_server: AsalaeServer) -> None:
    with pytest.raises(UnrecoverableError, match="HTTP 401"):
        adapter(asalae_server, password="wrong").check()


def test_a_missing_setting_is_unrecoverable() -> None:
    with pytest.raises(UnrecoverableError, match="service versant"):
        AsalaeArchive.from_config({"url": "http://x", "login": "l", "password": "p"})


def test_the_attachments_pack_to_the_same_bytes_every_time() -> None:
    first = pack((ACT, AR))
    time.sleep(1.1)  # gzip would otherwise stamp the second of packing in its header

    assert pack((ACT, AR)) == first
