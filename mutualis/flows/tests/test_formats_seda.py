"""SEDA 2.1: the transfer validates with the right digests; the archive's answers are read, bad ones named."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from mutualis.flows.formats import seda
from mutualis.flows.formats.xml import FormatError, schema_errors
from mutualis.flows.ports import FileToSend

DATA = Path(__file__).parent / "data"
AT = datetime(2026, 1, 20, 10, 0, tzinfo=UTC)
S = f"{{{seda.NS}}}"


def make_transfer(**changes: object) -> seda.ArchiveTransfer:
    transfer = seda.ArchiveTransfer(
        message_id="MUTUALIS-ACTES-000123",
        date=AT,
        title="Délibération DEL2026_012 — vote du budget",
        archival_agency="FRAD034",
        transferring_agency="OPSN",
        originating_agency="VILLE_EXEMPLE",
        archival_agreement="AA_ACTES",
        archival_profile="PROFIL_ACTES",
        documents=(
            seda.ArchiveDocument(
                title="Acte",
                files=(FileToSend("deliberation.pdf", b"%PDF-1.7\nacte"), FileToSend("annexe.pdf", b"%PDF-1.4\nx")),
                identifier="DEL2026_012",
                document_type="Délibération",
                keywords=("budget",),
                start_date=date(2026, 1, 12),
            ),
            seda.ArchiveDocument(
                title="Accusé de réception",
                files=(FileToSend("ararte.xml", b"<ARActe/>", mime="application/xml"),),
            ),
        ),
        start_date=date(2026, 1, 12),
        end_date=date(2026, 1, 13),
    )
    return replace(transfer, **changes)  # type: ignore[arg-type]


def test_the_shared_example_validates_against_the_copied_schema() -> None:
    root = etree.fromstring((DATA / "example-archive-transfer-min.xml").read_bytes())
    assert schema_errors(root, "seda-2.1") == []


def test_it_builds_a_transfer_that_validates_with_sha512_digests_and_sizes() -> None:
    built = seda.build_archive_transfer(make_transfer())
    root = etree.fromstring(built.xml)
    assert schema_errors(root, "seda-2.1") == []
    digests = {bdo.findtext(f"{S}Uri"): bdo.find(f"{S}MessageDigest") for bdo in root.iter(f"{S}BinaryDataObject")}
    assert set(digests) == {"deliberation.pdf", "annexe.pdf", "ararte.xml"}
    digest = digests["deliberation.pdf"]
    assert digest is not None
    assert digest.get("algorithm") == "SHA-512"
    assert digest.text == hashlib.sha512(b"%PDF-1.7\nacte").hexdigest()
    assert [(o.uri, o.size, o.format_id) for o in built.objects] == [
        ("deliberation.pdf", 13, "fmt/276"),
        ("annexe.pdf", 10, "fmt/18"),
        ("ararte.xml", 9, "fmt/101"),
    ]


def test_it_puts_one_unit_per_document_and_one_per_file_under_it() -> None:
    root = etree.fromstring(seda.build_archive_transfer(make_transfer()).xml)
    top = root.find(f"{S}DataObjectPackage/{S}DescriptiveMetadata/{S}ArchiveUnit")
    assert top is not None
    documents = top.findall(f"{S}ArchiveUnit")
    assert [d.findtext(f"{S}Content/{S}Title") for d in documents] == ["Acte", "Accusé de réception"]
    files = documents[0].findall(f"{S}ArchiveUnit")
    assert [f.findtext(f"{S}DataObjectReference/{S}DataObjectReferenceId") for f in files] == ["BDO1", "BDO2"]
    assert documents[0].findtext(f"{S}Content/{S}OriginatingAgencyArchiveUnitIdentifier") == "DEL2026_012"
    management = root.find(f"{S}DataObjectPackage/{S}ManagementMetadata")
    assert management is not None
    assert management.findtext(f"{S}OriginatingAgencyIdentifier") == "VILLE_EXEMPLE"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"message_id": " "}, "n'a pas d'identifiant de message (MessageIdentifier)"),
        ({"archival_agency": ""}, "ne nomme pas le service d'archives (ArchivalAgency)"),
        ({"originating_agency": ""}, "ne nomme pas le service producteur"),
        ({"documents": ()}, "Le versement SEDA ne contient aucun document."),
        ({"date": datetime(2026, 1, 20, 10, 0)}, "doit porter son fuseau horaire"),
        ({"documents": (seda.ArchiveDocument(title="Vide", files=()),)}, "Le document « Vide » n'a aucun fichier."),
        ({"documents": (seda.ArchiveDocument(title=" ", files=(FileToSend("a.pdf", b"x"),)),)}, "n'a pas de titre"),
        (
            {"documents": (seda.ArchiveDocument(title="A", files=(FileToSend("a.pdf", b""),)),)},
            "Le fichier « a.pdf » est vide.",
        ),
        (
            {"documents": (seda.ArchiveDocument(title="A", files=(FileToSend("../a.pdf", b"x"),)),)},
            "Le nom de fichier « ../a.pdf » est invalide.",
        ),
        (
            {
                "documents": (
                    seda.ArchiveDocument(title="A", files=(FileToSend("bulletin.pdf", b"1"),)),
                    seda.ArchiveDocument(title="B", files=(FileToSend("bulletin.pdf", b"2"),)),
                )
            },
            "Deux fichiers du versement s'appellent « bulletin.pdf »",
        ),
        ({"title": "Titre\x01"}, "caractère de contrôle"),
        ({"start_date": date(2026, 2, 1)}, "finit le 2026-01-13, avant de commencer le 2026-02-01."),
    ],
)
def test_it_refuses_an_invalid_transfer_with_a_french_message(changes: dict[str, object], message: str) -> None:
    with pytest.raises(FormatError) as caught:
        seda.build_archive_transfer(make_transfer(**changes))
    assert message in caught.value.message


def test_it_reads_the_reply_and_the_acknowledgement_it_builds_for_the_local_archive() -> None:
    reply_xml = seda.build_archive_transfer_reply(
        message_id="ATR_105",
        request_id="MUTUALIS-ACTES-000123",
        reply_code="000",
        at=AT,
        archival_agency="FRAD034",
        transferring_agency="OPSN",
        comment="Votre transfert d'archive a été accepté",
    )
    assert schema_errors(etree.fromstring(reply_xml), "seda-2.1") == []
    reply = seda.parse_archive_transfer_reply(reply_xml)
    assert (reply.reply_code, reply.accepted, reply.request_id, reply.message_id) == (
        "000",
        True,
        "MUTUALIS-ACTES-000123",
        "ATR_105",
    )
    ack_xml = seda.build_acknowledgement(
        message_id="ACK_1", received_id="MUTUALIS-ACTES-000123", at=AT, sender="FRAD034", receiver="OPSN"
    )
    assert schema_errors(etree.fromstring(ack_xml), "seda-2.1") == []
    ack = seda.parse_acknowledgement(ack_xml)
    assert (ack.message_id, ack.received_id) == ("ACK_1", "MUTUALIS-ACTES-000123")


@pytest.mark.parametrize(("code", "accepted"), [("000", True), ("OK", True), ("WARNING", True), ("300", False)])
def test_a_reply_is_accepted_only_on_an_accepting_code(code: str, accepted: bool) -> None:
    xml = seda.build_archive_transfer_reply(
        message_id="R", request_id="M", reply_code=code, at=AT, archival_agency="A", transferring_agency="T"
    )
    assert seda.parse_archive_transfer_reply(xml).accepted is accepted


def test_it_reads_a_seda_1_0_reply_from_an_older_asalae() -> None:
    xml = """<?xml version="1.0" encoding="UTF-8"?>
<ArchiveTransferReply xmlns="fr:gouv:culture:archivesdefrance:seda:v1.0">
  <Comment>Votre transfert d'archive a été accepté par la plate-forme</Comment>
  <Date>2026-01-20T10:26:03+01:00</Date>
  <ReplyCode listVersionID="edition 2009">000</ReplyCode>
  <TransferIdentifier>MUTUALIS-ACTES-000123</TransferIdentifier>
  <TransferReplyIdentifier>ATR_7</TransferReplyIdentifier>
  <Archive><ArchivalAgencyArchiveIdentifier>89</ArchivalAgencyArchiveIdentifier></Archive>
</ArchiveTransferReply>""".encode()
    reply = seda.parse_archive_transfer_reply(xml)
    assert (reply.accepted, reply.request_id, reply.message_id, reply.archive_id) == (
        True,
        "MUTUALIS-ACTES-000123",
        "ATR_7",
        "89",
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "La réponse au versement est vide."),
        (b"<ArchiveTransferReply>", "n'est pas un XML bien formé"),
        (
            b'<Acknowledgement xmlns="fr:gouv:culture:archivesdefrance:seda:v2.1"/>',
            "élément racine « Acknowledgement »",
        ),
        (b"<ArchiveTransferReply/>", "n'est pas un message SEDA ArchiveTransferReply"),  # no namespace
        (
            b'<ArchiveTransferReply xmlns="fr:gouv:culture:archivesdefrance:seda:v2.1"><Date>x</Date>'
            b"</ArchiveTransferReply>",
            "ne respecte pas le schéma officiel (seda-2.1)",
        ),
        (
            b'<ArchiveTransferReply xmlns="fr:gouv:culture:archivesdefrance:seda:v1.0"><Date>x</Date>'
            b"</ArchiveTransferReply>",
            "n'a pas de ReplyCode",
        ),
    ],
)
def test_it_refuses_what_is_not_a_transfer_reply(content: bytes, message: str) -> None:
    with pytest.raises(FormatError) as caught:
        seda.parse_archive_transfer_reply(content)
    assert message in caught.value.message


def test_an_acknowledgement_must_say_what_it_acknowledges() -> None:
    xml = b'<Acknowledgement xmlns="fr:gouv:culture:archivesdefrance:seda:v1.0"><Date>x</Date></Acknowledgement>'
    with pytest.raises(FormatError, match="ne dit pas quel message il accuse"):
        seda.parse_acknowledgement(xml)


names = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9 _.-]{0,30}\.pdf", fullmatch=True)


@settings(max_examples=25, deadline=None)
@given(
    files=st.dictionaries(names, st.binary(min_size=1, max_size=200), min_size=1, max_size=6),
    title=st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=80).filter(str.strip),
)
def test_any_set_of_files_gives_a_valid_transfer_with_their_digests(files: dict[str, bytes], title: str) -> None:
    documents = tuple(
        seda.ArchiveDocument(title=title, files=(FileToSend(name, content),)) for name, content in files.items()
    )
    built = seda.build_archive_transfer(make_transfer(documents=documents, title=title))
    assert schema_errors(etree.fromstring(built.xml), "seda-2.1") == []
    assert {o.uri: o.digest for o in built.objects} == {n: hashlib.sha512(c).hexdigest() for n, c in files.items()}
