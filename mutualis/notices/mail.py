"""The mail a notice's publication, messages, start, end or cancellation sends to the contacts of
the members affected: one message per member, addressed to that member's contacts only (a town
does not learn another's addresses), rendered through core.mail's single path."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from mutualis.core.mail import absolute_url, mail_message
from mutualis.core.timefmt import local_datetime
from mutualis.members.models import Contact
from mutualis.notices.enums import UpdateKind
from mutualis.notices.models import NoticeUpdate
from mutualis.notices.selectors import affected_applications, affected_members

logger = logging.getLogger("mutualis.notices.mail")


def _subject(update: NoticeUpdate) -> str:
    notice = update.notice
    what = {
        UpdateKind.PUBLISHED: _("nouvel avis"),
        UpdateKind.MESSAGE: _("point de situation"),
        UpdateKind.STARTED: _("début"),
        UpdateKind.ENDED: _("fin"),
        UpdateKind.CANCELLED: _("annulation"),
    }[UpdateKind(update.kind)]
    return f"[{notice.get_kind_display().capitalize()}] {notice.title} — {what}"


def update_messages(update: NoticeUpdate) -> list[EmailMultiAlternatives]:
    """The messages of one timeline line, one per affected member that has contacts with an address."""
    notice = update.notice
    messages = []
    with translation.override(settings.LANGUAGE_CODE):
        subject = _subject(update)
        url = absolute_url(reverse("notices:detail", kwargs={"pk": notice.pk}))
        for member in affected_members(notice=notice):
            contacts = Contact.objects.filter(organisation=member).exclude(email="")
            addresses = sorted({c.email.strip() for c in contacts if c.email.strip()})
            if not addresses:
                continue
            context = {
                "notice": notice,
                "update": update,
                "member": member,
                "applications": affected_applications(notice=notice, organisation_id=member.pk),
                "starts": local_datetime(notice.starts_at, "l j F Y à H:i"),
                "planned_end": local_datetime(notice.planned_end_at, "l j F Y à H:i"),
                "ended": local_datetime(notice.ended_at, "l j F Y à H:i"),
                "url": url,
            }
            messages.append(
                mail_message(
                    subject=subject,
                    template="notices/mail/update.txt",
                    context=context,
                    to=addresses,
                    headers={"Auto-Submitted": "auto-generated"},
                )
            )
    return messages


def update_deliver(update_id: int) -> int:
    """Send one timeline line's mail; returns the messages sent. An SMTP error fails the job,
    for the worker's log and a retry from the jobs page."""
    update = NoticeUpdate.objects.select_related("notice").filter(pk=update_id).first()
    if update is None:  # the notice was deleted since: nothing to say
        return 0
    messages = update_messages(update)
    if not messages:
        return 0
    with get_connection() as connection:
        sent = connection.send_messages(messages) or 0
    logger.info("notice %s, update %s: %d message(s) sent", update.notice_id, update.pk, sent)
    return sent
