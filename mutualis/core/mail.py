"""Every mail Mutualis sends is rendered here, through one path.

A mail is one template rendered twice: once as the plain-text part (autoescape off), once as
the HTML part (autoescape on, inside core/mail/layout.html). What a user wrote enters a mail
template only through `{% user_text %}` (mailtags): Markdown rendered by the same sanitiser as
the pages (mutualis/lib/markup.py) for the HTML part, and the same text without its markers for
the plain part. Every other value is escaped in the HTML part by the template engine itself, so
nobody's markup reaches a mail raw. Links are absolute from MUTUALIS_BASE_URL (`absolute_url`):
a mail or a PDF is read away from any request, and a request's Host header is not to be trusted.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template import Context, engines
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.safestring import mark_safe

# The context key telling the mailtags which part is being rendered.
MODE = "mail_part"
TEXT, HTML = "text", "html"


def absolute_url(path: str) -> str:
    """`path` (from reverse(), starting with "/") as an absolute link on MUTUALIS_BASE_URL."""
    if not path.startswith("/"):
        raise ValueError(f"absolute_url expects a path starting with '/', got {path!r}")
    return f"{settings.MUTUALIS_BASE_URL}{path}"


def header_text(value: str, *, limit: int = 250) -> str:
    """A user's words made fit for a header (a subject): one line, without control or format
    characters (CR/LF would fold or inject headers; U+202E and its kin reverse what is shown)."""
    kept = "".join(" " if unicodedata.category(ch) in {"Cc", "Cf", "Zl", "Zp"} else ch for ch in value)
    return " ".join(kept.split())[:limit]


def mail_render(*, template: str, context: dict[str, Any], title: str) -> tuple[str, str]:
    """(text, html) of `template` in the site's language (French) whatever the worker's."""
    compiled = engines["django"].engine.get_template(template)  # type: ignore[attr-defined]
    with translation.override(settings.LANGUAGE_CODE):
        text = compiled.render(Context({**context, MODE: TEXT}, autoescape=False))
        body = compiled.render(Context({**context, MODE: HTML}, autoescape=True))
        html = render_to_string(
            "core/mail/layout.html",
            {"title": title, "body": mark_safe(body.strip())},  # noqa: S308 — rendered with autoescape on
        )
    return text.strip() + "\n", html


def mail_message(
    *,
    subject: str,
    template: str,
    context: dict[str, Any],
    to: Sequence[str],
    headers: dict[str, str] | None = None,
    reply_to: Sequence[str] | None = None,
) -> EmailMultiAlternatives:
    """A ready-to-send message with both parts, from DEFAULT_FROM_EMAIL."""
    subject = header_text(subject)
    text, html = mail_render(template=template, context=context, title=subject)
    message = EmailMultiAlternatives(
        subject, text, settings.DEFAULT_FROM_EMAIL, list(to), headers=headers, reply_to=reply_to
    )
    message.attach_alternative(html, "text/html")
    return message
