"""Hélios: a PES Aller is checked with French messages naming the element; its PES_ACQUIT is read."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from mutualis.flows.formats import pes
from mutualis.flows.formats.xml import FormatError

DATA = Path(__file__).parent / "data"
SAMPLE = (DATA / "pes_aller.xml").read_bytes()
ACQUIT = (DATA / "pes_acquit.xml").read_bytes()


def edited(xpath: str, *, value: str | None = None, remove: bool = False) -> bytes:
    """The sample with the element at `xpath` (namespace-free children) removed or its V changed."""
    root = etree.fromstring(SAMPLE)
    element = root.find(xpath)
    assert element is not None, xpath
    if remove:
        element.getparent().remove(element)  # type: ignore[union-attr]
    else:
        element.set("V", value or "")
    return etree.tostring(root, xml_declaration=True, encoding="ISO-8859-1")


def test_it_reads_the_sample_pes_aller() -> None:
    checked = pes.check_pes_aller(SAMPLE)
    assert checked == pes.PesAller(
        file_type="PESALR2",
        file_name="PESALR2_MUTUALIS_20260105_0001",
        id_post="069001",
        id_coll="21690123400017",
        cod_col="123",
        cod_bud="01",
        label="COMMUNE DE SAINT-EXEMPLE - BUDGET PRINCIPAL",
        blocks=("PES_DepenseAller",),
        bordereaux=1,
        signed=False,
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "Le fichier PES est vide."),
        (b"   \n", "Le fichier PES est vide."),
        (SAMPLE[:-40], "Le fichier PES n'est pas un XML bien formé (ligne"),
        (b"%PDF-1.4 not xml", "n'est pas un XML bien formé"),
        (
            SAMPLE.replace(b"n:PES_Aller", b"n:PES_Retour"),
            "n'est pas un PES Aller : l'élément racine est « PES_Retour », PES_Aller est attendu.",
        ),
        (SAMPLE.replace(b"Rev0/aller", b"Rev0/retour"), "n'est pas celui du PES Aller"),
        (edited("Enveloppe", remove=True), "l'élément PES_Aller/Enveloppe est absent."),
        (edited("Enveloppe/Parametres", remove=True), "l'élément PES_Aller/Enveloppe/Parametres est absent."),
        (edited("Enveloppe/Parametres/TypFic", remove=True), "PES_Aller/Enveloppe/Parametres/TypFic est absent."),
        (edited("Enveloppe/Parametres/TypFic", value=""), "PES_Aller/Enveloppe/Parametres/TypFic n'a pas de valeur"),
        (edited("Enveloppe/Parametres/TypFic", value="PESRET"), "TypFic vaut « PESRET », un PES Aller attend"),
        (edited("Enveloppe/Parametres/NomFic", remove=True), "PES_Aller/Enveloppe/Parametres/NomFic est absent."),
        (edited("Enveloppe/Parametres/NomFic", value="N" * 101), "NomFic fait 101 caractères, 100 au plus."),
        (edited("EnTetePES", remove=True), "l'élément PES_Aller/EnTetePES est absent."),
        (edited("EnTetePES/IdColl", remove=True), "l'élément PES_Aller/EnTetePES/IdColl est absent."),
        (edited("EnTetePES/IdColl", value="216901234000171"), "IdColl « 216901234000171 » doit être le SIRET"),
        (edited("EnTetePES/IdPost", value="69001"), "IdPost « 69001 » doit compter six chiffres"),
        (edited("EnTetePES/IdPost", value="069 001"), "IdPost « 069 001 » doit compter six chiffres"),
        (edited("EnTetePES/CodCol", remove=True), "l'élément PES_Aller/EnTetePES/CodCol est absent."),
        (edited("EnTetePES/CodCol", value="1234"), "CodCol « 1234 » doit compter de 1 à 3 caractères."),
        (edited("EnTetePES/CodBud", remove=True), "l'élément PES_Aller/EnTetePES/CodBud est absent."),
        (edited("EnTetePES/CodBud", value="123"), "CodBud « 123 » doit compter 1 ou 2 caractères."),
        (edited("PES_DepenseAller", remove=True), "ne contient aucun bloc de données"),
    ],
)
def test_it_names_what_is_wrong_in_a_pes_aller(content: bytes, message: str) -> None:
    with pytest.raises(FormatError) as caught:
        pes.check_pes_aller(content)
    assert message in caught.value.message
    assert caught.value.message.startswith("Le fichier PES")


def test_it_accepts_a_signed_pes_without_namespace_and_counts_its_bordereaux() -> None:
    root = etree.fromstring(SAMPLE)
    depense = root.find("PES_DepenseAller")
    assert depense is not None
    bordereau = depense.find("Bordereau")
    assert bordereau is not None
    second = etree.fromstring(etree.tostring(bordereau))
    second.set("Id", "BORD_2026_0002")
    etree.SubElement(second, "{http://www.w3.org/2000/09/xmldsig#}Signature")
    depense.append(second)
    content = etree.tostring(root).replace(b"n:PES_Aller", b"PES_Aller").replace(b' xmlns:n="', b' xmlns:old="')
    checked = pes.check_pes_aller(content)
    assert (checked.bordereaux, checked.signed) == (2, True)


def test_it_reads_the_sample_acknowledgement() -> None:
    ack = pes.parse_pes_acquit(ACQUIT)
    assert ack.file_name == "PESALR2_MUTUALIS_20260105_0001"
    assert (ack.id_coll, ack.cod_col, ack.cod_bud) == ("21690123400017", "123", "01")
    assert ack.accepted
    assert [(e.domain_label, e.bordereau, e.exercise, e.accepted) for e in ack.elements] == [
        ("dépense", "1", "2026", True),
        ("pièce justificative", "", "", True),
    ]
    assert ack.summary() == "2 élément(s) acquitté(s)"


def test_a_refused_element_refuses_the_file_and_says_why() -> None:
    refused = ACQUIT.replace(
        b'<EtatAck V="1"/>\n      <NumBord V="1"/>',
        b'<EtatAck V="2"/>\n      <NumBord V="1"/>'
        b'<Erreur><NumAnoAck V="F3"/><LibelleAnoAck V="Bordereau d\xe9j\xe0 pris en charge"/></Erreur>',
    )
    ack = pes.parse_pes_acquit(refused)
    assert not ack.accepted
    assert ack.elements[0].error_label == "Bordereau déjà pris en charge"
    assert ack.summary() == "1 élément(s) refusé(s) : dépense 1 : F3 Bordereau déjà pris en charge"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "L'acquittement PES est vide."),
        (b"<PES_ACQUIT>", "n'est pas un XML bien formé"),
        (SAMPLE, "n'est pas un PES_ACQUIT : l'élément racine est « PES_Aller »."),
        (ACQUIT.replace(b"<NomFic", b"<NomFichier"), "PES_ACQUIT/Enveloppe/Parametres/NomFic est absent."),
        (
            ACQUIT.replace(b"<ACQUIT>", b"<AUTRE>").replace(b"</ACQUIT>", b"</AUTRE>"),
            "l'élément PES_ACQUIT/ACQUIT est absent.",
        ),
        (ACQUIT.replace(b"ElementACQUIT>", b"Element>"), "ne contient aucun ElementACQUIT."),
        (ACQUIT.replace(b'<EtatAck V="1"/>', b"<EtatAck/>", 1), "ElementACQUIT/EtatAck n'a pas de valeur"),
    ],
)
def test_it_refuses_what_is_not_a_pes_acquit(content: bytes, message: str) -> None:
    with pytest.raises(FormatError) as caught:
        pes.parse_pes_acquit(content)
    assert message in caught.value.message
