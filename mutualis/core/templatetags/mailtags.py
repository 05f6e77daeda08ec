"""Tags of mail templates (rendered by mutualis/core/mail.py once per part)."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from mutualis.core.mail import HTML, MODE, absolute_url
from mutualis.lib.markup import markdown_html, markdown_text

register = template.Library()


@register.simple_tag(takes_context=True)
def user_text(context: Any, value: object) -> str:
    """What a user wrote: sanitised Markdown in the HTML part, the same words without Markdown's
    markers in the text part. The one way user text enters a mail."""
    text = str(value or "")
    if context.get(MODE) == HTML:
        # white-space: normal undoes the layout's pre-wrap inside the rendered blocks.
        return format_html('<div style="white-space: normal;">{}</div>', mark_safe(markdown_html(text)))  # noqa: S308
    return markdown_text(text)


@register.simple_tag(takes_context=True)
def mail_link(context: Any, url: str, label: str = "") -> str:
    """A link: « label : url » in the text part, an anchor in the HTML part."""
    if context.get(MODE) == HTML:
        return format_html('<a href="{}" style="color: #000091;">{}</a>', url, label or url)
    return f"{label} : {url}" if label else str(url)


@register.filter(name="absolute_url")
def absolute_url_filter(path: str) -> str:
    """`{{ path|absolute_url }}`: a site path as an absolute link on MUTUALIS_BASE_URL, for mail and
    PDFs, which are read away from any request."""
    return absolute_url(str(path))
