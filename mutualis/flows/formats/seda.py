"""SEDA 2.1: the ArchiveTransfer sent to the electronic archive, and what the archive answers.

Built: an `ArchiveTransfer` whose root ArchiveUnit is the transfer (an act, a month of payslips),
with one ArchiveUnit per document and, under it, one ArchiveUnit per file pointing to its
BinaryDataObject (SHA-512 digest, size, MIME type, PRONOM format when known, file name). One object
per unit is what Vitam and As@lae both accept. The XML is validated against the SEDA 2.1 schema
(schemas/seda-2.1) before it leaves. Each file's `Uri` is its name: the attachments archive sent
beside the message holds the files under these names.

Parsed: `Acknowledgement` (the archive received the transfer) and `ArchiveTransferReply` (accepted
when ReplyCode is 000 — As@lae — or OK/WARNING — Vitam), in SEDA 2.1 and, leniently, the SEDA 1.0
replies older As@lae versions still send. The reply and acknowledgement builders serve the local
As@lae server.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass

from django.utils.translation import gettext as _
from lxml import etree

from mutualis.flows.formats.xml import FormatError, local_name, parse, serialize, validate
from mutualis.flows.ports import FileToSend

NS = "fr:gouv:culture:archivesdefrance:seda:v2.1"
NS_V1 = "fr:gouv:culture:archivesdefrance:seda:v1.0"
DIGEST_ALGORITHM = "SHA-512"
ACCEPTED_CODES = frozenset({"000", "OK", "WARNING"})
_PDF_VERSION = re.compile(rb"^%PDF-(\d\.\d)")
# PRONOM identifiers of the formats the flows carry (https://www.nationalarchives.gov.uk/PRONOM).
_PDF_PRONOM = {
    b"1.0": "fmt/14",
    b"1.1": "fmt/15",
    b"1.2": "fmt/16",
    b"1.3": "fmt/17",
    b"1.4": "fmt/18",
    b"1.5": "fmt/19",
    b"1.6": "fmt/20",
    b"1.7": "fmt/276",
    b"2.0": "fmt/1129",
}
_MIME_PRONOM = {"application/xml": "fmt/101", "text/xml": "fmt/101", "image/png": "fmt/11"}
_XML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _q(name: str) -> str:
    return f"{{{NS}}}{name}"


@dataclass(frozen=True)
class ArchiveDocument:
    """One document of a transfer (an act, its acknowledgement, a payslip) and its files."""

    title: str
    files: tuple[FileToSend, ...]
    description: str = ""
    document_type: str = ""  # e.g. "Délibération", "Bulletin de paie"
    identifier: str = ""  # the producer's identifier (act number…): OriginatingAgencyArchiveUnitIdentifier
    start_date: dt.date | None = None
    end_date: dt.date | None = None
    keywords: tuple[str, ...] = ()


@dataclass(frozen=True)
class ArchiveTransfer:
    """What a transfer says about itself: who sends to whom, under which agreement, and its documents."""

    message_id: str
    date: dt.datetime
    title: str
    archival_agency: str  # the archive's identifier (FRAD034)
    transferring_agency: str  # the operator or the member sending
    originating_agency: str  # the producer: the member whose documents these are
    documents: tuple[ArchiveDocument, ...]
    archival_agreement: str = ""
    archival_profile: str = ""
    service_level: str = ""
    submission_agency: str = ""
    comment: str = ""
    description: str = ""
    start_date: dt.date | None = None
    end_date: dt.date | None = None


@dataclass(frozen=True)
class BinaryObject:
    """What the transfer states about a file: the archive checks it against what it receives."""

    id: str
    uri: str
    digest: str  # hexadecimal SHA-512
    size: int
    mime: str
    format_id: str


@dataclass(frozen=True)
class BuiltTransfer:
    xml: bytes
    objects: tuple[BinaryObject, ...]


def pronom_id(file: FileToSend) -> str:
    """The PRONOM format of `file` when this module knows it (PDF by its header's version), else ""."""
    if file.mime == "application/pdf" or file.name.lower().endswith(".pdf"):
        match = _PDF_VERSION.match(file.content[:16])
        return _PDF_PRONOM.get(match.group(1), "") if match else ""
    return _MIME_PRONOM.get(file.mime, "")


def _check(transfer: ArchiveTransfer) -> None:
    for value, message in (
        (transfer.message_id, _("Le versement SEDA n'a pas d'identifiant de message (MessageIdentifier).")),
        (transfer.title, _("Le versement SEDA n'a pas de titre.")),
        (transfer.archival_agency, _("Le versement SEDA ne nomme pas le service d'archives (ArchivalAgency).")),
        (transfer.transferring_agency, _("Le versement SEDA ne nomme pas le service versant (TransferringAgency).")),
        (transfer.originating_agency, _("Le versement SEDA ne nomme pas le service producteur.")),
    ):
        if not value.strip():
            raise FormatError(message)
    if not transfer.documents:
        raise FormatError(_("Le versement SEDA ne contient aucun document."))
    periods = [(transfer.start_date, transfer.end_date, transfer.title)]
    periods += [(d.start_date, d.end_date, d.title) for d in transfer.documents]
    for start, end, title in periods:
        if start and end and end < start:
            raise FormatError(
                _("« %(title)s » finit le %(end)s, avant de commencer le %(start)s.")
                % {"title": title, "start": start.isoformat(), "end": end.isoformat()}
            )
    if transfer.date.tzinfo is None:
        raise FormatError(_("La date du versement SEDA doit porter son fuseau horaire."))
    seen: set[str] = set()
    for document in transfer.documents:
        if not document.title.strip():
            raise FormatError(_("Un document du versement n'a pas de titre."))
        if not document.files:
            raise FormatError(_("Le document « %(title)s » n'a aucun fichier.") % {"title": document.title})
        for file in document.files:
            if not file.content:
                raise FormatError(_("Le fichier « %(name)s » est vide.") % {"name": file.name})
            if not file.name or "/" in file.name or "\\" in file.name:
                raise FormatError(_("Le nom de fichier « %(name)s » est invalide.") % {"name": file.name})
            if file.name in seen:
                raise FormatError(
                    _("Deux fichiers du versement s'appellent « %(name)s » : les noms doivent être uniques.")
                    % {"name": file.name}
                )
            seen.add(file.name)
    texts = [transfer.title, transfer.comment, transfer.description]
    texts += [text for d in transfer.documents for text in (d.title, d.description, *d.keywords)]
    if any(_XML_FORBIDDEN.search(text) for text in texts):
        raise FormatError(_("Un texte du versement contient un caractère de contrôle qu'un XML ne peut pas porter."))


def _text(parent: etree._Element, tag: str, value: str) -> None:
    if value:
        etree.SubElement(parent, _q(tag)).text = value


def _content(
    unit: etree._Element,
    *,
    level: str,
    title: str,
    identifier: str = "",
    description: str = "",
    document_type: str = "",
    keywords: tuple[str, ...] = (),
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> None:
    content = etree.SubElement(unit, _q("Content"))
    _text(content, "DescriptionLevel", level)
    _text(content, "Title", title)
    _text(content, "OriginatingAgencyArchiveUnitIdentifier", identifier)
    _text(content, "Description", description)
    _text(content, "DocumentType", document_type)
    _text(content, "Language", "fr")
    for keyword in keywords:
        tag = etree.SubElement(content, _q("Keyword"))
        etree.SubElement(tag, _q("KeywordContent")).text = keyword
    if start:
        _text(content, "StartDate", start.isoformat())
    if end:
        _text(content, "EndDate", end.isoformat())


def _organization(parent: etree._Element, tag: str, identifier: str) -> None:
    etree.SubElement(etree.SubElement(parent, _q(tag)), _q("Identifier")).text = identifier


def build_archive_transfer(transfer: ArchiveTransfer) -> BuiltTransfer:
    """The SEDA 2.1 `ArchiveTransfer` (UTF-8) of `transfer`, validated, with each file's digest and size."""
    _check(transfer)
    root = etree.Element(_q("ArchiveTransfer"), nsmap={None: NS})
    _text(root, "Comment", transfer.comment)
    _text(root, "Date", transfer.date.isoformat())
    _text(root, "MessageIdentifier", transfer.message_id)
    _text(root, "ArchivalAgreement", transfer.archival_agreement)
    etree.SubElement(root, _q("CodeListVersions"))
    package = etree.SubElement(root, _q("DataObjectPackage"))
    objects: list[BinaryObject] = []
    for file in (file for document in transfer.documents for file in document.files):
        obj = BinaryObject(
            id=f"BDO{len(objects) + 1}",
            uri=file.name,
            digest=hashlib.sha512(file.content).hexdigest(),
            size=len(file.content),
            mime=file.mime,
            format_id=pronom_id(file),
        )
        objects.append(obj)
        bdo = etree.SubElement(package, _q("BinaryDataObject"), attrib={"id": obj.id})
        _text(bdo, "DataObjectVersion", "BinaryMaster_1")
        _text(bdo, "Uri", obj.uri)
        etree.SubElement(bdo, _q("MessageDigest"), attrib={"algorithm": DIGEST_ALGORITHM}).text = obj.digest
        _text(bdo, "Size", str(obj.size))
        formats = etree.SubElement(bdo, _q("FormatIdentification"))
        _text(formats, "MimeType", obj.mime)
        _text(formats, "FormatId", obj.format_id)
        etree.SubElement(etree.SubElement(bdo, _q("FileInfo")), _q("Filename")).text = file.name
    descriptive = etree.SubElement(package, _q("DescriptiveMetadata"))
    top = etree.SubElement(descriptive, _q("ArchiveUnit"), attrib={"id": "AU1"})
    _content(
        top,
        level="File",
        title=transfer.title,
        description=transfer.description,
        start=transfer.start_date,
        end=transfer.end_date,
    )
    objects_iter = iter(objects)
    unit_number = 1
    for document in transfer.documents:
        unit_number += 1
        unit = etree.SubElement(top, _q("ArchiveUnit"), attrib={"id": f"AU{unit_number}"})
        _content(
            unit,
            level="RecordGrp",
            title=document.title,
            identifier=document.identifier,
            description=document.description,
            document_type=document.document_type,
            keywords=document.keywords,
            start=document.start_date,
            end=document.end_date,
        )
        for file in document.files:
            obj = next(objects_iter)
            unit_number += 1
            item = etree.SubElement(unit, _q("ArchiveUnit"), attrib={"id": f"AU{unit_number}"})
            _content(item, level="Item", title=file.name)
            reference = etree.SubElement(item, _q("DataObjectReference"))
            etree.SubElement(reference, _q("DataObjectReferenceId")).text = obj.id
    management = etree.SubElement(package, _q("ManagementMetadata"))
    _text(management, "ArchivalProfile", transfer.archival_profile)
    _text(management, "ServiceLevel", transfer.service_level)
    _text(management, "OriginatingAgencyIdentifier", transfer.originating_agency)
    _text(management, "SubmissionAgencyIdentifier", transfer.submission_agency)
    _organization(root, "ArchivalAgency", transfer.archival_agency)
    _organization(root, "TransferringAgency", transfer.transferring_agency)
    validate(root, "seda-2.1", what=_("Le bordereau de versement SEDA produit"))
    return BuiltTransfer(xml=serialize(root), objects=tuple(objects))


# --- what the archive answers ----------------------------------------------------------------------


@dataclass(frozen=True)
class ArchiveReply:
    """An `ArchiveTransferReply`: `accepted` when the ReplyCode says so; `request_id` = our MessageIdentifier."""

    reply_code: str
    accepted: bool
    message_id: str
    request_id: str
    date: str
    comment: str
    archive_id: str  # the archive's identifier of what it kept, when it says


@dataclass(frozen=True)
class Acknowledgement:
    """An `Acknowledgement`: the archive received message `received_id` (not yet a decision)."""

    message_id: str
    received_id: str
    date: str
    comment: str


def _find(root: etree._Element, *names: str) -> str:
    """The text of the first child (any SEDA namespace) whose local name is in `names`."""
    for child in root:
        if isinstance(child.tag, str) and local_name(child) in names:
            return (child.text or "").strip()
    return ""


def _reply_root(content: bytes, expected: str, what: str) -> etree._Element:
    root = parse(content, what=what)
    namespace = etree.QName(root).namespace
    if local_name(root) != expected or namespace not in (NS, NS_V1):
        raise FormatError(
            _("%(what)s n'est pas un message SEDA %(expected)s (élément racine « %(found)s »).")
            % {"what": what, "expected": expected, "found": local_name(root)}
        )
    if namespace == NS:
        validate(root, "seda-2.1", what=what)
    return root


def parse_archive_transfer_reply(content: bytes) -> ArchiveReply:
    """Read an `ArchiveTransferReply` (SEDA 2.1 validated, or SEDA 1.0): its code and whether it accepts."""
    root = _reply_root(content, "ArchiveTransferReply", _("La réponse au versement"))
    code = _find(root, "ReplyCode")
    if not code:
        raise FormatError(_("La réponse au versement n'a pas de ReplyCode."))
    archive_id = ""
    for element in root.iter():
        if isinstance(element.tag, str) and local_name(element) in (
            "ArchivalAgencyArchiveIdentifier",
            "SystemId",
        ):
            archive_id = (element.text or "").strip()
            break
    return ArchiveReply(
        reply_code=code,
        accepted=code in ACCEPTED_CODES,
        message_id=_find(root, "MessageIdentifier", "TransferReplyIdentifier"),
        request_id=_find(root, "MessageRequestIdentifier", "TransferIdentifier"),
        date=_find(root, "Date"),
        comment=_find(root, "Comment"),
        archive_id=archive_id,
    )


def parse_acknowledgement(content: bytes) -> Acknowledgement:
    """Read an `Acknowledgement` (SEDA 2.1 validated, or SEDA 1.0)."""
    root = _reply_root(content, "Acknowledgement", _("L'accusé de réception du versement"))
    received = _find(root, "MessageReceivedIdentifier")
    if not received:
        raise FormatError(_("L'accusé de réception du versement ne dit pas quel message il accuse."))
    return Acknowledgement(
        message_id=_find(root, "MessageIdentifier", "AcknowledgementIdentifier"),
        received_id=received,
        date=_find(root, "Date"),
        comment=_find(root, "Comment"),
    )


def build_archive_transfer_reply(
    *,
    message_id: str,
    request_id: str,
    reply_code: str,
    at: dt.datetime,
    archival_agency: str,
    transferring_agency: str,
    comment: str = "",
) -> bytes:
    """The `ArchiveTransferReply` an archive sends for transfer `request_id` (validated); for the local As@lae."""
    root = etree.Element(_q("ArchiveTransferReply"), nsmap={None: NS})
    _text(root, "Comment", comment)
    _text(root, "Date", at.isoformat())
    _text(root, "MessageIdentifier", message_id)
    etree.SubElement(root, _q("CodeListVersions"))
    _text(root, "ReplyCode", reply_code)
    _text(root, "MessageRequestIdentifier", request_id)
    _text(root, "GrantDate", at.isoformat())
    _organization(root, "ArchivalAgency", archival_agency)
    _organization(root, "TransferringAgency", transferring_agency)
    validate(root, "seda-2.1", what=_("La réponse au versement produite"))
    return serialize(root)


def build_acknowledgement(
    *, message_id: str, received_id: str, at: dt.datetime, sender: str, receiver: str, comment: str = ""
) -> bytes:
    """The `Acknowledgement` an archive sends when it receives `received_id` (validated); for the local As@lae."""
    root = etree.Element(_q("Acknowledgement"), nsmap={None: NS})
    _text(root, "Comment", comment)
    _text(root, "Date", at.isoformat())
    _text(root, "MessageIdentifier", message_id)
    _text(root, "MessageReceivedIdentifier", received_id)
    _organization(root, "Sender", sender)
    _organization(root, "Receiver", receiver)
    validate(root, "seda-2.1", what=_("L'accusé de réception produit"))
    return serialize(root)
