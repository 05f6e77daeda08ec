"""The satisfaction survey's link: a signed token naming the ticket, valid
settings.HELPDESK_SURVEY_DAYS days, answerable once (services.satisfaction_record refuses a second
answer) and without logging in."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.core import signing
from django.urls import reverse

from mutualis.core.mail import absolute_url
from mutualis.helpdesk.enums import Status
from mutualis.helpdesk.models import Ticket

SALT = "mutualis.helpdesk.survey"


class SurveyLinkError(Exception):
    """The link cannot be used; `kind` says why: "expired", "tampered" or "unknown"."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


def survey_token(ticket: Ticket) -> str:
    return signing.TimestampSigner(salt=SALT).sign(ticket.reference)


def survey_url(ticket: Ticket) -> str:
    """The absolute link the closure mail carries."""
    path = reverse("helpdesk:survey", kwargs={"token": survey_token(ticket)})
    return absolute_url(path)


def survey_ticket(token: str) -> Ticket:
    """The ticket a token names, or SurveyLinkError."""
    signer = signing.TimestampSigner(salt=SALT)
    try:
        reference = signer.unsign(token, max_age=dt.timedelta(days=settings.HELPDESK_SURVEY_DAYS))
    except signing.SignatureExpired:
        raise SurveyLinkError("expired") from None
    except signing.BadSignature:
        raise SurveyLinkError("tampered") from None
    try:
        return Ticket.objects.select_related("collectivity").get(reference=reference)
    except Ticket.DoesNotExist:
        raise SurveyLinkError("unknown") from None


def survey_open_to(ticket: Ticket, user: Any, now: dt.datetime) -> bool:
    """Whether `user` may answer the ticket's survey from its page: the requester, once the ticket
    is closed, not yet answered, within the days the closure mail's link stays valid."""
    return (
        ticket.status == Status.CLOSED
        and ticket.requester_id is not None
        and ticket.requester_id == getattr(user, "pk", None)
        and ticket.satisfaction_at is None
        and ticket.closed_at is not None
        and now - ticket.closed_at <= dt.timedelta(days=settings.HELPDESK_SURVEY_DAYS)
    )
