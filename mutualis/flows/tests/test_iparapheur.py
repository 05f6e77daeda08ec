"""The i-Parapheur 5 adapter against the local i-Parapheur on loopback."""

from __future__ import annotations

import io
import zipfile

import pytest

from mutualis.flows.adapters.base import ADAPTERS
from mutualis.flows.adapters.iparapheur import IparapheurSignature, creation_premis
from mutualis.flows.localservers.iparapheur import IparapheurServer, parse_creation_premis
from mutualis.flows.ports import FileToSend, RecoverableError, RemoteState, UnrecoverableError

PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
MAIN = FileToSend("deliberation.pdf", PDF)
ANNEX = FileToSend("annexe.pdf", PDF + b"% annexe\n")


def adapter(server: IparapheurServer, *, timeout: float = 5, **overrides: str) -> IparapheurSignature:
    config = {
        "url": server.url,
        "realm": "api",
        "client_id": "ipcore-web",
        "username": "mutualis",
        "password": "secret",
        "tenant_id": "tenant-1",
        "desk_id": "desk-1",
        **overrides,
    }
    return IparapheurSignature.from_config(config, timeout=timeout)


def submit(signature: IparapheurSignature, key: str = "12:signature", title: str = "DEL 2026-001") -> str:
    return signature.submit(
        title=title, main=MAIN, attachments=(ANNEX,), type_="ACTES", subtype="Délibération", idempotency_key=key
    )


def test_it_is_registered_as_a_signature_connector() -> None:
    assert ADAPTERS["iparapheur"] is IparapheurSignature
    assert IparapheurSignature.port == "signature"
    assert {s.name for s in IparapheurSignature.settings if s.secret} == {"password", "client_secret"}


def test_it_checks_the_connection_and_the_desk(iparapheur_server: IparapheurServer) -> None:
    assert "desk-1" in adapter(iparapheur_server).check()
    with pytest.raises(UnrecoverableError, match="desk-9"):
        adapter(iparapheur_server, desk_id="desk-9").check()


def test_it_sends_the_folder_as_premis_with_type_subtype_and_main_document(iparapheur_server: IparapheurServer) -> None:
    folder_id = submit(adapter(iparapheur_server))

    folder = iparapheur_server.folders[folder_id]
    assert (folder.name, folder.type_, folder.subtype, folder.state) == (
        "DEL 2026-001",
        "ACTES",
        "Délibération",
        "RETRIEVABLE",
    )
    assert [(d.name, d.main, d.content) for d in folder.documents] == [
        ("deliberation.pdf", True, PDF),
        ("annexe.pdf", False, ANNEX.content),
    ]
    assert folder.metadata == {"mutualis_idempotency_key": "12:signature"}


def test_it_polls_pending_then_fetches_the_signed_pdf_and_the_bordereau(iparapheur_server: IparapheurServer) -> None:
    signature = adapter(iparapheur_server)
    folder_id = submit(signature)

    pending = signature.poll(folder_id)
    assert (pending.state, pending.remote_status) == (RemoteState.PENDING, "VISA")

    iparapheur_server.sign(folder_id)
    done = signature.poll(folder_id)

    assert done.state is RemoteState.DONE
    assert done.remote_status == "ARCHIVE"
    assert set(done.proofs) == {"signe_deliberation.pdf", "bordereau.pdf"}
    assert done.proofs["signe_deliberation.pdf"].startswith(PDF)
    assert done.proofs["signe_deliberation.pdf"] != PDF
    assert done.proofs["bordereau.pdf"].startswith(b"%PDF-1.4") and b"DEL 2026-001" in done.proofs["bordereau.pdf"]


def test_a_refusal_is_rejected_with_the_signatory_annotation(iparapheur_server: IparapheurServer) -> None:
    signature = adapter(iparapheur_server)
    folder_id = submit(signature)
    iparapheur_server.refuse(folder_id, "Montant erroné en page 2")

    outcome = signature.poll(folder_id)

    assert (outcome.state, outcome.message, outcome.remote_status) == (
        RemoteState.REJECTED,
        "Montant erroné en page 2",
        "REJECT",
    )


def test_the_signatory_acts_by_itself_after_k_polls_for_the_demo(iparapheur_server: IparapheurServer) -> None:
    iparapheur_server.auto_after = 2
    signature = adapter(iparapheur_server)
    signed = submit(signature, key="1:signature")
    refused = submit(signature, key="2:signature", title="DEL REFUS 2")

    assert signature.poll(signed).state is RemoteState.PENDING
    assert signature.poll(signed).state is RemoteState.DONE
    assert signature.poll(refused).state is RemoteState.PENDING
    assert signature.poll(refused).state is RemoteState.REJECTED


def test_the_connector_type_and_subtype_apply_when_the_document_has_none(iparapheur_server: IparapheurServer) -> None:
    def send(signature: IparapheurSignature) -> str:
        return signature.submit(title="Contrat", main=MAIN, attachments=(), type_="", subtype="", idempotency_key="k")

    with pytest.raises(UnrecoverableError, match="type et le sous-type"):
        send(adapter(iparapheur_server))
    folder_id = send(adapter(iparapheur_server, type="CONTRATS", subtype="Signature"))

    assert (iparapheur_server.folders[folder_id].type_, iparapheur_server.folders[folder_id].subtype) == (
        "CONTRATS",
        "Signature",
    )


def test_a_job_run_twice_creates_one_folder(iparapheur_server: IparapheurServer) -> None:
    signature = adapter(iparapheur_server)
    first = submit(signature)
    second = submit(adapter(iparapheur_server))
    iparapheur_server.sign(first)
    third = submit(signature)

    assert first == second == third
    assert len(iparapheur_server.folders) == 1
    assert submit(signature, key="13:signature") != first


def test_a_draft_left_by_an_interrupted_creation_is_found_and_started(iparapheur_server: IparapheurServer) -> None:
    signature = adapter(iparapheur_server)
    folder_id = submit(signature)
    folder = iparapheur_server.folders[folder_id]
    folder.state, folder.events = "DRAFT", folder.events[:1]

    assert submit(signature) == folder_id
    assert iparapheur_server.folders[folder_id].state == "RETRIEVABLE"


def test_a_server_error_is_recoverable(iparapheur_server: IparapheurServer) -> None:
    signature = adapter(iparapheur_server)
    folder_id = submit(signature)
    iparapheur_server.fail_next(1, status=500)

    with pytest.raises(RecoverableError, match="HTTP 500"):
        signature.poll(folder_id)
    assert signature.poll(folder_id).state is RemoteState.PENDING


def test_a_timeout_is_recoverable(iparapheur_server: IparapheurServer) -> None:
    signature = adapter(iparapheur_server, timeout=0.2)
    iparapheur_server.delay_next(1, seconds=1)

    with pytest.raises(RecoverableError, match="n'a pas répondu"):
        signature.check()


def test_wrong_credentials_are_unrecoverable(iparapheur_server: IparapheurServer) -> None:
    with pytest.raises(UnrecoverableError, match="HTTP 401"):
        adapter(iparapheur_server, password="wrong").check()
    with pytest.raises(UnrecoverableError, match="invalid_client"):
        adapter(iparapheur_server, username="", password="", client_secret="wrong").check()


def test_client_credentials_grant_works(iparapheur_server: IparapheurServer) -> None:
    assert "desk-1" in adapter(iparapheur_server, username="", password="", client_secret="client-secret").check()


def test_an_expired_token_is_fetched_again_once(iparapheur_server: IparapheurServer) -> None:
    signature = adapter(iparapheur_server)
    folder_id = submit(signature)
    iparapheur_server.expire_tokens()

    assert signature.poll(folder_id).state is RemoteState.PENDING
    assert sum(1 for seen in iparapheur_server.seen if seen.endswith("/token")) == 2


def test_a_missing_setting_is_unrecoverable() -> None:
    with pytest.raises(UnrecoverableError, match="bureau"):
        IparapheurSignature.from_config({"url": "http://x", "client_id": "c", "username": "u", "tenant_id": "t"})
    with pytest.raises(UnrecoverableError, match="secret du client"):
        IparapheurSignature.from_config({"url": "http://x", "client_id": "c", "tenant_id": "t", "desk_id": "d"})


def test_cancel_deletes_a_finished_folder_but_not_a_pending_one(iparapheur_server: IparapheurServer) -> None:
    signature = adapter(iparapheur_server)
    folder_id = submit(signature)

    with pytest.raises(UnrecoverableError, match="HTTP 403"):
        signature.cancel(folder_id)
    iparapheur_server.refuse(folder_id)
    signature.cancel(folder_id)
    assert iparapheur_server.folders == {}


def test_the_server_refuses_a_folder_without_its_premis_or_main_document(iparapheur_server: IparapheurServer) -> None:
    import requests

    signature = adapter(iparapheur_server)
    signature.check()
    url = f"{iparapheur_server.url}/api/standard/v1/tenant/tenant-1/desk/desk-1/folder"
    headers = {"Authorization": f"Bearer {signature._token}"}
    premis = creation_premis(title="T", type_="A", subtype="B", main=MAIN, attachments=(), key="k")

    only_files = requests.post(url, headers=headers, files=[("documents", ("a.pdf", PDF))], timeout=5)
    other_main = requests.post(
        url, headers=headers, files=[("folder", ("p.xml", premis)), ("documents", ("b.pdf", PDF))], timeout=5
    )

    assert only_files.status_code == other_main.status_code == 400
    assert iparapheur_server.folders == {}


def test_the_creation_premis_reads_back_as_sent() -> None:
    premis = creation_premis(title="Titre", type_="T", subtype="S", main=MAIN, attachments=(ANNEX,), key="k1")

    assert parse_creation_premis(premis) == {
        "name": "Titre",
        "type": "T",
        "subtype": "S",
        "metadata": {"mutualis_idempotency_key": "k1"},
        "main": ["deliberation.pdf"],
    }


def test_the_zip_holds_what_i_parapheur_puts_in_it(iparapheur_server: IparapheurServer) -> None:
    import requests

    signature = adapter(iparapheur_server)
    folder_id = submit(signature)
    iparapheur_server.sign(folder_id)
    response = requests.get(
        f"{iparapheur_server.url}/api/standard/v1/tenant/tenant-1/desk/desk-1/folder/{folder_id}/zip",
        headers={"Authorization": f"Bearer {signature._token}"},
        timeout=5,
    )

    names = zipfile.ZipFile(io.BytesIO(response.content)).namelist()
    assert sorted(names) == [
        "Annexes/annexe.pdf",
        "DEL 2026-001_bordereau.pdf",
        "Documents principaux/deliberation.pdf",
        "i_Parapheur_internal_premis.xml",
    ]
