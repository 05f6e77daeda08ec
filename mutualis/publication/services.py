"""Writes of the publication of acts: put an act online, publish a correction, set a member's natures.

There is no update of a published act: it is put online once (`act_publish`, from the acts flow's
publication step) and corrected by a new version (`act_correct`), the earlier one staying online.
Each write appends one entry to the member's chained log (`PublicationLogEntry`) in the same
transaction, and an audit entry."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils.translation import gettext as _

from mutualis.core.actors import signed_in_actor
from mutualis.core.audit import audit_record
from mutualis.core.models import AuditAction
from mutualis.flows.models import FlowDocument
from mutualis.members.models import Organisation
from mutualis.publication.models import (
    LogKind,
    Nature,
    PublicationLogEntry,
    PublicationSettings,
    PublishedAct,
)

GENESIS = "0" * 64  # the "previous digest" of a member's first entry
MAX_PDF_BYTES = 20 * 1024 * 1024  # as the acts flow's own limit (flows.services.MAX_FILE_BYTES)


def settings_of(member: Organisation) -> PublicationSettings:
    """The member's settings, the defaults (deliberations, regulatory acts, budgets) until changed."""
    found = PublicationSettings.objects.filter(member=member).first()
    return found if found is not None else PublicationSettings(member=member)


def _may_manage(actor: Any, member: Organisation) -> bool:
    person = signed_in_actor(actor)
    if person is None or person.is_read_only:
        return False
    return bool(
        person.is_operator or (getattr(person, "is_member_manager", False) and person.organisation_id == member.pk)
    )


def publication_settings_update(
    *,
    actor: Any,
    member: Organisation,
    natures: Iterable[int],
    author_name: str,
    author_title: str,
    via: str = "web",
) -> PublicationSettings:
    """Operator staff or the member's manager choose which natures are published and the default author;
    `mutualis publication_settings` on the server (no account: `via="command"`)."""
    if not (via == "command" and actor is None) and not _may_manage(actor, member):
        raise PermissionDenied(_("réservé à l'opérateur et au gestionnaire de l'adhérent"))
    chosen = sorted({int(n) for n in natures})
    if not set(chosen) <= set(Nature.values):
        raise ValidationError({"natures": _("nature d'acte inconnue")})
    with transaction.atomic():
        row, _created = PublicationSettings.objects.select_for_update().get_or_create(member=member)
        before = {"natures": row.natures, "author_name": row.author_name, "author_title": row.author_title}
        row.natures, row.author_name, row.author_title = chosen, author_name.strip(), author_title.strip()
        row.save()
        after = {"natures": row.natures, "author_name": row.author_name, "author_title": row.author_title}
        changes = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
        audit_record(
            actor=actor, action=AuditAction.UPDATE, obj=row, changes=changes, organisation_id=member.pk, via=via
        )
    return row


def skip_reason(document: FlowDocument) -> str:
    """Why an act's publication step does not apply to it ("" when it does)."""
    if document.nature is None or document.nature not in settings_of(document.member).natures:
        label = Nature(document.nature).label if document.nature in Nature.values else "?"
        return _("l'adhérent ne publie pas les actes de nature « %(nature)s »") % {"nature": label}
    return ""


def canonical(entry: dict[str, Any]) -> str:
    """The text a log entry's digest covers: sorted keys, no spaces, UTF-8 kept as is."""
    return json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def chain_digest(previous: str, content: str) -> str:
    return hashlib.sha256((previous + content).encode()).hexdigest()


def _log_append(*, member: Organisation, kind: str, act: PublishedAct, now: dt.datetime) -> PublicationLogEntry:
    """The next entry of the member's chain; the caller holds the member's settings row locked, so two
    publications of one member are chained one after the other."""
    last = PublicationLogEntry.objects.filter(member=member).order_by("-seq").first()
    seq = last.seq + 1 if last is not None else 1
    previous = last.digest if last is not None else GENESIS
    content = canonical(
        {
            "seq": seq,
            "at": now.astimezone(dt.UTC).isoformat(),
            "kind": kind,
            "member": member.slug,
            "act": act.pk,
            "number": act.number,
            "version": act.version,
            "sha256": act.sha256,
            "size": act.size,
            "replaces": act.replaces_id,
        }
    )
    return PublicationLogEntry.objects.create(
        member=member,
        seq=seq,
        at=now,
        kind=kind,
        act=act,
        content=content,
        previous_digest=previous,
        digest=chain_digest(previous, content),
    )


def _lock_member(member: Organisation) -> PublicationSettings:
    row, _created = PublicationSettings.objects.get_or_create(member=member)
    return PublicationSettings.objects.select_for_update().get(pk=row.pk)


def _check_pdf(content: bytes) -> None:
    if len(content) > MAX_PDF_BYTES:
        raise ValidationError({"file": _("le PDF dépasse %(mb)s Mo") % {"mb": MAX_PDF_BYTES // (1024 * 1024)}})
    if not content.startswith(b"%PDF-"):
        raise ValidationError({"file": _("le fichier n'est pas un PDF")})


def _store(act: PublishedAct, content: bytes) -> None:
    act.sha256 = hashlib.sha256(content).hexdigest()
    act.size = len(content)
    act.file.save(f"{act.sha256}.pdf", ContentFile(content), save=False)


def act_publish(*, document: FlowDocument, content: bytes, file_name: str, now: dt.datetime) -> PublishedAct:
    """Put the act of a flow document online, as transmitted (the engine hands the signed PDF when it
    was signed, else the uploaded one, never the prefecture's stamped copy). Run by the engine, so no
    person acts; twice for one document gives the same publication (the step's idempotency)."""
    existing = PublishedAct.objects.filter(document=document, version=1).first()
    if existing is not None:
        return existing
    _check_pdf(content)
    member = document.member
    if document.nature is None or document.decision_date is None or not document.number:
        raise ValidationError(_("l'acte n'a pas de nature, de numéro ou de date de décision"))
    with transaction.atomic():
        options = _lock_member(member)
        fields = document.fields or {}
        author_name = str(fields.get("author_name") or options.author_name).strip()
        author_title = str(fields.get("author_title") or options.author_title).strip()
        if not author_name or not author_title:
            raise ValidationError(
                _(
                    "l'auteur de l'acte (nom, prénom et qualité) n'est pas connu : renseignez-le dans les "
                    "réglages de publication de l'adhérent"
                )
            )
        act = PublishedAct(
            member=member,
            document=document,
            nature=document.nature,
            number=document.number,
            subject=document.subject,
            decision_date=document.decision_date,
            author_name=author_name,
            author_title=author_title,
            published_at=now,
            file_name=file_name,
            version=1,
        )
        _store(act, content)
        act.save()
        _log_append(member=member, kind=LogKind.PUBLISH, act=act, now=now)
        audit_record(actor=None, action=AuditAction.CREATE, obj=act, organisation_id=member.pk, via="job")
    return act


def act_correct(
    *, actor: Any, act: PublishedAct, content: bytes, file_name: str, reason: str, now: dt.datetime
) -> PublishedAct:
    """Publish a corrected version of `act`: a new row (version N+1) that replaces it; `act` stays
    online, marked « remplacé par la version N+1 »."""
    if not _may_manage(actor, act.member):
        raise PermissionDenied(_("réservé à l'opérateur et au gestionnaire de l'adhérent"))
    if not reason.strip():
        raise ValidationError({"reason": _("le motif de la correction est obligatoire")})
    _check_pdf(content)
    with transaction.atomic():
        _lock_member(act.member)
        if PublishedAct.objects.filter(replaces=act).exists():
            raise ValidationError(_("cette version est déjà remplacée : corrigez la dernière"))
        new = PublishedAct(
            member=act.member,
            document=act.document,
            nature=act.nature,
            number=act.number,
            subject=act.subject,
            decision_date=act.decision_date,
            author_name=act.author_name,
            author_title=act.author_title,
            published_at=now,
            file_name=file_name,
            version=act.version + 1,
            replaces=act,
            correction_reason=reason.strip()[:500],
        )
        _store(new, content)
        new.save()
        _log_append(member=act.member, kind=LogKind.CORRECT, act=new, now=now)
        audit_record(actor=actor, action=AuditAction.CREATE, obj=new, organisation_id=act.member_id)
    return new
