"""Rendering and sending a ticket's notification mail (French templates under
templates/helpdesk/mail/); called by the background task once the write has committed."""

from __future__ import annotations

import importlib
import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.urls import reverse

from mutualis.core.mail import absolute_url, header_text, mail_render
from mutualis.helpdesk import notifications

logger = logging.getLogger("mutualis.helpdesk.mail")

# `[2026-000123]` in a subject: how replies find their ticket again.
REFERENCE_IN_SUBJECT = re.compile(r"\[(\d{4}-\d{6})\]")

SUBJECTS = {
    "created": "Demande enregistrée",
    "assigned": "Demande prise en charge",
    "followup": "Nouveau message",
    "solved": "Solution proposée",
    "closed": "Demande close",
    "escalated": "Alerte de délai",
    "reopened": "Demande rouverte",
    "refused": "Solution refusée",
    "merged": "Demande regroupée",
}


def ticket_url(ticket: Any) -> str:
    return absolute_url(reverse("helpdesk:ticket", kwargs={"reference": ticket.reference}))


def subject_for(ticket: Any, event: str) -> str:
    # header_text: no header folding or injection, no bidi trick from a title.
    return header_text(f"[{ticket.reference}] {SUBJECTS[event]} : {ticket.title}")


def survey_link(ticket: Any) -> str | None:
    """The satisfaction survey's link (mutualis/helpdesk/survey.py signs it); None while that
    module is missing or refuses (already answered)."""
    try:
        survey = importlib.import_module("mutualis.helpdesk.survey")
    except ImportError:
        return None
    make = getattr(survey, "survey_url", None)
    if make is None:
        return None
    url = make(ticket)
    if not url:
        return None
    return absolute_url(url) if str(url).startswith("/") else str(url)


@dataclass
class Batch:
    """One message: the same text for every recipient in `to`."""

    to: list[str]
    context: dict[str, Any] = field(default_factory=dict)


def batches(ticket: Any, event: str) -> list[Batch]:
    """The requester alone gets the survey link at closure (the token is theirs); everyone else
    gets the same mail."""
    to = notifications.recipients(ticket, event)
    if event != "closed" or not ticket.requester or ticket.requester.email not in to:
        return [Batch(to)] if to else []
    link = survey_link(ticket) if ticket.satisfaction_at is None else None
    if link is None:
        return [Batch(to)]
    others = [address for address in to if address != ticket.requester.email]
    return [Batch([ticket.requester.email], {"survey_url": link}), *([Batch(others)] if others else [])]


def render(ticket: Any, event: str, summary: str, extra: dict[str, Any] | None = None) -> tuple[str, str, str]:
    """(subject, text, html) in French whatever language the worker runs in, through the one
    mail rendering path (mutualis/core/mail.py): what users wrote is sanitised Markdown in the
    HTML part and plain words in the text part."""
    context = {
        "ticket": ticket,
        "event": event,
        "summary": summary,
        "url": ticket_url(ticket),
        "base_url": settings.MUTUALIS_BASE_URL,
        # A merged duplicate's mail leads to the ticket kept, where the request goes on.
        "kept_url": ticket_url(ticket.merged_into) if event == "merged" and ticket.merged_into_id else "",
        **(extra or {}),
    }
    subject = subject_for(ticket, event)
    text, html = mail_render(template=f"helpdesk/mail/{event}.txt", context=context, title=subject)
    return subject, text, html


def message_for(ticket: Any, event: str, summary: str, batch: Batch) -> EmailMultiAlternatives:
    """One batch's message, ready to send."""
    subject, text, html = render(ticket, event, summary, batch.context)
    message = EmailMultiAlternatives(
        subject,
        text,
        settings.DEFAULT_FROM_EMAIL,
        batch.to,
        reply_to=[settings.HELPDESK_REPLY_TO] if settings.HELPDESK_REPLY_TO else None,
        headers={
            # RFC 3834: auto-responders must not answer, and our own inbound mail ignores it.
            "Auto-Submitted": "auto-generated",
            "X-Mutualis-Ticket": ticket.reference,
        },
    )
    message.attach_alternative(html, "text/html")
    return message


def deliver(
    ticket: Any, event: str, summary: str, *, skip: Iterable[str] = (), sent: Callable[[list[str]], None]
) -> int:
    """Send `event`'s mail for `ticket` to whoever is not in `skip`, batch after batch on one
    SMTP connection; `sent(addresses)` is called as soon as each batch is accepted, so that a
    failure on a later batch leaves a record of who already has it. Returns the messages sent;
    an SMTP error propagates (the outbox retries)."""
    done = set(skip)
    pending = []
    for batch in batches(ticket, event):
        to = [address for address in batch.to if address not in done]
        if to:
            pending.append(Batch(to, batch.context))
    if not pending:
        return 0
    count = 0
    with get_connection() as connection:
        for batch in pending:
            if connection.send_messages([message_for(ticket, event, summary, batch)]):
                sent(batch.to)
                count += 1
    logger.info("ticket %s: %s mail sent (%d message(s))", ticket.reference, event, count)
    return count
