"""The payslips flow (Pastell's rh-bulletin-salaire): a month's payroll split per agent, each payslip
matched to the directory's agent and sent by secure mail, then the month packed for the archive.

An HR manager uploads one payroll PDF — cut where the matricule printed on a page changes: a page
without one, or with the same, continues the payslip before it — or a ZIP of per-agent PDFs named by
matricule. The batch is cut into chunks of pages (or files) that the task workers take in parallel;
each chunk creates its payslips in one transaction (a chunk run again after a crash finds them and
creates nothing) and then runs each matched one through the engine, which sends its secure mail once
(mailsec.py). A payslip whose matricule is missing, unknown to the directory, repeated, or whose agent
has no address is listed on the batch and never sent. When the last chunk is done and the member has
an archive connector for the flow, one document carries the whole month to the archive: one SEDA
ArchiveTransfer with one ArchiveUnit per payslip.
"""

from __future__ import annotations

import calendar
import contextlib
import datetime as dt
import hashlib
import io
import re
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from pypdf import PdfReader, PdfWriter
from pypdf.errors import PdfReadError

from mutualis.accounts.models import User
from mutualis.core.audit import AuditDraft, audit_many, audit_record
from mutualis.core.models import AuditAction
from mutualis.flows import engine
from mutualis.flows.enums import Action, FlowType, Port, State, StepName
from mutualis.flows.formats.seda import ArchiveDocument, ArchiveTransfer, build_archive_transfer
from mutualis.flows.models import ActionLog, FileRole, FlowBinding, FlowDocument, FlowFile, flow_file_path
from mutualis.flows.payslip_models import BatchState, Payslip, PayslipBatch
from mutualis.flows.ports import FileToSend, FlowError
from mutualis.flows.rights import require_flow_writer
from mutualis.identity.models import Agent
from mutualis.members.models import Organisation

GROUP = 50  # payslips whose transitions are written together (flows/engine.py does one at a time)
CHUNK = 800  # pages (or ZIP entries) per task: re-opening a 6,600-page PDF costs ~0.6 s per chunk
MAX_SOURCE_BYTES = 500 * 1024 * 1024
MATRICULE = re.compile(r"matricule\s*:?\s*([A-Za-z0-9][A-Za-z0-9_.-]{0,59})", re.IGNORECASE)
LOOK_BACK = 20  # pages looked at before a chunk to know whether its first page continues a payslip


def month_label(period: dt.date) -> str:
    return date_format(period, "F Y")


# --- the upload -----------------------------------------------------------------------------------


def payslip_batch_create(
    *, actor: User, member: Organisation, period: dt.date, upload: UploadedFile, via: str = "web"
) -> PayslipBatch:
    """Store the month's file, count its pages (or PDFs), and queue one task per chunk after the commit."""
    # Operator staff, or one of the member's payslip managers; its IT director is not one.
    require_flow_writer(actor, member, FlowType.PAYSLIP)
    if (upload.size or 0) > MAX_SOURCE_BYTES:
        raise ValidationError({"source": _("le fichier dépasse 500 Mo")})
    content = upload.read()
    is_zip = content[:4] == b"PK\x03\x04"
    try:
        count = len(_zip_entries(content)) if is_zip else len(PdfReader(io.BytesIO(content)).pages)
    except (PdfReadError, zipfile.BadZipFile, ValueError, KeyError) as exc:
        raise ValidationError(
            {"source": _("« %(name)s » n'est ni un PDF ni un ZIP lisible.") % {"name": upload.name}}
        ) from exc
    if not count:
        raise ValidationError({"source": _("le fichier ne contient aucun bulletin")})
    if not FlowBinding.objects.filter(member=member, flow=FlowType.PAYSLIP, port=Port.MAILSEC).exists():
        raise ValidationError(
            _("Cet adhérent n'a pas de connecteur de courrier sécurisé associé aux bulletins de paie.")
        )
    period = period.replace(day=1)
    with transaction.atomic():
        batch = PayslipBatch(
            member=member,
            period=period,
            source_name=upload.name or "paie.pdf",
            source_sha256=hashlib.sha256(content).hexdigest(),
            is_zip=is_zip,
            pages=count,
            chunks=(count + CHUNK - 1) // CHUNK,
            state=BatchState.SPLITTING,
            created_by=actor,
        )
        batch.source.save(batch.source_name, ContentFile(content), save=False)
        batch.save()
        audit_record(
            actor=actor,
            action=AuditAction.CREATE,
            obj=batch,
            changes={"period": [None, period.isoformat()], "pages": [None, count]},
            organisation_id=member.pk,
            via=via,
        )
        transaction.on_commit(lambda: enqueue_chunks(batch))
    return batch


def enqueue_chunks(batch: PayslipBatch) -> None:
    from mutualis.flows.payslip_tasks import payslip_chunk

    for index in range(batch.chunks):
        payslip_chunk.enqueue(batch.pk, index)


# --- cutting ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Piece:
    position: int  # first page (or entry) index: unique in the batch
    hr_id: str
    pages: str  # "12-13" or the ZIP entry's name
    content: bytes
    problem: str = ""


def _zip_entries(content: bytes) -> list[str]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return sorted(n for n in archive.namelist() if not n.endswith("/") and n.lower().endswith(".pdf"))


class _Pages:
    def __init__(self, content: bytes) -> None:
        self.reader = PdfReader(io.BytesIO(content))
        self.count = len(self.reader.pages)
        self._ids: dict[int, str] = {}

    def hr_id(self, index: int) -> str:
        if index not in self._ids:
            match = MATRICULE.search(self.reader.pages[index].extract_text() or "")
            self._ids[index] = match.group(1) if match else ""
        return self._ids[index]

    def starts(self, index: int) -> bool:
        """A page starts a payslip when it prints a matricule other than the last one printed before it."""
        current = self.hr_id(index)
        if index == 0:
            return True  # the first page starts one, matricule or not
        if not current:
            return False
        for before in range(index - 1, max(index - 1 - LOOK_BACK, -1), -1):
            previous = self.hr_id(before)
            if previous:
                return previous != current
        return True

    def cut(self, first: int, last: int) -> bytes:
        writer = PdfWriter()
        for index in range(first, last + 1):
            writer.add_page(self.reader.pages[index])
        out = io.BytesIO()
        writer.write(out)
        return out.getvalue()


def pdf_pieces(content: bytes, *, start: int, stop: int) -> Iterator[Piece]:
    """The payslips that start on pages [start, stop), each running until the next one starts."""
    pages = _Pages(content)
    stop = min(stop, pages.count)
    for index in range(start, stop):
        if not pages.starts(index):
            continue
        end = index + 1
        while end < pages.count and not pages.starts(end):
            end += 1
        hr_id = pages.hr_id(index)
        label = str(index + 1) if end == index + 1 else f"{index + 1}-{end}"
        problem = "" if hr_id else _("aucun matricule lu sur la page")
        yield Piece(index, hr_id, label, pages.cut(index, end - 1), problem)


def zip_pieces(content: bytes, *, start: int, stop: int) -> Iterator[Piece]:
    """One payslip per PDF of the ZIP, its matricule the file's name without extension."""
    names = _zip_entries(content)
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        for index in range(start, min(stop, len(names))):
            name = names[index]
            data = archive.read(name)
            stem = name.rsplit("/", 1)[-1].rsplit(".", 1)[0].strip()
            problem = "" if data.startswith(b"%PDF-") else _("le fichier n'est pas un PDF")
            yield Piece(index, stem, name, data, problem)


# --- one chunk ------------------------------------------------------------------------------------


def _mail(agent: Agent, period: dt.date, member: Organisation) -> dict[str, str]:
    month = month_label(period)
    return {
        "mail_to": agent.mail,
        "mail_subject": _("Votre bulletin de paie de %(month)s") % {"month": month},
        "mail_body": _("Bonjour %(name)s,\n\nVotre bulletin de paie de %(month)s est disponible.")
        % {"name": agent.full_name, "month": month},
        "hr_id": agent.hr_id,
    }


def payslip_chunk_process(batch_id: int, index: int, *, now: dt.datetime | None = None) -> int:
    """Create the chunk's payslips (once), send the matched ones, and close the batch after its last
    chunk. Safe to run twice: returns how many documents it advanced."""
    now = now or timezone.now()
    batch = PayslipBatch.objects.select_related("member").get(pk=batch_id)
    first, stop = index * CHUNK, (index + 1) * CHUNK
    if not Payslip.objects.filter(batch=batch, position__gte=first, position__lt=stop).exists():
        with batch.source.open("rb") as handle:
            content = handle.read()
        pieces = list((zip_pieces if batch.is_zip else pdf_pieces)(content, start=first, stop=stop))
        # The same chunk run at the same time elsewhere (a job requeued while its worker was only slow)
        # may commit first: its payslips stand (unique position), this run's are rolled back whole.
        with contextlib.suppress(IntegrityError):
            _create(batch, pieces, now=now)
    ids = list(
        Payslip.objects.filter(batch=batch, position__gte=first, position__lt=stop, document__isnull=False)
        .exclude(document__state__in=[State.SEND_MAILSEC, State.TERMINE, State.NON_RECU, State.RECEPTION])
        .order_by("position")
        .values_list("document_id", flat=True)
    )
    for start in range(0, len(ids), GROUP):
        _send_group([i for i in ids[start : start + GROUP] if i is not None], now=now)
    _chunk_done(batch.pk, index, now=now)
    return len(ids)


def _send_group(document_ids: list[int], *, now: dt.datetime) -> None:
    """The engine's first step (`send-mailsec`) for a group of new payslips, its writes in bulk.

    What `engine.document_advance` does for one document, for GROUP at once: claim their locks (one
    UPDATE), send each one's mail through the member's connector with the engine's idempotency key
    (`<document>:mailsec`), then one transaction records the transitions (checked against the table),
    the log and the audit. A worker killed before that commit leaves the group locked for
    engine.LOCK_TTL; the sweep then finds each mail already sent under its key and sends nothing again.
    Anything that fails is handed to the engine, which retries or stops with the reason."""
    token = uuid.uuid4().hex
    claimed = (
        FlowDocument.objects.filter(pk__in=document_ids, state=State.CREATION, resume_state="")
        .filter(Q(locked_by="") | Q(locked_until__lt=now))
        .update(locked_by=token, locked_until=now + engine.LOCK_TTL)
    )
    if not claimed:
        return
    documents = list(FlowDocument.objects.filter(locked_by=token).order_by("pk"))
    later: list[int] = []
    sent: list[tuple[FlowDocument, str]] = []
    try:
        adapter, kind = engine.connector_for(documents[0], Port.MAILSEC)
    except FlowError:
        later = [d.pk for d in documents]
    else:
        mains = {f.document_id: f for f in FlowFile.objects.filter(document__in=documents, role=FileRole.MAIN)}
        for document in documents:
            main = mains.get(document.pk)
            if main is None:
                later.append(document.pk)
                continue
            with main.file.open("rb") as handle:
                content = handle.read()
            fields = document.fields
            try:
                remote_id = adapter.send(
                    to=str(fields.get("mail_to", "")),
                    subject=str(fields.get("mail_subject") or document.subject),
                    body=str(fields.get("mail_body", "")),
                    file=FileToSend(main.name, content),
                    idempotency_key=f"{document.pk}:{StepName.MAILSEC}",
                )
            except FlowError:
                later.append(document.pk)
                continue
            sent.append((document, str(remote_id)))
        poll_at = now + engine.policy_for(kind).poll_every
        with transaction.atomic():
            for document, remote_id in sent:
                engine.check_transition(document, State.SEND_MAILSEC)
                document.state = State.SEND_MAILSEC
                document.mailsec_remote_id = remote_id
                document.tries, document.next_try_at, document.last_message = 0, poll_at, ""
                document.locked_by, document.locked_until, document.updated_at = "", None, now
            FlowDocument.objects.filter(pk__in=[d.pk for d, _r in sent], locked_by=token).update(
                state=State.SEND_MAILSEC, tries=0, next_try_at=poll_at, last_message="", updated_at=now
            )
            FlowDocument.objects.bulk_update([d for d, _r in sent], ["mailsec_remote_id"])
            ActionLog.objects.bulk_create(
                ActionLog(
                    document=d,
                    at=now,
                    action=State.SEND_MAILSEC,
                    from_state=State.CREATION,
                    to_state=State.SEND_MAILSEC,
                    remote_id=r,
                )
                for d, r in sent
            )
            audit_many(
                actor=None,
                entries=[
                    AuditDraft(
                        action=AuditAction.UPDATE,
                        model=FlowDocument,
                        object_id=d.pk,
                        object_repr=d.subject[:200],
                        changes={"state": [State.CREATION, State.SEND_MAILSEC]},
                        organisation_id=d.member_id,
                    )
                    for d, _r in sent
                ],
                via="job",
            )
    FlowDocument.objects.filter(locked_by=token).update(locked_by="", locked_until=None)
    for document_id in later:
        engine.document_advance(document_id, now=now)


def _create(batch: PayslipBatch, pieces: list[Piece], *, now: dt.datetime) -> None:
    member = batch.member
    wanted = {p.hr_id for p in pieces if p.hr_id and not p.problem}
    agents = {a.hr_id: a for a in Agent.objects.filter(collectivity=member, hr_id__in=wanted)}
    # A matricule met earlier in this batch (another chunk) or twice here is not sent twice.
    taken = set(
        Payslip.objects.filter(batch=batch, hr_id__in=wanted, document__isnull=False).values_list("hr_id", flat=True)
    )
    month = month_label(batch.period)
    with transaction.atomic():
        rows: list[Payslip] = []
        documents: list[FlowDocument] = []
        for piece in pieces:
            agent = agents.get(piece.hr_id)
            reason = piece.problem
            if not reason and agent is None:
                reason = _("matricule inconnu de l'annuaire")
            elif not reason and agent is not None and not agent.mail:
                reason = _("l'agent n'a pas d'adresse de courriel dans l'annuaire")
            elif not reason and piece.hr_id in taken:
                reason = _("matricule déjà présent dans le lot")
            if reason:
                rows.append(
                    Payslip(
                        batch=batch,
                        position=piece.position,
                        hr_id=piece.hr_id,
                        pages=piece.pages,
                        agent=agent,
                        unmatched_reason=reason,
                    )
                )
                continue
            assert agent is not None
            taken.add(piece.hr_id)
            document = FlowDocument(
                member=member,
                flow=FlowType.PAYSLIP,
                steps=[StepName.MAILSEC],
                subject=_("Bulletin de paie de %(month)s — %(agent)s") % {"month": month, "agent": agent},
                fields=_mail(agent, batch.period, member),
                created_by=batch.created_by,
            )
            documents.append(document)
            rows.append(
                Payslip(
                    batch=batch,
                    position=piece.position,
                    hr_id=piece.hr_id,
                    pages=piece.pages,
                    agent=agent,
                    document=document,
                )
            )
        FlowDocument.objects.bulk_create(documents)
        contents = {p.position: p.content for p in pieces}
        files = []
        for row in rows:
            if row.document is None:
                continue
            content = contents[row.position]
            name = f"bulletin-{batch.period:%Y-%m}-{row.hr_id}.pdf"
            file = FlowFile(
                document=row.document,
                role=FileRole.MAIN,
                name=name,
                size=len(content),
                sha256=hashlib.sha256(content).hexdigest(),
            )
            file.file.name = default_storage.save(flow_file_path(file, name), ContentFile(content))
            files.append(file)
        FlowFile.objects.bulk_create(files)
        for row in rows:
            row.document_id = row.document.pk if row.document is not None else None
        Payslip.objects.bulk_create(rows)
        ActionLog.objects.bulk_create(
            ActionLog(document=d, at=now, action=Action.CREATION, to_state=State.CREATION) for d in documents
        )
        audit_many(
            actor=batch.created_by,
            entries=[
                AuditDraft(
                    action=AuditAction.CREATE,
                    model=FlowDocument,
                    object_id=d.pk,
                    object_repr=d.subject[:200],
                    changes={"flow": [None, FlowType.PAYSLIP]},
                    organisation_id=member.pk,
                )
                for d in documents
            ],
            via="job",
        )


def _chunk_done(batch_id: int, index: int, *, now: dt.datetime) -> None:
    with transaction.atomic():
        batch = PayslipBatch.objects.select_for_update().get(pk=batch_id)
        done = sorted(set(batch.done_chunks) | {index})
        if done == batch.done_chunks:
            return
        batch.done_chunks = done
        fields = ["done_chunks", "updated_at"]
        if len(done) >= batch.chunks and batch.state == BatchState.SPLITTING:
            batch.state = BatchState.SENT
            fields.append("state")
            archive = _archive_document(batch, now=now)
            if archive is not None:
                batch.archive_document = archive
                fields.append("archive_document")
        batch.save(update_fields=fields)
        if batch.state == BatchState.SENT and "state" in fields:
            audit_record(
                actor=None,
                action=AuditAction.UPDATE,
                obj=batch,
                changes={"state": [BatchState.SPLITTING, BatchState.SENT]},
                organisation_id=batch.member_id,
                via="job",
            )


def _archive_document(batch: PayslipBatch, *, now: dt.datetime) -> FlowDocument | None:
    """The month's transfer to the archive, when the member has an archive connector for payslips."""
    if not FlowBinding.objects.filter(member_id=batch.member_id, flow=FlowType.PAYSLIP, port=Port.ARCHIVE).exists():
        return None
    if not Payslip.objects.filter(batch=batch, document__isnull=False).exists():
        return None
    document = FlowDocument.objects.create(
        member_id=batch.member_id,
        flow=FlowType.PAYSLIP,
        steps=[StepName.ARCHIVE],
        subject=_("Bulletins de paie de %(month)s : versement à l'archive") % {"month": month_label(batch.period)},
        fields={"payslip_batch": batch.pk},
        created_by=batch.created_by,
    )
    with batch.source.open("rb") as handle:
        engine.store_file(document, role=FileRole.MAIN, name=batch.source_name, content=handle.read())
    engine.log(document, action=Action.CREATION, to_state=State.CREATION, now=now)
    from mutualis.flows.services import enqueue

    enqueue(document.pk)
    return document


# --- the archive ----------------------------------------------------------------------------------


def batch_archive_transfer(document: FlowDocument, *, message_id: str) -> tuple[bytes, tuple[FileToSend, ...]]:
    """One ArchiveTransfer for the month: one ArchiveUnit per payslip sent, with its PDF."""
    batch = PayslipBatch.objects.select_related("member").get(archive_document=document)
    member = batch.member
    binding = (
        FlowBinding.objects.select_related("instance")
        .filter(member_id=member.pk, flow=FlowType.PAYSLIP, port=Port.ARCHIVE)
        .first()
    )
    config = {k: str(v) for k, v in (binding.instance.config if binding else {}).items()}
    identifier = member.siren or member.slug
    end = batch.period.replace(day=calendar.monthrange(batch.period.year, batch.period.month)[1])
    month = month_label(batch.period)
    units: list[ArchiveDocument] = []
    files: list[FileToSend] = []
    mains = {
        f.document_id: f
        for f in FlowFile.objects.filter(document__payslip__batch=batch, role=FileRole.MAIN).select_related(
            "document__payslip__agent"
        )
    }
    for payslip in Payslip.objects.filter(batch=batch, document__isnull=False).select_related("agent"):
        row = mains.get(payslip.document_id or 0)
        if row is None:
            continue
        with row.file.open("rb") as handle:
            content = handle.read()
        file = FileToSend(name=f"{payslip.position:06d}-{row.name}", content=content)
        files.append(file)
        units.append(
            ArchiveDocument(
                title=_("Bulletin de paie de %(month)s — %(agent)s") % {"month": month, "agent": payslip.agent},
                files=(file,),
                document_type="Bulletin de paie",
                identifier=payslip.hr_id,
                start_date=batch.period,
                end_date=end,
            )
        )
    transfer = ArchiveTransfer(
        message_id=message_id,
        date=timezone.now(),
        title=_("Bulletins de paie de %(month)s — %(member)s") % {"month": month, "member": member.name},
        archival_agency=config.get("archival_agency") or "ARCHIVES",
        transferring_agency=config.get("transferring_agency") or identifier,
        originating_agency=config.get("originating_agency") or identifier,
        archival_agreement=config.get("archival_agreement", ""),
        documents=tuple(units),
        start_date=batch.period,
        end_date=end,
    )
    return build_archive_transfer(transfer).xml, tuple(files)
