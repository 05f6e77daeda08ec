"""@CTES (contrôle de légalité): the act and its envelope sent to the prefecture, and what comes back.

Built: the `Acte` XML (message 1-1), the `EnveloppeCLMISILL` and the .tar.gz that carries them with
the PDFs, ISO-8859-1 as the protocol wants; every XML is validated against the Ministry's schema
(schemas/actes/actesv1_1.xsd) before it leaves. Parsed: that package (what a transmission service
receives), the acknowledgement `ARActe` (1-2), the anomaly `AnomalieActe` (1-3) and the prefecture's
classification `RetourClassification` (7). The acknowledgement and anomaly builders exist for the
local S²low server, which answers with the very XML a prefecture sends.

The checks before the schema give a French message naming the field (the number's pattern, the
subject's length, the classification, the nature): the schema's own messages are English and terse,
they are kept in `FormatError.detail`.
"""

from __future__ import annotations

import gzip
import io
import re
import tarfile
from dataclasses import dataclass
from datetime import date
from pathlib import PurePosixPath

from django.utils.translation import gettext as _
from lxml import etree

from mutualis.flows.formats.xml import FormatError, local_name, parse, serialize, validate
from mutualis.flows.ports import ActToTransmit, FileToSend

NS = "http://www.interieur.gouv.fr/ACTES#v1.1-20040216"
INSEE_NS = "http://xml.insee.fr/schema"
NSMAP = {"actes": NS, "insee": INSEE_NS}
ENCODING = "ISO-8859-1"

# Nature code → the two letters that end an act's identifier and name its files.
NATURES: dict[int, str] = {1: "DE", 2: "AR", 3: "AI", 4: "CC", 5: "BF", 6: "AU"}
NATURE_LABELS: dict[int, str] = {
    1: "Délibérations",
    2: "Actes réglementaires",
    3: "Actes individuels",
    4: "Contrats, conventions et avenants",
    5: "Documents budgétaires et financiers",
    6: "Autres",
}
# S²low's rule, stricter than the schema's 15 characters.
NUMBER_RE = re.compile(r"^(?:[A-Z0-9][A-Z0-9_]{0,13})?[A-Z0-9]$")
SUBJECT_MAX = 499  # S²low; the schema allows 500
SIREN_RE = re.compile(r"^[0-9]{9}$")
DEPARTMENT_RE = re.compile(r"^[09][0-9][AB0-9]$")
ARRONDISSEMENT_RE = re.compile(r"^[0-9]$")
AUTHORITY_NATURE_RE = re.compile(r"^[0-9]{2}$")
TYPOLOGY_RE = re.compile(r"^[0-9]{2}_[A-Z]{2}$")
CODE_RE = re.compile(r"^[0-9]{1,9}$")
EMAIL_RE = re.compile(r"^[_a-zA-Z0-9\-]+(\.[_a-zA-Z0-9\-]+)*@[a-zA-Z0-9\-]+(\.[a-zA-Z0-9\-]+)*\.[a-zA-Z]{2,6}$")
# Characters XML 1.0 cannot carry at all (control characters): refused rather than silently dropped.
_XML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
MAIN_EXTENSIONS = {".pdf"}
BUDGET_MAIN_EXTENSIONS = {".pdf", ".xml"}
ATTACHMENT_EXTENSIONS = {".pdf", ".jpg", ".jpeg", ".png", ".xml"}


def _q(name: str) -> str:
    return f"{{{NS}}}{name}"


# --- what is built ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Referent:
    """The person the prefecture may call about the authority's acts (optional in the envelope)."""

    name: str = ""
    phone: str = ""
    email: str = ""


@dataclass(frozen=True)
class ActPackage:
    """The .tar.gz to hand to the transmission service, with the names inside it."""

    name: str  # EACT--{siren}--{yyyymmdd}-{sequence}.tar.gz
    content: bytes
    act_id: str  # DDD-SIREN-YYYYMMDD-NUMERO-XX
    envelope_name: str
    act_xml_name: str
    file_names: tuple[str, ...]  # main document first, then the attachments, as named inside


def act_id(act: ActToTransmit) -> str:
    """The act's national identifier `DDD-SIREN-YYYYMMDD-NUMERO-XX` (checks the act first)."""
    check_act(act)
    return f"{act.department}-{act.siren}-{act.decision_date:%Y%m%d}-{act.number}-{NATURES[act.nature]}"


def check_act(act: ActToTransmit) -> None:
    """Raise FormatError with a French message on the first field a prefecture would refuse."""
    if not NUMBER_RE.fullmatch(act.number):
        raise FormatError(
            _(
                "Le numéro de l'acte « %(number)s » est invalide : de 1 à 15 caractères parmi les "
                "majuscules non accentuées, les chiffres et « _ », sans « _ » au début ni à la fin."
            )
            % {"number": act.number}
        )
    if act.nature not in NATURES:
        raise FormatError(
            _("La nature de l'acte « %(nature)s » est inconnue : attendu un code de 1 à 6 (%(list)s).")
            % {"nature": act.nature, "list": ", ".join(f"{code} {abbr}" for code, abbr in NATURES.items())}
        )
    subject = act.subject.strip()
    if not subject:
        raise FormatError(_("L'objet de l'acte est vide."))
    if len(act.subject) > SUBJECT_MAX:
        raise FormatError(
            _("L'objet de l'acte fait %(length)s caractères : %(max)s au plus.")
            % {"length": len(act.subject), "max": SUBJECT_MAX}
        )
    if _XML_FORBIDDEN.search(act.subject):
        raise FormatError(_("L'objet de l'acte contient un caractère de contrôle qu'un XML ne peut pas porter."))
    if len(act.classification) < 2:
        raise FormatError(
            _(
                "La classification de l'acte est incomplète : la matière et la sous-matière "
                "(au moins deux niveaux, par exemple 1.1) sont obligatoires."
            )
        )
    if len(act.classification) > 5:
        raise FormatError(_("La classification de l'acte a plus de cinq niveaux."))
    for code in act.classification:
        if not CODE_RE.fullmatch(code):
            raise FormatError(
                _("Le code de classification « %(code)s » est invalide : un nombre est attendu.") % {"code": code}
            )
    _check_identity(siren=act.siren, department=act.department, arrondissement=act.arrondissement)
    _check_files(act)


def _check_identity(*, siren: str, department: str, arrondissement: str) -> None:
    if not SIREN_RE.fullmatch(siren):
        raise FormatError(_("Le SIREN « %(siren)s » est invalide : neuf chiffres attendus.") % {"siren": siren})
    if not DEPARTMENT_RE.fullmatch(department):
        raise FormatError(
            _("Le département « %(department)s » est invalide : trois caractères attendus (069, 02A, 974).")
            % {"department": department}
        )
    if not ARRONDISSEMENT_RE.fullmatch(arrondissement):
        raise FormatError(
            _("L'arrondissement « %(arrondissement)s » est invalide : un chiffre attendu.")
            % {"arrondissement": arrondissement}
        )


def _check_files(act: ActToTransmit) -> None:
    allowed_main = BUDGET_MAIN_EXTENSIONS if act.nature == 5 else MAIN_EXTENSIONS
    files = (act.main, *act.attachments)
    for index, file in enumerate(files):
        allowed = allowed_main if index == 0 else ATTACHMENT_EXTENSIONS
        what = _("Le document principal") if index == 0 else _("L'annexe « %(name)s »") % {"name": file.name}
        if not file.content:
            raise FormatError(_("%(what)s est vide.") % {"what": what})
        if _extension(file.name) not in allowed:
            raise FormatError(
                _("%(what)s doit être un fichier %(allowed)s (reçu « %(name)s »).")
                % {"what": what, "allowed": ", ".join(sorted(allowed)), "name": file.name}
            )
        if file.typology and not TYPOLOGY_RE.fullmatch(file.typology):
            raise FormatError(
                _("Le type de pièce « %(typology)s » de « %(name)s » est invalide : attendu comme 99_DE.")
                % {"typology": file.typology, "name": file.name}
            )


def _extension(name: str) -> str:
    return PurePosixPath(name).suffix.lower()


def _file_names(act: ActToTransmit) -> tuple[str, tuple[str, ...]]:
    """The act XML's name and its pieces' names, as S²low names them (`…-1-1_0.xml`, `…-1-1_1.pdf`)."""
    stem = f"{act.department}-{act.siren}-{act.decision_date:%Y%m%d}-{act.number}-{NATURES[act.nature]}-1-1"
    names = []
    for index, file in enumerate((act.main, *act.attachments), start=1):
        prefix = f"{file.typology}-" if file.typology else ""
        names.append(f"{prefix}{stem}_{index}{_extension(file.name)}")
    return f"{stem}_0.xml", tuple(names)


def build_act_xml(act: ActToTransmit, *, paper: bool = False) -> bytes:
    """The `Acte` message (ISO-8859-1) for `act`, validated; `paper`: pieces also sent on paper."""
    check_act(act)
    names = _file_names(act)[1]
    root = etree.Element(
        _q("Acte"),
        nsmap=NSMAP,
        attrib={
            _q("Date"): act.decision_date.isoformat(),
            _q("NumeroInterne"): act.number,
            _q("CodeNatureActe"): str(act.nature),
        },
    )
    _fill_act(root, act, names, paper=paper)
    validate(root, "actes", what=_("L'acte @CTES produit"))
    return serialize(root, encoding=ENCODING)


def _fill_act(root: etree._Element, act: ActToTransmit, names: tuple[str, ...], *, paper: bool) -> None:
    for level, code in enumerate(act.classification, start=1):
        etree.SubElement(root, _q(f"CodeMatiere{level}"), attrib={_q("CodeMatiere"): str(int(code))})
    etree.SubElement(root, _q("Objet")).text = act.subject
    etree.SubElement(root, _q("ClassificationDateVersion")).text = act.classification_version.isoformat()
    document = etree.SubElement(root, _q("Document"))
    etree.SubElement(document, _q("NomFichier")).text = names[0]
    annexes = etree.SubElement(root, _q("Annexes"), attrib={_q("Nombre"): str(len(names) - 1)})
    for name in names[1:]:
        annex = etree.SubElement(annexes, _q("Annexe"))
        etree.SubElement(annex, _q("NomFichier")).text = name
    etree.SubElement(root, _q("DocumentPapier")).text = "O" if paper else "N"


def build_envelope_xml(
    *,
    siren: str,
    department: str,
    arrondissement: str,
    authority_nature: str,
    return_emails: tuple[str, ...],
    forms: tuple[str, ...],
    referent: Referent | None = None,
) -> bytes:
    """The `EnveloppeCLMISILL` (ISO-8859-1) listing the XML `forms` it carries, validated."""
    _check_identity(siren=siren, department=department, arrondissement=arrondissement)
    if not AUTHORITY_NATURE_RE.fullmatch(authority_nature):
        raise FormatError(
            _("La nature de la collectivité « %(nature)s » est invalide : deux chiffres attendus.")
            % {"nature": authority_nature}
        )
    if not return_emails:
        raise FormatError(_("L'enveloppe doit donner au moins une adresse de retour."))
    for email in (*return_emails, *([referent.email] if referent and referent.email else [])):
        if not EMAIL_RE.fullmatch(email):
            raise FormatError(_("L'adresse électronique « %(email)s » est invalide.") % {"email": email})
    root = etree.Element(_q("EnveloppeCLMISILL"), nsmap=NSMAP)
    sender = etree.SubElement(root, _q("Emetteur"))
    etree.SubElement(
        sender,
        _q("IDCL"),
        attrib={
            f"{{{INSEE_NS}}}SIREN": siren,
            _q("Departement"): department,
            _q("Arrondissement"): arrondissement,
            _q("Nature"): authority_nature,
        },
    )
    if referent is not None:
        ref = etree.SubElement(sender, _q("Referent"))
        for tag, value in (("Nom", referent.name), ("Telephone", referent.phone), ("Email", referent.email)):
            if value:
                etree.SubElement(ref, _q(tag)).text = value
    addresses = etree.SubElement(root, _q("AdressesRetour"))
    for email in return_emails:
        etree.SubElement(addresses, _q("Email")).text = email
    sent = etree.SubElement(root, _q("FormulairesEnvoyes"))
    for form in forms:
        formulaire = etree.SubElement(sent, _q("Formulaire"))
        etree.SubElement(formulaire, _q("NomFichier")).text = form
    validate(root, "actes", what=_("L'enveloppe @CTES produite"))
    return serialize(root, encoding=ENCODING)


def build_act_package(
    act: ActToTransmit,
    *,
    authority_nature: str,
    return_emails: tuple[str, ...],
    referent: Referent | None = None,
    sequence: int = 1,
    paper: bool = False,
) -> ActPackage:
    """The .tar.gz of `act`: envelope, act XML, main document and attachments, all checked.

    `sequence` numbers the authority's envelopes of the day (EACT--SIREN--YYYYMMDD-N). The archive
    is byte-for-byte reproducible (fixed dates and owners), so the same act gives the same package.
    """
    if sequence < 1:
        raise FormatError(_("Le numéro d'ordre de l'enveloppe doit être positif."))
    act_xml = build_act_xml(act, paper=paper)
    act_xml_name, names = _file_names(act)
    envelope = build_envelope_xml(
        siren=act.siren,
        department=act.department,
        arrondissement=act.arrondissement,
        authority_nature=authority_nature,
        return_emails=return_emails,
        forms=(act_xml_name,),
        referent=referent,
    )
    stem = f"EACT--{act.siren}--{act.decision_date:%Y%m%d}-{sequence}"
    members = [(f"{stem}.xml", envelope), (act_xml_name, act_xml)]
    members += [(name, file.content) for name, file in zip(names, (act.main, *act.attachments), strict=True)]
    return ActPackage(
        name=f"{stem}.tar.gz",
        content=_tar_gz(members),
        act_id=act_id(act),
        envelope_name=f"{stem}.xml",
        act_xml_name=act_xml_name,
        file_names=names,
    )


def _tar_gz(members: list[tuple[str, bytes]]) -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        for name, content in members:
            info = tarfile.TarInfo(name)
            info.size = len(content)
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(content))
    return gzip.compress(raw.getvalue(), mtime=0)


# --- what is parsed --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ActData:
    """An act as the XML describes it (`Acte`, or the `ActeRecu` of an acknowledgement or anomaly)."""

    number: str
    nature: int
    decision_date: date
    classification: tuple[str, ...]
    subject: str
    classification_version: date
    document: str  # the main document's file name
    annexes: tuple[str, ...]
    paper: bool


@dataclass(frozen=True)
class Envelope:
    siren: str
    department: str
    arrondissement: str
    authority_nature: str
    return_emails: tuple[str, ...]
    forms: tuple[str, ...]
    referent: Referent | None


@dataclass(frozen=True)
class ReceivedPackage:
    """A package opened by a transmission service: its envelope, its act and every file by name."""

    envelope_name: str
    envelope: Envelope
    act_xml_name: str
    act: ActData
    files: dict[str, bytes]

    @property
    def act_id(self) -> str:
        nature = NATURES[self.act.nature]
        e = self.envelope
        return f"{e.department}-{e.siren}-{self.act.decision_date:%Y%m%d}-{self.act.number}-{nature}"


@dataclass(frozen=True)
class ActAcknowledgement:
    """`ARActe`: the prefecture received the act on `received_on` under `act_id`."""

    act_id: str
    received_on: date
    act: ActData
    classification_in_force: date


@dataclass(frozen=True)
class ActAnomaly:
    """`AnomalieActe`: the prefecture refused the act (`nature` is its three-digit code)."""

    notified_on: date
    nature: str
    detail: str
    act: ActData
    classification_in_force: date


@dataclass(frozen=True)
class PieceType:
    code: str  # 99_DE
    label: str


@dataclass(frozen=True)
class ActNatureEntry:
    code: int
    label: str
    abbreviation: str
    piece_types: tuple[PieceType, ...]


@dataclass(frozen=True)
class Subject:
    """A level of the subject classification (matière); `children` are its sub-levels."""

    code: str
    label: str
    children: tuple[Subject, ...] = ()


@dataclass(frozen=True)
class Classification:
    """`RetourClassification`: the natures and subjects a prefecture accepts, as of `version`."""

    version: date
    natures: tuple[ActNatureEntry, ...]
    subjects: tuple[Subject, ...]

    def piece_types(self, nature: int) -> tuple[PieceType, ...]:
        """The piece typology codes (99_DE…) the prefecture accepts for acts of `nature`."""
        for entry in self.natures:
            if entry.code == nature:
                return entry.piece_types
        return ()

    def check(self, act: ActToTransmit) -> None:
        """Raise FormatError if `act`'s subject or its pieces' typology are not in this classification."""
        level = self.subjects
        for depth, code in enumerate(act.classification, start=1):
            found = next((subject for subject in level if subject.code == code), None)
            if found is None:
                raise FormatError(
                    _("La classification %(codes)s n'existe pas dans celle de la préfecture du %(version)s.")
                    % {"codes": ".".join(act.classification[:depth]), "version": self.version.isoformat()}
                )
            level = found.children
        allowed = {piece.code for piece in self.piece_types(act.nature)}
        for file in (act.main, *act.attachments):
            if file.typology and file.typology not in allowed:
                raise FormatError(
                    _("Le type de pièce « %(typology)s » de « %(name)s » n'est pas accepté pour la nature %(nature)s.")
                    % {"typology": file.typology, "name": file.name, "nature": NATURES.get(act.nature, act.nature)}
                )

    def flat(self) -> tuple[tuple[tuple[str, ...], str], ...]:
        """Every subject as (codes, "label / sub-label"), parents before children: ((("1",), "…"), …)."""
        out: list[tuple[tuple[str, ...], str]] = []

        def walk(subjects: tuple[Subject, ...], codes: tuple[str, ...], labels: tuple[str, ...]) -> None:
            for subject in subjects:
                path, names = (*codes, subject.code), (*labels, subject.label.strip())
                out.append((path, " / ".join(names)))
                walk(subject.children, path, names)

        walk(self.subjects, (), ())
        return tuple(out)


def _root(content: bytes, expected: str, what: str, *, strict: bool) -> etree._Element:
    """The root of `content`, which must be `expected`; `strict`: it must also validate.

    What a prefecture sends back is read leniently (real acknowledgements sometimes miss an element
    the schema requires, such as DocumentPapier): only the fields read must be there. What Mutualis
    receives as a transmission service (the package) is validated, as a real one does.
    """
    root = parse(content, what=what)
    if root.tag != _q(expected):
        raise FormatError(
            _("%(what)s n'est pas un message %(expected)s (élément racine « %(found)s »).")
            % {"what": what, "expected": expected, "found": local_name(root)}
        )
    if strict:
        validate(root, "actes", what=what)
    return root


def _attr(element: etree._Element, name: str) -> str:
    return str(element.get(_q(name), ""))


def _required(value: str, name: str) -> str:
    if not value.strip():
        raise FormatError(_("Le champ %(name)s est absent ou vide.") % {"name": name})
    return value.strip()


def _date(value: str, name: str) -> date:
    try:
        return date.fromisoformat(_required(value, name))
    except ValueError as exc:
        raise FormatError(
            _("Le champ %(name)s n'est pas une date AAAA-MM-JJ : « %(value)s ».") % {"name": name, "value": value}
        ) from exc


def _in_force(root: etree._Element) -> date:
    return _date(_text(root, "ClassificationDateVersionEnCours"), "ClassificationDateVersionEnCours")


def _child(element: etree._Element, name: str) -> etree._Element:
    child = element.find(_q(name))
    if child is None:
        raise FormatError(_("L'élément %(name)s est absent.") % {"name": name})
    return child


def _text(element: etree._Element, name: str) -> str:
    child = element.find(_q(name))
    return (child.text or "") if child is not None else ""


def _act_data(element: etree._Element) -> ActData:
    codes = []
    for level in range(1, 6):
        child = element.find(_q(f"CodeMatiere{level}"))
        if child is not None:
            codes.append(_attr(child, "CodeMatiere"))
    annexes = element.find(_q("Annexes"))
    annex_names: tuple[str, ...] = ()
    if annexes is not None:
        annex_names = tuple(_text(annex, "NomFichier") for annex in annexes.findall(_q("Annexe")))
    document = element.find(_q("Document"))
    nature = _required(_attr(element, "CodeNatureActe"), "CodeNatureActe")
    if not nature.isdigit():
        raise FormatError(_("Le champ CodeNatureActe n'est pas un nombre : « %(value)s ».") % {"value": nature})
    return ActData(
        number=_required(_attr(element, "NumeroInterne"), "NumeroInterne"),
        nature=int(nature),
        decision_date=_date(_attr(element, "Date"), "Date"),
        classification=tuple(codes),
        subject=_text(element, "Objet"),
        classification_version=_date(_text(element, "ClassificationDateVersion"), "ClassificationDateVersion"),
        document=_text(document, "NomFichier") if document is not None else "",
        annexes=annex_names,
        paper=_text(element, "DocumentPapier").strip().upper() == "O",
    )


def parse_act_xml(content: bytes) -> ActData:
    """Read an `Acte` message (validated against the schema)."""
    return _act_data(_root(content, "Acte", _("Le formulaire de l'acte"), strict=True))


def parse_envelope(content: bytes) -> Envelope:
    """Read an `EnveloppeCLMISILL` (validated against the schema)."""
    root = _root(content, "EnveloppeCLMISILL", _("L'enveloppe"), strict=True)
    idcl = _child(_child(root, "Emetteur"), "IDCL")
    ref = root.find(f"{_q('Emetteur')}/{_q('Referent')}")
    referent = None
    if ref is not None:
        referent = Referent(name=_text(ref, "Nom"), phone=_text(ref, "Telephone"), email=_text(ref, "Email"))
    return Envelope(
        siren=str(idcl.get(f"{{{INSEE_NS}}}SIREN", "")),
        department=_attr(idcl, "Departement"),
        arrondissement=_attr(idcl, "Arrondissement"),
        authority_nature=_attr(idcl, "Nature"),
        return_emails=tuple((e.text or "") for e in root.iterfind(f"{_q('AdressesRetour')}/{_q('Email')}")),
        forms=tuple(
            _text(form, "NomFichier") for form in root.iterfind(f"{_q('FormulairesEnvoyes')}/{_q('Formulaire')}")
        ),
        referent=referent,
    )


def parse_act_package(content: bytes) -> ReceivedPackage:
    """Open a .tar.gz as a transmission service does: envelope, act form, and every file it names."""
    files: dict[str, bytes] = {}
    try:
        with tarfile.open(fileobj=io.BytesIO(content), mode="r:gz") as tar:
            for member in tar.getmembers():
                if not member.isfile():
                    continue
                if "/" in member.name or "\\" in member.name or member.name.startswith("."):
                    raise FormatError(
                        _("L'archive contient un chemin interdit : « %(name)s ».") % {"name": member.name}
                    )
                extracted = tar.extractfile(member)
                files[member.name] = extracted.read() if extracted is not None else b""
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise FormatError(_("Le paquet n'est pas une archive .tar.gz lisible."), detail=str(exc)) from exc
    envelopes = [name for name in files if name.startswith("EACT--") and name.endswith(".xml")]
    if len(envelopes) != 1:
        raise FormatError(
            _("Le paquet doit contenir une et une seule enveloppe EACT--…xml (trouvées : %(count)s).")
            % {"count": len(envelopes)}
        )
    envelope = parse_envelope(files[envelopes[0]])
    if len(envelope.forms) != 1:
        raise FormatError(_("L'enveloppe doit annoncer un seul formulaire d'acte."))
    form = envelope.forms[0]
    if form not in files:
        raise FormatError(
            _("Le formulaire « %(name)s » annoncé par l'enveloppe est absent du paquet.") % {"name": form}
        )
    act = parse_act_xml(files[form])
    for name in (act.document, *act.annexes):
        if name not in files:
            raise FormatError(_("Le fichier « %(name)s » annoncé par l'acte est absent du paquet.") % {"name": name})
    return ReceivedPackage(envelope_name=envelopes[0], envelope=envelope, act_xml_name=form, act=act, files=files)


def parse_aracte(content: bytes) -> ActAcknowledgement:
    """Read an `ARActe` (the prefecture's acknowledgement), validated against the schema."""
    root = _root(content, "ARActe", _("L'accusé de réception de l'acte"), strict=False)
    return ActAcknowledgement(
        act_id=_required(_attr(root, "IDActe"), "IDActe"),
        received_on=_date(_attr(root, "DateReception"), "DateReception"),
        act=_act_data(_child(root, "ActeRecu")),
        classification_in_force=_in_force(root),
    )


def parse_anomalie_acte(content: bytes) -> ActAnomaly:
    """Read an `AnomalieActe` (the prefecture refused the act), validated against the schema."""
    root = _root(content, "AnomalieActe", _("L'anomalie de l'acte"), strict=False)
    return ActAnomaly(
        notified_on=_date(_text(root, "Date"), "Date"),
        nature=_required(_text(root, "Nature"), "Nature"),
        detail=_text(root, "Detail").strip(),
        act=_act_data(_child(root, "ActeRecu")),
        classification_in_force=_in_force(root),
    )


def parse_classification(content: bytes) -> Classification:
    """Read a `RetourClassification`: natures with their piece types, and the subject tree."""
    root = _root(content, "RetourClassification", _("La classification"), strict=False)
    natures = []
    for nature in root.iterfind(f"{_q('NaturesActes')}/{_q('NatureActe')}"):
        natures.append(
            ActNatureEntry(
                code=int(_attr(nature, "CodeNatureActe") or 0),
                label=_attr(nature, "Libelle"),
                abbreviation=_attr(nature, "TypeAbrege"),
                piece_types=tuple(
                    PieceType(code=_attr(piece, "CodeTypePJ"), label=_attr(piece, "Libelle"))
                    for piece in nature.iterfind(_q("TypePJNatureActe"))
                ),
            )
        )

    def subjects(parent: etree._Element, level: int) -> tuple[Subject, ...]:
        return tuple(
            Subject(
                code=_attr(child, "CodeMatiere"),
                label=_attr(child, "Libelle"),
                children=subjects(child, level + 1) if level < 5 else (),
            )
            for child in parent.iterfind(_q(f"Matiere{level}"))
        )

    return Classification(
        version=_date(_text(root, "DateClassification"), "DateClassification"),
        natures=tuple(natures),
        subjects=subjects(_child(root, "Matieres"), 1),
    )


# --- what a prefecture answers (for the local transmission server) ---------------------------------


def _acte_recu(parent: etree._Element, act: ActData) -> None:
    received = etree.SubElement(
        parent,
        _q("ActeRecu"),
        attrib={
            _q("Date"): act.decision_date.isoformat(),
            _q("NumeroInterne"): act.number,
            _q("CodeNatureActe"): str(act.nature),
        },
    )
    for level, code in enumerate(act.classification, start=1):
        etree.SubElement(received, _q(f"CodeMatiere{level}"), attrib={_q("CodeMatiere"): code})
    etree.SubElement(received, _q("Objet")).text = act.subject
    etree.SubElement(received, _q("ClassificationDateVersion")).text = act.classification_version.isoformat()
    document = etree.SubElement(received, _q("Document"))
    etree.SubElement(document, _q("NomFichier")).text = act.document
    annexes = etree.SubElement(received, _q("Annexes"), attrib={_q("Nombre"): str(len(act.annexes))})
    for name in act.annexes:
        annex = etree.SubElement(annexes, _q("Annexe"))
        etree.SubElement(annex, _q("NomFichier")).text = name
    etree.SubElement(received, _q("DocumentPapier")).text = "O" if act.paper else "N"


def build_aracte(act: ActData, *, act_id: str, received_on: date, classification_in_force: date | None = None) -> bytes:
    """The `ARActe` a prefecture sends back for `act` (validated); for the local S²low server."""
    root = etree.Element(
        _q("ARActe"), nsmap=NSMAP, attrib={_q("IDActe"): act_id, _q("DateReception"): received_on.isoformat()}
    )
    _acte_recu(root, act)
    in_force = classification_in_force or act.classification_version
    etree.SubElement(root, _q("ClassificationDateVersionEnCours")).text = in_force.isoformat()
    validate(root, "actes", what=_("L'accusé de réception produit"))
    return serialize(root, encoding=ENCODING)


def build_anomalie_acte(
    act: ActData, *, notified_on: date, nature: str, detail: str = "", classification_in_force: date | None = None
) -> bytes:
    """The `AnomalieActe` a prefecture sends when it refuses `act` (validated); `nature`: three digits."""
    root = etree.Element(_q("AnomalieActe"), nsmap=NSMAP)
    etree.SubElement(root, _q("Date")).text = notified_on.isoformat()
    etree.SubElement(root, _q("Nature")).text = nature
    if detail:
        etree.SubElement(root, _q("Detail")).text = detail
    _acte_recu(root, act)
    in_force = classification_in_force or act.classification_version
    etree.SubElement(root, _q("ClassificationDateVersionEnCours")).text = in_force.isoformat()
    validate(root, "actes", what=_("L'anomalie produite"))
    return serialize(root, encoding=ENCODING)


__all__ = [
    "ActAcknowledgement",
    "ActAnomaly",
    "ActData",
    "ActPackage",
    "ActToTransmit",
    "Classification",
    "Envelope",
    "FileToSend",
    "FormatError",
    "ReceivedPackage",
    "Referent",
    "act_id",
    "build_act_package",
    "build_act_xml",
    "build_anomalie_acte",
    "build_aracte",
    "build_envelope_xml",
    "check_act",
    "parse_act_package",
    "parse_act_xml",
    "parse_anomalie_acte",
    "parse_aracte",
    "parse_classification",
    "parse_envelope",
]
