"""The i-Parapheur 4 (SOAP) adapter against the local i-Parapheur 4 on loopback, and a document through the engine."""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Iterator

import pytest
import requests
from lxml import etree

from mutualis.flows import engine, services
from mutualis.flows.adapters.base import ADAPTERS
from mutualis.flows.adapters.iparapheur4 import (
    NS,
    SOAP_NS,
    Iparapheur4Signature,
    creer_dossier_request,
    dossier_id,
    envelope,
    request_element,
)
from mutualis.flows.enums import FlowType, Port, State
from mutualis.flows.localservers.iparapheur4 import Iparapheur4Server, serve
from mutualis.flows.localservers.launcher import DEMO_PORTS, start_all, stop_all
from mutualis.flows.localservers.loopback import stop
from mutualis.flows.localservers.s2low import make_certificates
from mutualis.flows.models import FileRole
from mutualis.flows.ports import FileToSend, RecoverableError, RemoteState, UnrecoverableError
from mutualis.flows.tests.test_engine import make_member, pdf

PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
MAIN = FileToSend("deliberation.pdf", PDF)
ANNEX = FileToSend("annexe.pdf", PDF + b"% annexe\n")
XSI_NIL = "{http://www.w3.org/2001/XMLSchema-instance}nil"


@pytest.fixture
def iparapheur4_server() -> Iterator[Iparapheur4Server]:
    """A local i-Parapheur 4: mutualis / secret, types ACTES (Délibération, Arrêté) and CONTRATS."""
    server, thread, _url = serve()
    try:
        yield server
    finally:
        stop(server, thread)


def adapter(server: Iparapheur4Server, *, timeout: float = 5, **overrides: str) -> Iparapheur4Signature:
    config = {
        "url": server.endpoint,
        "login": "mutualis",
        "password": "secret",
        "type": "ACTES",
        "subtype": "Délibération",
        **overrides,
    }
    return Iparapheur4Signature.from_config(config, timeout=timeout)


def submit(signature: Iparapheur4Signature, key: str = "12:signature", title: str = "DEL 2026-001", **kw: str) -> str:
    return signature.submit(
        title=title,
        main=MAIN,
        attachments=(ANNEX,),
        type_=kw.get("type_", ""),
        subtype=kw.get("subtype", ""),
        idempotency_key=key,
    )


def post_raw(server: Iparapheur4Server, body: bytes, *, action: str | None = '""') -> requests.Response:
    headers = {"Content-Type": "text/xml; charset=utf-8"}
    if action is not None:
        headers["SOAPAction"] = action
    return requests.post(server.endpoint, data=body, headers=headers, auth=("mutualis", "secret"), timeout=5)


def test_it_is_registered_as_a_signature_connector() -> None:
    assert ADAPTERS["iparapheur4"] is Iparapheur4Signature
    assert Iparapheur4Signature.port == "signature"
    assert {s.name for s in Iparapheur4Signature.settings if s.secret} == {"password", "certificate", "private_key"}
    assert {s.name for s in Iparapheur4Signature.settings if s.required} == {"url", "type", "subtype"}
    assert engine.policy_for("iparapheur4").poll_every == dt.timedelta(minutes=15)


def test_the_folder_id_is_stable_readable_and_distinct_per_key() -> None:
    assert dossier_id("12:signature") == dossier_id("12:signature")
    assert dossier_id("12:signature").startswith("mutualis-12-signature-")
    assert dossier_id("12:signature", "recette").startswith("recette-12-signature-")
    # Two keys that differ only by a character i-Parapheur refuses still give two folders.
    assert dossier_id("12:signature") != dossier_id("12/signature")


def test_the_creation_request_follows_the_wsdl() -> None:
    request = creer_dossier_request(
        type_="ACTES",
        subtype="Délibération",
        folder_id="mutualis-1",
        title="Tarifs",
        main=MAIN,
        attachments=(ANNEX,),
        visibility="SERVICE",
        email="dgs@alpha.fr",
    )
    names = [etree.QName(child).localname for child in request]
    assert names == [
        "TypeTechnique",
        "SousType",
        "EmailEmetteur",
        "DossierID",
        "DossierTitre",
        "DocumentPrincipal",
        "NomDocPrincipal",
        "VisuelPDF",
        "DocumentsAnnexes",
        "XPathPourSignatureXML",
        "MetaDataTdtACTES",
        "AnnotationPublique",
        "AnnotationPrivee",
        "Visibilite",
        "DateLimite",
    ]
    assert {etree.QName(child).namespace for child in request.iter()} == {NS}
    main = request.find(f"{{{NS}}}DocumentPrincipal")
    assert base64.b64decode(main.text) == PDF
    assert main.get("{http://www.w3.org/2005/05/xmlmime}contentType") == "application/pdf"
    assert [request.find(f"{{{NS}}}{tag}").get(XSI_NIL) for tag in ("VisuelPDF", "DateLimite")] == ["true", "true"]
    annexe = request.find(f"{{{NS}}}DocumentsAnnexes/{{{NS}}}DocAnnexe")
    assert [etree.QName(child).localname for child in annexe] == ["nom", "fichier", "mimetype", "encoding"]
    soap = etree.fromstring(envelope(request))
    assert soap.tag == f"{{{SOAP_NS}}}Envelope"
    assert soap.find(f"{{{SOAP_NS}}}Body")[0].tag == f"{{{NS}}}CreerDossierRequest"


def test_it_checks_the_connection_the_type_and_the_subtype(iparapheur4_server: Iparapheur4Server) -> None:
    assert "Délibération" in adapter(iparapheur4_server).check()
    with pytest.raises(UnrecoverableError, match="sous-type « Budget » n'existe pas.*Arrêté, Délibération"):
        adapter(iparapheur4_server, subtype="Budget").check()
    with pytest.raises(UnrecoverableError, match="type « RH » n'existe pas.*ACTES, CONTRATS"):
        adapter(iparapheur4_server, type="RH").check()


def test_it_creates_the_folder_with_its_documents(iparapheur4_server: Iparapheur4Server) -> None:
    folder_id = submit(adapter(iparapheur4_server, email="dgs@alpha.fr", visibility="confidentiel"))

    dossier = iparapheur4_server.dossiers[folder_id]
    assert folder_id == dossier_id("12:signature")
    assert (dossier.type_, dossier.subtype, dossier.title, dossier.visibility, dossier.email) == (
        "ACTES",
        "Délibération",
        "DEL 2026-001",
        "CONFIDENTIEL",
        "dgs@alpha.fr",
    )
    assert (dossier.main_name, dossier.main_content, dossier.main_type) == ("deliberation.pdf", PDF, "application/pdf")
    assert [(a.name, a.content, a.mimetype) for a in dossier.annexes] == [
        ("annexe.pdf", ANNEX.content, "application/pdf")
    ]
    assert dossier.status == "NonLu"


def test_it_polls_pending_then_fetches_the_signed_pdf_and_the_bordereau(iparapheur4_server: Iparapheur4Server) -> None:
    signature = adapter(iparapheur4_server)
    folder_id = submit(signature)

    pending = signature.poll(folder_id)
    assert (pending.state, pending.remote_status) == (RemoteState.PENDING, "NonLu")
    iparapheur4_server.read(folder_id)
    assert signature.poll(folder_id).remote_status == "Lu"

    iparapheur4_server.sign(folder_id)
    done = signature.poll(folder_id)

    assert (done.state, done.remote_status) == (RemoteState.DONE, "Archive")
    assert list(done.proofs) == ["signe_deliberation.pdf", "bordereau.pdf"]
    assert done.proofs["signe_deliberation.pdf"].startswith(PDF)
    assert done.proofs["signe_deliberation.pdf"] != PDF
    assert done.proofs["bordereau.pdf"].startswith(b"%PDF-1.4") and b"DEL 2026-001" in done.proofs["bordereau.pdf"]
    assert iparapheur4_server.operations[-1] == "GetDossier"


def test_a_detached_signature_comes_before_the_document_the_engine_sends_on(
    iparapheur4_server: Iparapheur4Server,
) -> None:
    iparapheur4_server.detached = True
    signature = adapter(iparapheur4_server)
    folder_id = submit(signature)
    iparapheur4_server.sign(folder_id)

    proofs = signature.poll(folder_id).proofs

    assert list(proofs) == ["signature_deliberation.p7s", "signe_deliberation.pdf", "bordereau.pdf"]
    assert proofs["signe_deliberation.pdf"] == PDF
    assert proofs["signature_deliberation.p7s"].startswith(b"local CMS signature")


@pytest.mark.parametrize("status", ["RejetSignataire", "RejetVisa", "RejetCachet"])
def test_a_refusal_is_rejected_with_the_annotation(iparapheur4_server: Iparapheur4Server, status: str) -> None:
    signature = adapter(iparapheur4_server)
    folder_id = submit(signature)
    iparapheur4_server.reject(folder_id, "Montant erroné en page 2", status=status)

    outcome = signature.poll(folder_id)

    assert (outcome.state, outcome.message, outcome.remote_status) == (
        RemoteState.REJECTED,
        "Montant erroné en page 2",
        status,
    )


def test_the_signatory_acts_by_itself_after_k_polls_for_the_demo(iparapheur4_server: Iparapheur4Server) -> None:
    iparapheur4_server.auto_after = 2
    signature = adapter(iparapheur4_server)
    signed = submit(signature, key="1:signature")
    refused = submit(signature, key="2:signature", title="DEL REFUS 2")

    assert signature.poll(signed).remote_status == "Lu"
    assert signature.poll(signed).state is RemoteState.DONE
    assert signature.poll(refused).state is RemoteState.PENDING
    assert signature.poll(refused).state is RemoteState.REJECTED


def test_a_job_run_twice_creates_one_folder(iparapheur4_server: Iparapheur4Server) -> None:
    first = submit(adapter(iparapheur4_server))
    # The second run never saw the first one's answer: it asks before creating, and finds the folder.
    second = submit(adapter(iparapheur4_server))

    assert first == second
    assert len(iparapheur4_server.dossiers) == 1
    assert iparapheur4_server.operations.count("CreerDossier") == 1
    assert submit(adapter(iparapheur4_server), key="13:signature") != first
    assert len(iparapheur4_server.dossiers) == 2


def test_the_document_type_and_subtype_win_over_the_connector(iparapheur4_server: Iparapheur4Server) -> None:
    folder_id = submit(adapter(iparapheur4_server), type_="CONTRATS", subtype="Convention")

    assert (iparapheur4_server.dossiers[folder_id].type_, iparapheur4_server.dossiers[folder_id].subtype) == (
        "CONTRATS",
        "Convention",
    )


def test_a_ko_is_unrecoverable_with_i_parapheur_message(iparapheur4_server: Iparapheur4Server) -> None:
    with pytest.raises(UnrecoverableError, match=r"\[ERROR\] Sous-type inconnu pour le type ACTES : Budget"):
        submit(adapter(iparapheur4_server), subtype="Budget")
    assert iparapheur4_server.dossiers == {}


def test_a_soap_fault_is_unrecoverable_with_its_message(iparapheur4_server: Iparapheur4Server) -> None:
    signature = adapter(iparapheur4_server)
    folder_id = submit(signature)
    iparapheur4_server.fault_next(1, "Erreur Alfresco : nœud verrouillé")

    with pytest.raises(UnrecoverableError, match="GetHistoDossier : Erreur Alfresco : nœud verrouillé") as caught:
        signature.poll(folder_id)
    assert "<faultstring" in caught.value.detail
    assert signature.poll(folder_id).state is RemoteState.PENDING


def test_a_server_error_without_a_fault_is_recoverable(iparapheur4_server: Iparapheur4Server) -> None:
    signature = adapter(iparapheur4_server)
    folder_id = submit(signature)
    iparapheur4_server.fail_next(1, status=503)

    with pytest.raises(RecoverableError, match="HTTP 503"):
        signature.poll(folder_id)
    assert signature.poll(folder_id).state is RemoteState.PENDING


def test_a_server_down_is_recoverable() -> None:
    server, thread, _url = serve()
    signature = adapter(server)
    stop(server, thread)

    with pytest.raises(RecoverableError, match="injoignable"):
        signature.poll("mutualis-12-signature-00000000")


def test_a_timeout_is_recoverable(iparapheur4_server: Iparapheur4Server) -> None:
    iparapheur4_server.delay_next(1, seconds=1)

    with pytest.raises(RecoverableError, match="n'a pas répondu"):
        adapter(iparapheur4_server, timeout=0.2).check()


def test_wrong_credentials_are_unrecoverable(iparapheur4_server: Iparapheur4Server) -> None:
    with pytest.raises(UnrecoverableError, match="HTTP 401"):
        adapter(iparapheur4_server, password="wrong").check()


def test_an_unknown_folder_is_unrecoverable(iparapheur4_server: Iparapheur4Server) -> None:
    with pytest.raises(UnrecoverableError, match="ne connaît pas le dossier mutualis-x.*Dossier mutualis-x inconnu"):
        adapter(iparapheur4_server).poll("mutualis-x")


def test_cancel_takes_back_an_unread_folder_then_erases_it(iparapheur4_server: Iparapheur4Server) -> None:
    signature = adapter(iparapheur4_server)
    folder_id = submit(signature)

    signature.cancel(folder_id)

    assert iparapheur4_server.dossiers == {}
    assert iparapheur4_server.erased == {folder_id: "EFFACER"}
    assert iparapheur4_server.operations[-2:] == ["ExercerDroitRemordDossier", "ArchiverDossier"]


def test_cancel_is_refused_once_the_signatory_read_the_folder(iparapheur4_server: Iparapheur4Server) -> None:
    signature = adapter(iparapheur4_server)
    folder_id = submit(signature)
    iparapheur4_server.read(folder_id)

    with pytest.raises(UnrecoverableError, match="Droit de remords impossible"):
        signature.cancel(folder_id)
    assert folder_id in iparapheur4_server.dossiers


def test_cancel_erases_a_refused_folder_and_refuses_a_signed_one(iparapheur4_server: Iparapheur4Server) -> None:
    signature = adapter(iparapheur4_server)
    refused, signed = submit(signature, key="1:signature"), submit(signature, key="2:signature")
    iparapheur4_server.reject(refused, "Non")
    iparapheur4_server.sign(signed)

    signature.cancel(refused)
    with pytest.raises(UnrecoverableError, match="a fini son circuit"):
        signature.cancel(signed)

    assert iparapheur4_server.erased == {refused: "EffacerDossierRejete"}
    assert list(iparapheur4_server.dossiers) == [signed]


def test_a_client_certificate_alone_authenticates_over_https(s2low_certificates, tmp_path) -> None:
    server, thread, _url = serve(tls=s2low_certificates, login="")
    try:
        tls = {"certificate": s2low_certificates.client_cert_pem, "private_key": s2low_certificates.client_key_pem}
        signature = adapter(server, login="", password="", server_ca=s2low_certificates.ca_pem, **tls)
        assert server.endpoint.startswith("https://")
        assert "Délibération" in signature.check()
        folder_id = submit(signature)
        assert signature.poll(folder_id).state is RemoteState.PENDING

        stranger = make_certificates(tmp_path / "other", client_name="Inconnu")
        untrusted = {"certificate": stranger.client_cert_pem, "private_key": stranger.client_key_pem}
        with pytest.raises(UnrecoverableError, match="connexion sécurisée a échoué"):
            adapter(server, login="", password="", server_ca=s2low_certificates.ca_pem, **untrusted).check()
        with pytest.raises(UnrecoverableError, match="connexion sécurisée a échoué"):
            adapter(server, login="", password="", **tls).check()  # the server's authority not trusted
    finally:
        stop(server, thread)


def test_the_settings_are_checked_before_any_call() -> None:
    base = {"url": "https://p.exemple.fr/ws-iparapheur", "type": "A", "subtype": "B"}
    with pytest.raises(UnrecoverableError, match="Sous-type"):
        Iparapheur4Signature.from_config({"url": "https://p", "type": "A", "login": "u", "password": "p"})
    with pytest.raises(UnrecoverableError, match="identifiant et son mot de passe, ou un certificat"):
        Iparapheur4Signature.from_config(base)
    with pytest.raises(UnrecoverableError, match="vont ensemble"):
        Iparapheur4Signature.from_config({**base, "certificate": "-----BEGIN CERTIFICATE-----"})
    with pytest.raises(UnrecoverableError, match="PUBLIC, SERVICE ou CONFIDENTIEL"):
        Iparapheur4Signature.from_config({**base, "login": "u", "password": "p", "visibility": "SECRET"})
    with pytest.raises(UnrecoverableError, match="https://"):
        Iparapheur4Signature.from_config({**base, "url": "ftp://p", "login": "u", "password": "p"})
    with pytest.raises(UnrecoverableError, match="préfixe"):
        Iparapheur4Signature.from_config({**base, "login": "u", "password": "p", "id_prefix": "a:b"})
    wsdl = Iparapheur4Signature.from_config({**base, "url": base["url"] + "?wsdl", "login": "u", "password": "p"})
    assert wsdl.url == base["url"]
    assert Iparapheur4Signature.from_config({**base, "certificate": "c", "private_key": "k"}).visibility == "SERVICE"


def test_the_server_refuses_what_a_strict_i_parapheur_refuses(iparapheur4_server: Iparapheur4Server) -> None:
    good = creer_dossier_request(
        type_="ACTES",
        subtype="Délibération",
        folder_id="mutualis-1",
        title="T",
        main=MAIN,
        attachments=(),
        visibility="SERVICE",
    )
    missing = creer_dossier_request(
        type_="ACTES",
        subtype="Arrêté",
        folder_id="mutualis-2",
        title="T",
        main=MAIN,
        attachments=(),
        visibility="PUBLIC",
    )
    missing.remove(missing.find(f"{{{NS}}}DateLimite"))
    wrong_ns = etree.fromstring(envelope(request_element("GetListeTypes")).replace(NS.encode(), b"urn:autre"))

    answers = [
        post_raw(iparapheur4_server, envelope(good), action="GetDossier"),
        post_raw(iparapheur4_server, envelope(good), action=None),
        post_raw(iparapheur4_server, envelope(missing)),
        post_raw(iparapheur4_server, etree.tostring(wrong_ns)),
        post_raw(iparapheur4_server, b"<pas-du-soap/>"),
    ]

    assert [answer.status_code for answer in answers] == [500] * 5
    assert all(b"faultstring" in answer.content for answer in answers)
    assert b"DateLimite" in answers[2].content
    assert iparapheur4_server.dossiers == {}
    assert post_raw(iparapheur4_server, envelope(good), action='"CreerDossier"').status_code == 200
    assert list(iparapheur4_server.dossiers) == ["mutualis-1"]


def test_the_demo_launcher_starts_it_fifth_without_moving_the_others() -> None:
    assert DEMO_PORTS == {"s2low": 8311, "iparapheur": 8312, "asalae": 8313, "pastell": 8314, "iparapheur4": 8315}
    four = dict.fromkeys(("s2low", "iparapheur", "asalae", "pastell"), 0)
    running = start_all({**four, "iparapheur4": 0}, auto_after=1)
    try:
        assert [item.name for item in running][-1] == "i-Parapheur 4 (SOAP)"
        assert running[-1].url.endswith("/ws-iparapheur")
        signature = Iparapheur4Signature.from_config(
            {"url": running[-1].url, "login": "mutualis", "password": "secret", "type": "ACTES", "subtype": "Arrêté"}
        )
        assert "Arrêté" in signature.check()
        folder_id = submit(signature)
        assert signature.poll(folder_id).state is RemoteState.DONE  # the demo's signatory signs at once
    finally:
        stop_all(running)
    running = start_all(four, auto_after=1)  # the callers that list four servers get four
    try:
        assert len(running) == 4
    finally:
        stop_all(running)


def test_a_document_to_sign_is_signed_and_archived_through_the_engine(world, iparapheur4_server, asalae_server):
    make_member(world)
    staff, member = world.staff, world.member_a
    signature = services.connector_save(
        actor=staff,
        member=member,
        kind="iparapheur4",
        label="i-Parapheur 4",
        values={
            "url": iparapheur4_server.endpoint,
            "login": "mutualis",
            "password": "secret",
            "type": "CONTRATS",
            "subtype": "Convention",
        },
    )
    archive = services.connector_save(
        actor=staff,
        member=member,
        kind="asalae",
        label="As@lae",
        values={"url": asalae_server.url, "login": "mutualis", "password": "secret", "transferring_agency": "OPSN"},
    )
    for instance, port in ((signature, Port.SIGNATURE), (archive, Port.ARCHIVE)):
        services.binding_set(actor=staff, member=member, flow=FlowType.DOCUMENT_A_SIGNER, port=port, instance=instance)
        ok, message = services.connector_check(actor=staff, instance=instance)
        assert ok, message
    assert "password" not in signature.config and "secret" not in signature.secrets
    document = services.document_create(
        actor=world.manager_a,
        member=member,
        flow=FlowType.DOCUMENT_A_SIGNER,
        data={"subject": "Convention de mise à disposition"},
        steps=["signature", "archive"],
        main=pdf("convention.pdf"),
        attachments=[pdf("annexe.pdf")],
    )
    at = dt.datetime.now(tz=dt.UTC)

    def run(minutes: int) -> str:
        return engine.document_advance(document.pk, now=at + dt.timedelta(minutes=minutes))

    assert run(0) == State.SEND_IPARAPHEUR
    document.refresh_from_db()
    assert document.signature_remote_id == dossier_id(f"{document.pk}:signature")
    iparapheur4_server.read(document.signature_remote_id)
    assert run(30) == State.SEND_IPARAPHEUR  # read, not signed yet
    iparapheur4_server.sign(document.signature_remote_id)
    assert run(60) == State.SEND_ARCHIVE  # signed, then sent to the archive in the same run
    document.refresh_from_db()
    asalae_server.accept(document.archive_remote_id)
    assert run(120) == State.TERMINE

    files = {f.name: f.role for f in document.files.all()}
    assert files["signe_convention.pdf"] == FileRole.SIGNED
    assert files["bordereau.pdf"] == FileRole.BORDEREAU
    assert iparapheur4_server.dossiers[document.signature_remote_id].title == "Convention de mise à disposition"
    assert iparapheur4_server.operations.count("CreerDossier") == 1
