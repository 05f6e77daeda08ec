"""What a document sends to the electronic archive: its SEDA 2.1 ArchiveTransfer and its files.

One ArchiveUnit for the document with its current files (the signed document once signed, the
annexes) and the proofs of the earlier steps (acknowledgement, stamped act, signature bordereau).
The agencies come from the archive connector's plain settings when it has them (the archive's and
the transferring service's identifiers, the archival agreement), otherwise from the member's SIREN.
"""

from __future__ import annotations

from django.utils import timezone

from mutualis.flows.enums import FlowType, Port
from mutualis.flows.formats.seda import ArchiveDocument, ArchiveTransfer, build_archive_transfer
from mutualis.flows.models import FileRole, FlowBinding, FlowDocument
from mutualis.flows.ports import FileToSend

ARCHIVED_ROLES = (
    FileRole.MAIN,
    FileRole.ATTACHMENT,
    FileRole.SIGNED,
    FileRole.BORDEREAU,
    FileRole.ARACTE,
    FileRole.STAMPED,
    FileRole.PES_ACQUIT,
)
DOCUMENT_TYPES = {
    1: "Délibération",
    2: "Acte réglementaire",
    3: "Acte individuel",
    4: "Contrat",
    5: "Document budgétaire",
}


def archive_transfer(document: FlowDocument, *, message_id: str) -> tuple[bytes, tuple[FileToSend, ...]]:
    if document.flow == FlowType.PAYSLIP:  # a month of payslips in one transfer (flows/payslips.py)
        from mutualis.flows.payslips import batch_archive_transfer

        return batch_archive_transfer(document, message_id=message_id)
    member = document.member
    binding = (
        FlowBinding.objects.select_related("instance")
        .filter(member_id=member.pk, flow=document.flow, port=Port.ARCHIVE)
        .first()
    )
    config = {k: str(v) for k, v in (binding.instance.config if binding else {}).items()}
    rows = [f for f in document.files.all() if f.role in ARCHIVED_ROLES]
    if any(f.role == FileRole.SIGNED for f in rows):  # the signed version replaces the unsigned one
        rows = [f for f in rows if f.role != FileRole.MAIN]
    files: list[FileToSend] = []
    seen: set[str] = set()
    for row in rows:
        with row.file.open("rb") as handle:
            content = handle.read()
        name = row.name if row.name not in seen else f"{row.pk}-{row.name}"
        seen.add(name)
        mime = "application/pdf" if name.lower().endswith(".pdf") else "application/xml"
        files.append(FileToSend(name=name, content=content, mime=mime, typology=row.typology))
    identifier = member.siren or member.slug
    kind = DOCUMENT_TYPES.get(document.nature or 0, "Acte") if document.flow == FlowType.ACTE else "Document signé"
    if document.flow == FlowType.HELIOS:
        kind = "Flux comptable PES"
    transfer = ArchiveTransfer(
        message_id=message_id,
        date=timezone.now(),
        title=f"{kind} {document.number} : {document.subject}"[:500] if document.number else document.subject,
        archival_agency=config.get("archival_agency") or "ARCHIVES",
        transferring_agency=config.get("transferring_agency") or identifier,
        originating_agency=config.get("originating_agency") or identifier,
        archival_agreement=config.get("archival_agreement", ""),
        documents=(
            ArchiveDocument(
                title=document.subject,
                files=tuple(files),
                document_type=kind,
                identifier=document.number,
                start_date=document.decision_date,
            ),
        ),
    )
    return build_archive_transfer(transfer).xml, tuple(files)
