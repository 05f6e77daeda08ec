"""The S²low adapter against the local S²low over HTTPS with a client certificate: acts, Hélios, faults."""

from __future__ import annotations

import socket
import zlib
from datetime import date
from pathlib import Path

import pytest

from mutualis.flows.adapters.base import ADAPTERS
from mutualis.flows.adapters.s2low import S2lowTransmission
from mutualis.flows.formats.actes import parse_act_xml, parse_anomalie_acte, parse_aracte, parse_classification
from mutualis.flows.formats.pes import parse_pes_acquit
from mutualis.flows.localservers.s2low import Certificates, S2lowServer, make_certificates, serve
from mutualis.flows.ports import ActToTransmit, FileToSend, RecoverableError, RemoteState, UnrecoverableError

MAIN_PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
ANNEX_PDF = b"%PDF-1.4\n% annexe budgetaire\n%%EOF\n"
PES = b"""<?xml version="1.0" encoding="ISO-8859-1"?>
<n:PES_Aller xmlns:n="http://www.minefi.gouv.fr/cp/helios/pes_v2/Rev0/aller">
  <Enveloppe><Parametres><Version V="2"/><TypFic V="PESALR1"/><NomFic V="PES_DEMO_0001"/></Parametres></Enveloppe>
  <EnTetePES><DteStr V="2024-03-01"/><IdPost V="069000"/><IdColl V="21010001200017"/><CodCol V="001"/>
    <CodBud V="00"/><LibelleColBud V="Commune de Demo"/></EnTetePES>
  <PES_DepenseAller><Bordereau Id="B1"/></PES_DepenseAller>
</n:PES_Aller>
"""


def make_act(number: str = "DEL_2024_001", subject: str = "Vote du budget primitif 2024 — été") -> ActToTransmit:
    return ActToTransmit(
        number=number,
        nature=1,
        subject=subject,
        decision_date=date(2024, 3, 1),
        classification=("7", "1"),
        classification_version=date(2024, 1, 15),
        main=FileToSend("délibération budget.pdf", MAIN_PDF, typology="99_DE"),
        attachments=(FileToSend("annexe.pdf", ANNEX_PDF, typology="22_AT"),),
    )


def config(server: S2lowServer, certs: Certificates, **extra: str) -> dict[str, str]:
    return {
        "url": server.url,
        "certificate": certs.client_cert_pem,
        "private_key": certs.client_key_pem,
        "server_ca": certs.ca_pem,
        **extra,
    }


@pytest.fixture
def s2low(s2low_server: S2lowServer, s2low_certificates: Certificates) -> S2lowTransmission:
    return S2lowTransmission.from_config(config(s2low_server, s2low_certificates), timeout=2)


def creates(server: S2lowServer) -> int:
    return sum(1 for _, path in server.requests if path.endswith("actes_transac_create.php"))


def test_it_is_registered_as_the_s2low_connector_with_its_secret_settings():
    assert ADAPTERS["s2low"] is S2lowTransmission
    assert S2lowTransmission.port == "transmission"
    secrets = {s.name for s in S2lowTransmission.settings if s.secret}
    assert secrets == {"certificate", "private_key", "password"}


def test_it_transmits_an_act_then_brings_back_the_aracte_and_the_stamped_pdf(s2low, s2low_server):
    remote_id = s2low.submit_act(make_act(), idempotency_key="doc-1:transmission")

    assert remote_id == "1"
    [received] = s2low_server.acts()
    assert (received.number, received.nature, received.classification) == ("DEL_2024_001", 1, ("7", "1"))
    assert received.subject == "Vote du budget primitif 2024 — été"
    assert received.decision_date == date(2024, 3, 1)
    pdfs = [f for f in received.files if f.mimetype == "application/pdf"]
    assert [(f.typology, f.content) for f in pdfs] == [("99_DE", MAIN_PDF), ("22_AT", ANNEX_PDF)]
    assert pdfs[0].name == "99_DE-001-210100012-20240301-DEL_2024_001-DE-1-1_1.pdf"

    pending = s2low.poll_act(remote_id)
    assert (pending.state, pending.remote_status) == (RemoteState.PENDING, "2")

    s2low_server.acknowledge(1)
    done = s2low.poll_act(remote_id)

    assert done.state == RemoteState.DONE
    assert done.remote_status == "4"
    assert "001-210100012-20240301-DEL_2024_001-DE" in done.message
    aracte = parse_aracte(done.proofs["aracte.xml"])
    assert aracte.act_id == "001-210100012-20240301-DEL_2024_001-DE"
    assert (aracte.act.number, aracte.act.subject) == ("DEL_2024_001", "Vote du budget primitif 2024 — été")
    assert aracte.act.annexes == ("22_AT-001-210100012-20240301-DEL_2024_001-DE-1-1_2.pdf",)
    act_message = parse_act_xml(received.files[0].content)  # what S²low put in the envelope
    assert (act_message.number, act_message.classification) == ("DEL_2024_001", ("7", "1"))
    stamped = done.proofs["acte-tamponne.pdf"]
    assert stamped.startswith(b"%PDF-") and stamped.rstrip().endswith(b"%%EOF")
    assert "Reçu en préfecture le".encode("cp1252") in stamped
    assert zlib.compress(MAIN_PDF) in stamped  # the original travels inside the stamped copy


def test_it_lets_the_prefecture_answer_by_itself_after_a_few_polls(s2low, s2low_server):
    s2low_server.auto_after = 3
    remote_id = s2low.submit_act(make_act(), idempotency_key="k")

    states = [s2low.poll_act(remote_id).state for _ in range(3)]

    assert states == [RemoteState.PENDING, RemoteState.PENDING, RemoteState.DONE]


def test_it_lets_the_prefecture_and_the_treasury_refuse_by_themselves_for_the_demo(s2low, s2low_server):
    s2low_server.auto_after, s2low_server.auto_refuse = 2, True
    act_id = s2low.submit_act(make_act(), idempotency_key="k")
    pes_id = s2low.submit_pes("PES_DEMO_0001.xml", PES, idempotency_key="p")

    acts = [s2low.poll_act(act_id).state for _ in range(2)]
    pes = [s2low.poll_pes(pes_id) for _ in range(2)]

    assert acts == [RemoteState.PENDING, RemoteState.REJECTED]
    assert [(o.state, o.remote_status) for o in pes] == [(RemoteState.PENDING, "7"), (RemoteState.REJECTED, "6")]


def test_it_reports_a_refusal_by_the_prefecture_as_rejected_with_its_reason(s2low, s2low_server):
    remote_id = s2low.submit_act(make_act(), idempotency_key="k")
    s2low_server.refuse(int(remote_id), "Acte non soumis à l'obligation de transmission")

    outcome = s2low.poll_act(remote_id)

    assert outcome.state == RemoteState.REJECTED
    assert outcome.remote_status == "6"
    assert "Acte non soumis à l'obligation de transmission" in outcome.message
    anomaly = parse_anomalie_acte(outcome.proofs["anomalie-acte.xml"])
    assert (anomaly.act.number, anomaly.detail) == ("DEL_2024_001", "Acte non soumis à l'obligation de transmission")


def test_it_stops_on_a_transaction_in_error_with_s2lows_message(s2low, s2low_server):
    remote_id = s2low.submit_act(make_act(), idempotency_key="k")
    s2low_server.error(int(remote_id), "Archive refusée par l'antivirus")

    with pytest.raises(UnrecoverableError, match="Archive refusée par l'antivirus"):
        s2low.poll_act(remote_id)


def test_it_retries_on_a_500_and_resumes_once_the_service_is_back(s2low, s2low_server):
    s2low_server.fail_next(1, status=500)

    with pytest.raises(RecoverableError, match="HTTP 500"):
        s2low.submit_act(make_act(), idempotency_key="k")

    assert s2low.submit_act(make_act(), idempotency_key="k") == "1"
    assert creates(s2low_server) == 1


def test_it_retries_when_s2low_does_not_answer_in_time(s2low_server, s2low_certificates):
    adapter = S2lowTransmission.from_config(config(s2low_server, s2low_certificates), timeout=0.3)
    s2low_server.delay_next(1, seconds=1.5)

    with pytest.raises(RecoverableError, match="n'a pas répondu dans les 0.3 s"):
        adapter.check()


def test_it_retries_when_nothing_listens(s2low_certificates):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    adapter = S2lowTransmission.from_config(
        {"url": f"https://127.0.0.1:{port}", "certificate": "x", "private_key": "y"}, timeout=1
    )

    with pytest.raises(RecoverableError, match="injoignable"):
        adapter.check()


def test_it_stops_with_s2lows_message_when_it_refuses_the_act(s2low, s2low_server):
    with pytest.raises(UnrecoverableError, match="Le numéro n'est pas correct"):
        s2low.submit_act(make_act(number="del-1"), idempotency_key="k")
    not_pdf = make_act()
    not_pdf = ActToTransmit(**{**not_pdf.__dict__, "main": FileToSend("acte.pdf", b"<html>", typology="99_DE")})
    with pytest.raises(UnrecoverableError, match="n'est pas un fichier PDF valide"):
        s2low.submit_act(not_pdf, idempotency_key="k")
    future = ActToTransmit(**{**make_act().__dict__, "decision_date": date(2999, 1, 1)})
    with pytest.raises(UnrecoverableError, match="date dans le futur"):
        s2low.submit_act(future, idempotency_key="k")
    assert s2low_server.acts() == []


def test_it_stops_on_an_http_refusal_with_its_status(s2low, s2low_server, s2low_certificates):
    s2low_server.fail_next(1, status=403)
    with pytest.raises(UnrecoverableError, match="HTTP 403"):
        s2low.check()

    wrong_base = S2lowTransmission.from_config(
        config(s2low_server, s2low_certificates, url=s2low_server.url + "/s2low"), timeout=2
    )
    with pytest.raises(UnrecoverableError, match="HTTP 404"):
        wrong_base.check()


def test_it_reads_an_act_s2low_has_since_archived_as_acknowledged(s2low, s2low_server):
    remote_id = s2low.submit_act(make_act(), idempotency_key="k")
    s2low_server.acknowledge(int(remote_id))
    s2low_server.transactions[int(remote_id)].set_status(13, "Archivé par le SAE")

    outcome = s2low.poll_act(remote_id)

    assert (outcome.state, outcome.remote_status) == (RemoteState.DONE, "13")
    assert list(outcome.proofs) == ["acte-tamponne.pdf"]  # the ARActe came with status 4 only


def test_it_stops_on_missing_settings_naming_them():
    with pytest.raises(UnrecoverableError, match="Certificat client.*Clé privée"):
        S2lowTransmission.from_config({"url": "https://s2low.test"})


def test_it_stops_when_the_client_certificate_is_not_trusted(s2low_server, s2low_certificates, tmp_path: Path):
    stranger = make_certificates(tmp_path / "other", client_name="Inconnu")
    adapter = S2lowTransmission.from_config(
        config(
            s2low_server,
            s2low_certificates,
            certificate=stranger.client_cert_pem,
            private_key=stranger.client_key_pem,
        ),
        timeout=2,
    )

    with pytest.raises(UnrecoverableError, match="connexion sécurisée a échoué"):
        adapter.check()


def test_it_stops_with_s2lows_message_on_a_wrong_password(s2low_server, s2low_certificates):
    s2low_server.users = {"mairie": "bon-mot-de-passe"}
    wrong = S2lowTransmission.from_config(
        config(s2low_server, s2low_certificates, login="mairie", password="mauvais"), timeout=2
    )
    right = S2lowTransmission.from_config(
        config(s2low_server, s2low_certificates, login="mairie", password="bon-mot-de-passe"), timeout=2
    )

    with pytest.raises(UnrecoverableError, match="Échec de l'authentification"):
        wrong.check()
    assert right.check() == "Connexion à S²low réussie : Commune de Démo-sur-Loue."


def test_it_never_posts_an_act_twice(s2low, s2low_server):
    first = s2low.submit_act(make_act(), idempotency_key="doc-1:transmission")
    again = s2low.submit_act(make_act(), idempotency_key="doc-1:transmission")

    assert again == first
    assert creates(s2low_server) == 1  # found among the acts in flight before posting

    s2low_server.acknowledge(int(first))
    after_ack = s2low.submit_act(make_act(), idempotency_key="doc-1:transmission")

    assert after_ack == first  # S²low refused the duplicate number; the act was found in the lists
    assert creates(s2low_server) == 2
    assert len(s2low_server.acts()) == 1


def test_it_still_posts_when_the_list_api_is_missing(s2low, s2low_server):
    s2low_server.fail_next(1, status=404)  # the first lookup, before posting

    assert s2low.submit_act(make_act(), idempotency_key="k") == "1"
    assert creates(s2low_server) == 1


def test_it_refuses_to_adopt_another_act_that_holds_the_same_number(s2low, s2low_server):
    s2low.submit_act(make_act(), idempotency_key="k")

    with pytest.raises(UnrecoverableError, match="déjà pris sur S²low par un autre acte"):
        s2low.submit_act(make_act(subject="Tarifs de la cantine"), idempotency_key="k2")
    assert len(s2low_server.acts()) == 1


def test_it_cancels_an_acknowledged_act_only(s2low, s2low_server):
    remote_id = s2low.submit_act(make_act(), idempotency_key="k")

    with pytest.raises(UnrecoverableError, match="n'est pas en état « Acquittement reçu »"):
        s2low.cancel_act(remote_id)

    s2low_server.acknowledge(int(remote_id))
    s2low.cancel_act(remote_id)

    assert s2low.poll_act(remote_id).state == RemoteState.CANCELLED


def test_it_sends_a_pes_file_and_brings_back_the_treasurys_acknowledgement(s2low, s2low_server):
    remote_id = s2low.submit_pes("PES_DEMO_0001.xml", PES, idempotency_key="pes-1")

    pending = s2low.poll_pes(remote_id)
    assert (pending.state, pending.remote_status) == (RemoteState.PENDING, "7")

    s2low_server.helios_accept(int(remote_id))
    done = s2low.poll_pes(remote_id)

    assert (done.state, done.remote_status) == (RemoteState.DONE, "4")
    acquit = parse_pes_acquit(done.proofs["pes-acquit.xml"])
    assert acquit.accepted
    assert acquit.file_name == "ACK_PES_DEMO_0001.xml"
    assert s2low_server.helios[int(remote_id)].content == PES


def test_it_reports_a_pes_refused_by_the_treasury_with_its_reason(s2low, s2low_server):
    remote_id = s2low.submit_pes("PES_DEMO_0001.xml", PES, idempotency_key="pes-1")
    s2low_server.helios_refuse(int(remote_id), "Bordereau déjà intégré")

    outcome = s2low.poll_pes(remote_id)

    assert outcome.state == RemoteState.REJECTED
    assert "Bordereau déjà intégré" in outcome.message
    refused = parse_pes_acquit(outcome.proofs["pes-acquit.xml"])
    assert [(e.state, e.error_label) for e in refused.elements] == [("2", "Bordereau déjà intégré")]


def test_it_stops_on_a_malformed_or_duplicate_pes(s2low, s2low_server):
    with pytest.raises(UnrecoverableError, match="PES_Aller|racine"):
        s2low.submit_pes("x.xml", b"<Autre/>", idempotency_key="k")
    s2low.submit_pes("PES_DEMO_0001.xml", PES, idempotency_key="k")

    with pytest.raises(UnrecoverableError, match="doublon"):
        s2low.submit_pes("PES_DEMO_0001.xml", PES, idempotency_key="k")
    assert len(s2low_server.helios) == 1


def test_it_fetches_the_prefectures_classification(s2low):
    content = s2low.classification()

    assert content.startswith(b"<?xml version='1.0' encoding='ISO-8859-1'?>")
    classification = parse_classification(content)
    assert classification.version == date(2024, 1, 15)
    assert {n.code for n in classification.natures} == {1, 2, 3, 4, 5, 6}
    assert [p.code for p in classification.piece_types(1)] == ["99_DE", "22_AT", "99_AU"]
    finances = next(s for s in classification.subjects if s.code == "7")
    assert finances.label == "Finances locales"
    assert "Décisions budgétaires" in [c.label for c in finances.children]
    classification.check(make_act())  # the test act is classified in the prefecture's terms


def test_it_checks_the_connection_and_names_the_authority(s2low):
    assert s2low.check() == "Connexion à S²low réussie : Commune de Démo-sur-Loue."


def test_it_runs_over_plain_http_for_the_demo(s2low_certificates):
    server, thread, url = serve(auto_after=1)
    try:
        adapter = S2lowTransmission.from_config(
            {"url": url, "certificate": s2low_certificates.client_cert_pem, "private_key": "unused"}, timeout=2
        )
        remote_id = adapter.submit_act(make_act(), idempotency_key="k")
        assert adapter.poll_act(remote_id).state == RemoteState.DONE
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
