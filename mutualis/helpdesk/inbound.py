"""Mail into the helpdesk: a known sender's message opens a ticket, or adds a followup when its
subject carries a ticket's reference; a reply to a closed ticket opens a new one linked to it.

A message is never believed on its From header alone (mailauth.py): several From addresses, a
Sender other than From, or a DMARC, SPF or DKIM failure reported by a trusted receiving server
(settings.HELPDESK_TRUSTED_AUTHSERV_IDS) refuse it; an operator account acts by mail only when
that server vouches for its address. Unknown senders are refused too. Every message is recorded
under its Message-ID in its own table (InboundMail): a second delivery or a second poll of a
handled message is a no-op, and operator admins see the refusals."""

from __future__ import annotations

import email
import email.policy
import hashlib
import imaplib
import logging
import re
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils.html import strip_tags
from django.utils.translation import gettext as _

from mutualis.accounts.models import User
from mutualis.helpdesk import mailauth, services
from mutualis.helpdesk.enums import Source, Status, TicketType
from mutualis.helpdesk.mail import REFERENCE_IN_SUBJECT, SUBJECTS
from mutualis.helpdesk.models import InboundMail, Ticket

logger = logging.getLogger("mutualis.helpdesk.inbound")

CREATED, FOLLOWUP, LINKED = "created", "followup", "linked"
REFUSED, IGNORED, DUPLICATE = "refused", "ignored", "duplicate"
HANDLED = (CREATED, FOLLOWUP, LINKED)


def outcome_label(kind: str) -> str:
    """The outcome as the operator reads it in a command's output (the stored code stays English)."""
    labels = {
        CREATED: _("demande créée"),
        FOLLOWUP: _("suivi ajouté"),
        LINKED: _("nouvelle demande liée"),
        REFUSED: _("refusé"),
        IGNORED: _("ignoré"),
        DUPLICATE: _("doublon"),
    }
    return labels.get(kind, kind)


_PREFIXES = re.compile(r"^\s*((re|tr|fw|fwd|réf|ref)\s*(\[\d+\])?\s*:\s*)+", re.IGNORECASE)


@dataclass
class Outcome:
    """What became of one message; `ok` is False only for a refusal."""

    kind: str
    message: str
    ticket: Ticket | None = None
    message_id: str = ""
    dropped: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.kind != REFUSED


def _record(
    *,
    kind: str,
    message_id: str,
    sender: str,
    subject: str,
    user: User | None = None,
    ticket: Ticket | None = None,
    reason: str = "",
) -> None:
    """The message's one row, written or updated (a refused message delivered again may pass)."""
    if kind == REFUSED and already_handled(message_id):
        return  # another run handled it meanwhile: refusing a copy changes nothing
    InboundMail.objects.update_or_create(
        message_id=message_id,
        defaults={
            "outcome": kind,
            "sender": sender[:320],
            "subject": subject[:255],
            "reason": reason,
            "user": user,
            "ticket": ticket,
        },
    )


def already_handled(message_id: str) -> bool:
    return InboundMail.objects.filter(message_id=message_id, outcome__in=HANDLED).exists()


class _AlreadyHandled(Exception):
    """Another run handled the message while this one was at it."""


def _sender(message: EmailMessage) -> str:
    try:
        addresses = message["From"].addresses if message["From"] is not None else ()
    except (AttributeError, IndexError, ValueError):
        addresses = ()
    return addresses[0].addr_spec.strip() if addresses else ""


def _is_automatic(message: EmailMessage) -> bool:
    """Auto-replies, bounces and our own notifications must not open tickets (mail loops)."""
    auto = str(message.get("Auto-Submitted", "no")).strip().lower()
    precedence = str(message.get("Precedence", "")).strip().lower()
    return (
        auto not in {"", "no"} or precedence in {"bulk", "junk", "auto_reply"} or bool(message.get("X-Mutualis-Ticket"))
    )


def _payload(part: Any) -> bytes:
    data = part.get_payload(decode=True)
    return data if isinstance(data, bytes) else b""


def _text(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    try:
        content = part.get_content()
    except (LookupError, UnicodeDecodeError):  # an unknown or lying charset
        content = _payload(part).decode("utf-8", errors="replace")
    if part.get_content_type() == "text/html":
        content = strip_tags(content)
    return content.replace("\r\n", "\n").strip()


def _uploads(message: EmailMessage) -> tuple[list[SimpleUploadedFile], list[str]]:
    """Attachments that pass the helpdesk's checks, and a note for each one dropped."""
    kept, dropped = [], []
    for number, part in enumerate(message.iter_attachments(), start=1):
        name = part.get_filename() or f"piece-jointe-{number}"
        data = _payload(part)
        upload = SimpleUploadedFile(name, data, content_type=part.get_content_type())
        try:
            services.check_upload(upload)
        except ValidationError as error:
            dropped.append("; ".join(error.messages))
            continue
        kept.append(upload)
    return kept, dropped


def _clean_subject(subject: str) -> str:
    """The title a reply's subject gives: without Re:/TR:, the reference and our event label."""
    subject = " ".join(_PREFIXES.sub("", REFERENCE_IN_SUBJECT.sub("", subject)).split())
    for label in SUBJECTS.values():
        if subject.startswith(f"{label} : "):
            return subject[len(label) + 3 :].strip()
    return subject


def _target(user: User, reference: str | None) -> Ticket | None:
    if not reference:
        return None
    ticket = Ticket.objects.visible_to(user).filter(reference=reference).select_related("merged_into").first()
    visible = Ticket.objects.visible_to(user)
    if ticket is not None and ticket.merged_into_id and visible.filter(pk=ticket.merged_into_id).exists():
        return ticket.merged_into  # the duplicate's conversation goes on in the ticket kept
    return ticket


def ingest_message(raw: bytes) -> Outcome:
    """Handle one RFC 822 message (see the module's docstring); never raises for bad mail."""
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    message_id = (str(message.get("Message-ID", "")).strip() or "sha256:" + hashlib.sha256(raw).hexdigest())[:998]
    subject = " ".join(str(message.get("Subject", "")).split())
    sender = _sender(message)

    def refuse(reason: str, user: User | None = None) -> Outcome:
        logger.warning("inbound mail %s from %r refused: %s", message_id, sender, reason)
        _record(kind=REFUSED, message_id=message_id, sender=sender, subject=subject, user=user, reason=reason)
        return Outcome(REFUSED, reason, message_id=message_id)

    def duplicate() -> Outcome:
        return Outcome(DUPLICATE, _("message déjà traité : %(id)s") % {"id": message_id}, message_id=message_id)

    if already_handled(message_id):
        return duplicate()
    if _is_automatic(message) or sender.lower() == settings.DEFAULT_FROM_EMAIL.lower():
        logger.info("inbound mail %s from %r ignored: automatic message", message_id, sender)
        return Outcome(IGNORED, _("message automatique ignoré"), message_id=message_id)
    if not sender:
        return refuse(_("expéditeur illisible ou absent"))
    # Never believed on its From alone: one author, no other Sender, and nothing the trusted
    # receiving server reports as forged.
    check = mailauth.verdict(message, sender=sender, trusted_ids=settings.HELPDESK_TRUSTED_AUTHSERV_IDS)
    if check.refusal:
        return refuse(check.refusal)
    users = list(User.objects.filter(email__iexact=sender, is_active=True).select_related("organisation")[:2])
    if not users:
        return refuse(_("expéditeur inconnu : %(sender)s n'est l'adresse d'aucun compte actif") % {"sender": sender})
    if len(users) > 1:
        return refuse(_("expéditeur ambigu : plusieurs comptes actifs ont l'adresse %(sender)s") % {"sender": sender})
    user = users[0]
    if user.is_operator and not check.authenticated:
        # An operator account acts on every member's tickets: its address alone, easy to forge,
        # must not be enough.
        return refuse(
            _(
                "adresse de l'opérateur non authentifiée : un agent de l'opérateur n'agit par courriel "
                "que si le serveur de réception confirme l'expéditeur (DMARC ou DKIM aligné)"
            ),
            user=user,
        )
    body = _text(message)
    uploads, dropped = _uploads(message)
    if dropped:
        notes = "\n".join(_("Pièce jointe écartée : %(reason)s") % {"reason": reason} for reason in dropped)
        body = f"{body}\n\n---\n{notes}" if body else notes
    if not body.strip():
        body = _("(message sans texte)")
    match = REFERENCE_IN_SUBJECT.search(subject)
    target = _target(user, match.group(1) if match else None)
    try:
        with transaction.atomic():
            # The row is locked (or its insert blocks on the unique Message-ID) until this
            # transaction ends: two runs on the same message write one ticket.
            if InboundMail.objects.select_for_update().filter(message_id=message_id, outcome__in=HANDLED).exists():
                raise _AlreadyHandled
            if target is not None and target.status != Status.CLOSED:
                services.followup_add(
                    actor=user, ticket=target, body=body, attachments=uploads, source=Source.MAIL, via="mail"
                )
                kind, ticket = FOLLOWUP, target
            else:
                requester: User | None
                if not user.is_operator:
                    collectivity, requester = user.organisation, user
                elif target is None:
                    raise ValidationError(
                        _(
                            "un agent de l'opérateur ne peut ouvrir une demande par courriel : "
                            "indiquez la référence d'un ticket dans l'objet"
                        )
                    )
                else:
                    collectivity, requester = target.collectivity, target.requester
                if collectivity is None:
                    raise ValidationError(_("ce compte n'est rattaché à aucune collectivité"))
                ticket = services.ticket_create(
                    actor=user,
                    collectivity=collectivity,
                    requester=requester,
                    ticket_type=TicketType.REQUEST,
                    title=_clean_subject(subject) or _("(sans objet)"),
                    description=body,
                    source=Source.MAIL,
                    attachments=uploads,
                    linked_to=target,
                    via="mail",
                )
                kind = LINKED if target is not None else CREATED
            _record(kind=kind, message_id=message_id, sender=sender, subject=subject, user=user, ticket=ticket)
    except (_AlreadyHandled, IntegrityError):
        return duplicate()
    except (ValidationError, PermissionDenied, Http404) as error:
        reason = "; ".join(error.messages) if isinstance(error, ValidationError) else str(error) or _("accès refusé")
        return refuse(reason, user=user)
    texts = {
        CREATED: _("demande %(ref)s ouverte"),
        FOLLOWUP: _("message ajouté à %(ref)s"),
        LINKED: _("demande %(ref)s ouverte, liée à %(old)s qui est close"),
    }
    text = texts[kind] % {"ref": ticket.reference, "old": target.reference if target else ""}
    logger.info("inbound mail %s from %r: %s", message_id, sender, text)
    return Outcome(kind, text, ticket=ticket, message_id=message_id, dropped=dropped)


@dataclass
class PollSummary:
    seen: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)

    def line(self) -> str:
        detail = ", ".join(f"{outcome_label(kind)} {count}" for kind, count in sorted(self.outcomes.items()))
        detail = detail or _("rien")
        return f"boîte IMAP : {self.seen} message(s) non lu(s) — {detail}"


def poll_imap(config: dict[str, Any], *, limit: int | None = None, timeout: float = 30) -> PollSummary:
    """Read the unseen messages of the mailbox, handle each one, then flag it \\Seen.

    BODY.PEEK[] leaves the flag alone while a message is handled: one that crashes the run stays
    unseen and is tried again on the next poll (the Message-ID record stops a double ticket)."""
    summary = PollSummary()
    client_class = imaplib.IMAP4_SSL if config["ssl"] else imaplib.IMAP4
    with client_class(config["host"], config["port"], timeout=timeout) as conn:
        conn.login(config["user"], config["password"])
        status, _data = conn.select(_quote(config["mailbox"]))
        if status != "OK":
            raise imaplib.IMAP4.error(f"mailbox {config['mailbox']!r} cannot be selected")
        status, data = conn.search(None, "UNSEEN")
        numbers = data[0].split() if status == "OK" and data and data[0] else []
        for number in numbers[:limit] if limit else numbers:
            status, parts = conn.fetch(number.decode(), "(BODY.PEEK[])")
            raw = next((part[1] for part in parts if isinstance(part, tuple)), None)
            if status != "OK" or raw is None:
                continue
            outcome = ingest_message(raw)
            conn.store(number.decode(), "+FLAGS", "(\\Seen)")
            summary.seen += 1
            summary.outcomes[outcome.kind] = summary.outcomes.get(outcome.kind, 0) + 1
    return summary


def _quote(mailbox: str) -> str:
    return '"' + mailbox.replace("\\", "\\\\").replace('"', '\\"') + '"'
