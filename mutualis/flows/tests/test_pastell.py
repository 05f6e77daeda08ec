"""The Pastell supervision adapter against the local Pastell on loopback."""

from __future__ import annotations

import pytest

from mutualis.flows.adapters.base import ADAPTERS
from mutualis.flows.adapters.pastell import PAGE_SIZE, PastellSupervision
from mutualis.flows.localservers.pastell import PastellServer
from mutualis.flows.ports import RecoverableError, UnrecoverableError


def adapter(server: PastellServer, *, timeout: float = 5, **overrides: str) -> PastellSupervision:
    config = {"url": server.url, "login": "admin", "password": "secret", **overrides}
    return PastellSupervision.from_config(config, timeout=timeout)


def test_it_is_registered_as_a_supervision_connector() -> None:
    assert ADAPTERS["pastell"] is PastellSupervision
    assert PastellSupervision.port == "supervision"


def test_it_checks_the_connection(pastell_server: PastellServer) -> None:
    assert adapter(pastell_server).check() == "Connexion réussie à Pastell 4.1.6 : 3 entité(s) visible(s)."


def test_it_lists_the_entities(pastell_server: PastellServer) -> None:
    entities = adapter(pastell_server).entities()

    assert [(e["id_e"], e["denomination"], e["entite_mere"]) for e in entities] == [
        ("1", "Syndicat mixte de démonstration", "0"),
        ("2", "Commune de Villeneuve", "1"),
        ("3", "Commune de Montfort", "1"),
    ]


def test_it_lists_an_entity_documents_with_their_last_action(pastell_server: PastellServer) -> None:
    documents = adapter(pastell_server).documents("2")

    assert [(d["titre"], d["type"], d["last_action"]) for d in documents] == [
        ("PES budget principal janvier", "helios-generique", "verif-tdt"),
        ("DEL2026_004 Subvention", "actes-generique", "send-tdt-erreur"),
        ("AR2026_003 Arrêté de voirie", "actes-generique", "verif-iparapheur"),
        ("DEL2026_002 Tarifs de la cantine", "actes-generique", "acquiter-tdt"),
        ("DEL2026_001 Budget primitif", "actes-generique", "termine"),
    ]
    assert documents[0]["last_action_date"] == "2026-01-05 09:04:00"


def test_since_keeps_the_documents_that_moved_since(pastell_server: PastellServer) -> None:
    supervision = adapter(pastell_server)
    pastell_server.act("D000002", "send-archive")
    moved = supervision.documents("2", since="2026-01-05 09:05:00")

    assert [(d["id_d"], d["last_action"]) for d in moved] == [("D000002", "send-archive")]


def test_every_page_is_read(pastell_server: PastellServer) -> None:
    for number in range(PAGE_SIZE + 5):
        pastell_server.add_document("3", "actes-generique", f"DEL{number:04d}", "termine")

    documents = adapter(pastell_server).documents("3")

    assert len(documents) == PAGE_SIZE + 7
    assert len({d["id_d"] for d in documents}) == PAGE_SIZE + 7
    assert sum(1 for seen in pastell_server.seen if seen.endswith("/entite/3/document")) == 2


def test_documents_move_on_by_themselves_for_the_demo(pastell_server: PastellServer) -> None:
    pastell_server.auto_after = 2
    supervision = adapter(pastell_server)

    first = {d["titre"]: d["last_action"] for d in supervision.documents("2")}
    second = {d["titre"]: d["last_action"] for d in supervision.documents("2")}

    assert first["AR2026_003 Arrêté de voirie"] == "verif-iparapheur"
    assert second["AR2026_003 Arrêté de voirie"] == "recu-iparapheur"
    assert second["PES budget principal janvier"] == "acquiter-tdt"


def test_an_entity_not_visible_is_unrecoverable(pastell_server: PastellServer) -> None:
    with pytest.raises(UnrecoverableError, match="HTTP 403"):
        adapter(pastell_server).documents("99")


def test_wrong_credentials_are_unrecoverable(pastell_server: PastellServer) -> None:
    with pytest.raises(UnrecoverableError, match="HTTP 401"):
        adapter(pastell_server, password="wrong").check()


def test_a_server_error_is_recoverable(pastell_server: PastellServer) -> None:
    pastell_server.fail_next(1, status=502)

    with pytest.raises(RecoverableError, match="HTTP 502"):
        adapter(pastell_server).documents("2")


def test_a_timeout_is_recoverable(pastell_server: PastellServer) -> None:
    pastell_server.delay_next(1, seconds=1)

    with pytest.raises(RecoverableError, match="n'a pas répondu"):
        adapter(pastell_server, timeout=0.2).entities()


def test_a_missing_setting_is_unrecoverable() -> None:
    with pytest.raises(UnrecoverableError, match="Mot de passe"):
        PastellSupervision.from_config({"url": "http://x", "login": "admin"})
