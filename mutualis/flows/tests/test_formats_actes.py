"""@CTES: the act, its envelope and package validate against the Ministry's schema; bad input is named in French."""

from __future__ import annotations

import gzip
import io
import tarfile
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from mutualis.flows.formats import actes
from mutualis.flows.formats.xml import FormatError, schema_errors
from mutualis.flows.ports import ActToTransmit, FileToSend, UnrecoverableError

DATA = Path(__file__).parent / "data"


def make_act(**changes: object) -> ActToTransmit:
    act = ActToTransmit(
        number="DEL2026_012",
        nature=1,
        subject="Vote du budget primitif 2026 — fonctionnement et investissement",
        decision_date=date(2026, 1, 12),
        classification=("7", "1"),
        classification_version=date(2019, 3, 1),
        main=FileToSend("deliberation.pdf", b"%PDF-1.4\nacte", typology="99_DE"),
        attachments=(FileToSend("annexe budget.pdf", b"%PDF-1.4\nannexe", typology="70_DE"),),
        siren="213400000",
        department="034",
        arrondissement="1",
    )
    return replace(act, **changes)  # type: ignore[arg-type]


def package(act: ActToTransmit | None = None) -> actes.ActPackage:
    return actes.build_act_package(
        act or make_act(),
        authority_nature="01",
        return_emails=("actes@ville-exemple.fr",),
        referent=actes.Referent(name="Jeanne Martin", phone="0467000000", email="j.martin@ville-exemple.fr"),
    )


def members(content: bytes) -> dict[str, bytes]:
    with tarfile.open(fileobj=io.BytesIO(content), mode="r:gz") as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers()}  # type: ignore[union-attr]


def test_it_builds_an_act_that_validates_in_iso_8859_1() -> None:
    xml = actes.build_act_xml(make_act())
    assert xml.startswith(b"<?xml version='1.0' encoding='ISO-8859-1'?>")
    root = etree.fromstring(xml)
    assert schema_errors(root, "actes") == []
    assert root.get(f"{{{actes.NS}}}NumeroInterne") == "DEL2026_012"
    assert root.findtext(f"{{{actes.NS}}}Objet") == make_act().subject  # the em dash survives as a reference
    assert root.find(f"{{{actes.NS}}}Annexes").get(f"{{{actes.NS}}}Nombre") == "1"  # type: ignore[union-attr]


def test_it_builds_the_package_with_envelope_act_and_files_named_as_s2low_does() -> None:
    built = package()
    assert built.name == "EACT--213400000--20260112-1.tar.gz"
    assert built.act_id == "034-213400000-20260112-DEL2026_012-DE"
    assert built.file_names == (
        "99_DE-034-213400000-20260112-DEL2026_012-DE-1-1_1.pdf",
        "70_DE-034-213400000-20260112-DEL2026_012-DE-1-1_2.pdf",
    )
    files = members(built.content)
    assert set(files) == {built.envelope_name, built.act_xml_name, *built.file_names}
    assert built.act_xml_name == "034-213400000-20260112-DEL2026_012-DE-1-1_0.xml"
    for name in (built.envelope_name, built.act_xml_name):
        assert schema_errors(etree.fromstring(files[name]), "actes") == []
    assert files[built.file_names[0]] == b"%PDF-1.4\nacte"


def test_it_builds_the_same_bytes_for_the_same_act() -> None:
    assert package().content == package().content


def test_it_reads_back_a_package_as_a_transmission_service() -> None:
    received = actes.parse_act_package(package().content)
    assert received.act_id == "034-213400000-20260112-DEL2026_012-DE"
    assert received.envelope.siren == "213400000"
    assert received.envelope.return_emails == ("actes@ville-exemple.fr",)
    assert received.envelope.referent == actes.Referent("Jeanne Martin", "0467000000", "j.martin@ville-exemple.fr")
    assert received.act.classification == ("7", "1")
    assert received.act.subject == make_act().subject
    assert received.files[received.act.annexes[0]] == b"%PDF-1.4\nannexe"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"number": "del2026"}, "Le numéro de l'acte « del2026 » est invalide"),
        ({"number": "_DEL2026"}, "Le numéro de l'acte « _DEL2026 » est invalide"),
        ({"number": "DEL2026_"}, "Le numéro de l'acte « DEL2026_ » est invalide"),
        ({"number": "A" * 16}, "est invalide : de 1 à 15 caractères"),
        ({"number": "DÉL1"}, "Le numéro de l'acte « DÉL1 » est invalide"),
        ({"number": "DEL1\n"}, "Le numéro de l'acte « DEL1\n » est invalide"),
        ({"siren": "213400000\n"}, "Le SIREN « 213400000\n » est invalide"),
        ({"subject": "x" * 500}, "L'objet de l'acte fait 500 caractères : 499 au plus."),
        ({"subject": "   "}, "L'objet de l'acte est vide."),
        ({"subject": "Objet\x07"}, "caractère de contrôle"),
        ({"classification": ()}, "La classification de l'acte est incomplète"),
        ({"classification": ("7",)}, "La classification de l'acte est incomplète"),
        ({"classification": ("1", "2", "3", "4", "5", "6")}, "plus de cinq niveaux"),
        ({"classification": ("7", "a")}, "Le code de classification « a » est invalide"),
        ({"nature": 7}, "La nature de l'acte « 7 » est inconnue"),
        ({"nature": 0}, "La nature de l'acte « 0 » est inconnue"),
        ({"siren": "21340000"}, "Le SIREN « 21340000 » est invalide"),
        ({"department": "34"}, "Le département « 34 » est invalide"),
        ({"arrondissement": "12"}, "L'arrondissement « 12 » est invalide"),
        ({"main": FileToSend("acte.docx", b"PK")}, "Le document principal doit être un fichier .pdf"),
        ({"main": FileToSend("acte.pdf", b"")}, "Le document principal est vide."),
        ({"main": FileToSend("acte.pdf", b"%PDF", typology="DE")}, "Le type de pièce « DE »"),
        ({"attachments": (FileToSend("x.exe", b"MZ"),)}, "L'annexe « x.exe » doit être un fichier"),
    ],
)
def test_it_refuses_an_invalid_act_with_a_french_message(changes: dict[str, object], message: str) -> None:
    with pytest.raises(FormatError) as caught:
        actes.build_act_xml(make_act(**changes))
    assert message in caught.value.message
    assert isinstance(caught.value, UnrecoverableError)  # the engine stops, it does not retry


def test_it_accepts_an_xml_main_document_for_a_budget_only() -> None:
    budget = make_act(nature=5, main=FileToSend("budget.xml", b"<DocumentBudgetaire/>", mime="application/xml"))
    assert actes.build_act_xml(budget)
    with pytest.raises(FormatError, match="doit être un fichier .pdf"):
        actes.build_act_xml(replace(budget, nature=1))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"authority_nature": "1"}, "La nature de la collectivité « 1 » est invalide"),
        ({"return_emails": ()}, "au moins une adresse de retour"),
        ({"return_emails": ("pas une adresse",)}, "L'adresse électronique « pas une adresse » est invalide"),
        ({"sequence": 0}, "numéro d'ordre"),
    ],
)
def test_it_refuses_an_invalid_envelope(kwargs: dict[str, object], message: str) -> None:
    arguments: dict[str, object] = {"authority_nature": "01", "return_emails": ("actes@ville-exemple.fr",)}
    arguments.update(kwargs)
    with pytest.raises(FormatError) as caught:
        actes.build_act_package(make_act(), **arguments)  # type: ignore[arg-type]
    assert message in caught.value.message


def _tar_gz(files: dict[str, bytes]) -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        for name, content in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    return gzip.compress(raw.getvalue())


def test_it_refuses_a_package_that_is_not_a_tar_gz() -> None:
    with pytest.raises(FormatError, match="n'est pas une archive .tar.gz lisible"):
        actes.parse_act_package(b"not a tarball")


def test_it_refuses_a_package_without_its_envelope_or_a_file_the_act_names() -> None:
    files = members(package().content)
    envelope = next(name for name in files if name.startswith("EACT--"))
    without_envelope = {name: content for name, content in files.items() if name != envelope}
    with pytest.raises(FormatError, match="une et une seule enveloppe"):
        actes.parse_act_package(_tar_gz(without_envelope))
    without_pdf = {name: content for name, content in files.items() if not name.startswith("70_DE")}
    with pytest.raises(FormatError, match="annoncé par l'acte est absent du paquet"):
        actes.parse_act_package(_tar_gz(without_pdf))
    act_xml = next(name for name in files if name.endswith("_0.xml"))
    without_form = {name: content for name, content in files.items() if name != act_xml}
    with pytest.raises(FormatError, match="annoncé par l'enveloppe est absent du paquet"):
        actes.parse_act_package(_tar_gz(without_form))


def test_it_refuses_a_package_with_a_path_or_an_invalid_act() -> None:
    with pytest.raises(FormatError, match="chemin interdit"):
        actes.parse_act_package(_tar_gz({"../evil.xml": b"<x/>"}))
    files = members(package().content)
    act_xml = next(name for name in files if name.endswith("_0.xml"))
    files[act_xml] = (
        files[act_xml].replace(b"<actes:Objet>", b"<actes:Sujet>").replace(b"</actes:Objet>", b"</actes:Sujet>")
    )
    with pytest.raises(FormatError) as caught:
        actes.parse_act_package(_tar_gz(files))
    assert "ne respecte pas le schéma officiel (actes)" in caught.value.message
    assert "Sujet" in caught.value.detail


def test_it_reads_the_real_acknowledgement() -> None:
    ack = actes.parse_aracte((DATA / "example-aractes.xml").read_bytes())
    assert ack.act_id == "034-491011698-20171207-CL20171227_06-DE"
    assert ack.received_on == date(2017, 12, 27)
    assert ack.act.number == "CL20171227_06"
    assert ack.act.nature == 1
    assert ack.act.classification == ("3", "2")
    assert ack.act.subject == "Fichier signé parapheur"
    assert ack.act.document == "32_DP-034-491011698-20171207-CL20171227_06-DE-1-1_1.pdf"
    assert ack.classification_in_force == date(2017, 11, 13)


def test_it_builds_acknowledgements_and_anomalies_that_validate_and_read_back() -> None:
    received = actes.parse_act_package(package().content)
    ack_xml = actes.build_aracte(received.act, act_id=received.act_id, received_on=date(2026, 1, 13))
    assert schema_errors(etree.fromstring(ack_xml), "actes") == []
    ack = actes.parse_aracte(ack_xml)
    assert (ack.act_id, ack.act) == (received.act_id, received.act)
    anomaly_xml = actes.build_anomalie_acte(
        received.act, notified_on=date(2026, 1, 13), nature="042", detail="Classification inconnue"
    )
    assert schema_errors(etree.fromstring(anomaly_xml), "actes") == []
    anomaly = actes.parse_anomalie_acte(anomaly_xml)
    assert (anomaly.nature, anomaly.detail, anomaly.act.number) == ("042", "Classification inconnue", "DEL2026_012")


def test_it_reads_an_anomaly_that_misses_an_element_the_schema_requires() -> None:
    # Real anomalies come without DocumentPapier: what is read is there, so it is read.
    xml = b"""<?xml version='1.0' encoding='ISO-8859-1' ?>
<actes:AnomalieActe xmlns:actes="http://www.interieur.gouv.fr/ACTES#v1.1-20040216">
  <actes:Date>2026-01-13</actes:Date><actes:Nature>042</actes:Nature><actes:Detail>Pi\xe8ce illisible</actes:Detail>
  <actes:ActeRecu actes:Date="2026-01-12" actes:NumeroInterne="A1" actes:CodeNatureActe="3">
    <actes:CodeMatiere1 actes:CodeMatiere="2"/><actes:CodeMatiere2 actes:CodeMatiere="2"/>
    <actes:Objet>Arr\xeat\xe9</actes:Objet><actes:ClassificationDateVersion>2019-03-01</actes:ClassificationDateVersion>
    <actes:Document><actes:NomFichier>a.pdf</actes:NomFichier></actes:Document><actes:Annexes actes:Nombre="0"/>
  </actes:ActeRecu>
  <actes:ClassificationDateVersionEnCours>2019-03-01</actes:ClassificationDateVersionEnCours>
</actes:AnomalieActe>"""
    anomaly = actes.parse_anomalie_acte(xml)
    assert anomaly.detail == "Pièce illisible"
    assert anomaly.act.subject == "Arrêté"
    assert anomaly.act.nature == 3


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "L'accusé de réception de l'acte est vide."),
        (b"<actes:ARActe", "n'est pas un XML bien formé (ligne 1)"),
        (b"<ARActe/>", "n'est pas un message ARActe (élément racine « ARActe »)"),  # no namespace
        (
            b'<a:AnomalieActe xmlns:a="http://www.interieur.gouv.fr/ACTES#v1.1-20040216"/>',
            "n'est pas un message ARActe (élément racine « AnomalieActe »)",
        ),
        (
            b'<a:ARActe xmlns:a="http://www.interieur.gouv.fr/ACTES#v1.1-20040216" a:DateReception="2026-01-13"/>',
            "Le champ IDActe est absent ou vide.",
        ),
        (
            b'<a:ARActe xmlns:a="http://www.interieur.gouv.fr/ACTES#v1.1-20040216" a:IDActe="x"'
            b' a:DateReception="13/01/2026"/>',
            "Le champ DateReception n'est pas une date AAAA-MM-JJ",
        ),
        (
            b'<a:ARActe xmlns:a="http://www.interieur.gouv.fr/ACTES#v1.1-20040216" a:IDActe="x"'
            b' a:DateReception="2026-01-13"><a:ClassificationDateVersionEnCours>2019-03-01'
            b"</a:ClassificationDateVersionEnCours></a:ARActe>",
            "L'élément ActeRecu est absent.",
        ),
    ],
)
def test_it_refuses_what_is_not_an_acknowledgement(content: bytes, message: str) -> None:
    with pytest.raises(FormatError) as caught:
        actes.parse_aracte(content)
    assert message in caught.value.message


def test_it_does_not_expand_entities() -> None:
    xml = b"""<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>
<a:ARActe xmlns:a="http://www.interieur.gouv.fr/ACTES#v1.1-20040216" a:IDActe="&e;" a:DateReception="2026-01-13"/>"""
    with pytest.raises(FormatError):
        actes.parse_aracte(xml)


def test_it_reads_the_prefectures_classification() -> None:
    classification = actes.parse_classification((DATA / "example-classification.xml").read_bytes())
    assert classification.version == date(2019, 3, 1)
    natures = {nature.code: nature for nature in classification.natures}
    assert set(natures) == {1, 2, 3, 4, 5, 6}
    assert natures[1].abbreviation == "DE"
    assert actes.PieceType("99_DE", "Délibération") in natures[1].piece_types
    flat = dict(classification.flat())
    assert flat[("1",)] == "Commande Publique"
    assert flat[("1", "1")] == "Commande Publique / Marchés publics"
    assert flat[("2", "1", "2")] == "Urbanisme / Documents d urbanisme / Plan local d'urbanisme PLU"
    assert all(len(codes) <= 5 for codes in flat)


def test_it_checks_an_act_against_the_prefectures_classification() -> None:
    classification = actes.parse_classification((DATA / "example-classification.xml").read_bytes())
    classification.check(make_act(classification=("1", "1", "2"), attachments=()))
    with pytest.raises(FormatError, match="La classification 1.1.9 n'existe pas dans celle de la préfecture"):
        classification.check(make_act(classification=("1", "1", "9")))
    with pytest.raises(FormatError, match="La classification 42 n'existe pas"):
        classification.check(make_act(classification=("42", "1")))
    with pytest.raises(FormatError, match="« 99_AI » de « deliberation.pdf » n'est pas accepté pour la nature DE"):
        classification.check(make_act(main=FileToSend("deliberation.pdf", b"%PDF", typology="99_AI")))
    assert actes.PieceType("99_AI", "Acte individuel") in classification.piece_types(3)
    assert classification.piece_types(9) == ()


def test_it_refuses_a_classification_without_subjects() -> None:
    xml = (
        b'<a:RetourClassification xmlns:a="http://www.interieur.gouv.fr/ACTES#v1.1-20040216">'
        b"<a:DateClassification>2019-03-01</a:DateClassification><a:NaturesActes/></a:RetourClassification>"
    )
    with pytest.raises(FormatError, match="L'élément Matieres est absent."):
        actes.parse_classification(xml)


numbers = st.from_regex(actes.NUMBER_RE, fullmatch=True)
subjects = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\ufffe\uffff"),
    min_size=1,
    max_size=actes.SUBJECT_MAX,
).filter(lambda text: text.strip() != "")
classifications = st.lists(st.integers(min_value=0, max_value=99).map(str), min_size=2, max_size=5).map(tuple)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(number=numbers, subject=subjects, classification=classifications, nature=st.sampled_from(sorted(actes.NATURES)))
def test_any_valid_act_validates_and_round_trips(
    number: str, subject: str, classification: tuple[str, ...], nature: int
) -> None:
    act = make_act(number=number, subject=subject, classification=classification, nature=nature)
    xml = actes.build_act_xml(act)
    read = actes.parse_act_xml(xml)
    assert (read.number, read.nature, read.classification) == (number, nature, classification)
    assert read.subject == subject
