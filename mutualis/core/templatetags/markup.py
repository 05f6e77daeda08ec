"""`{{ text|markdown }}`: Markdown written by users, rendered safely.

Raw HTML in the text is never interpreted: Python-Markdown's HTML passes are switched off so it
shows as typed, and nh3 then keeps only a short list of tags, attributes and link schemes (a
second wall should the first one leak). Links leave with rel="noopener noreferrer"."""

from __future__ import annotations

import markdown as md
import nh3
from django import template
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

TAGS = {
    "p", "br", "hr", "strong", "em", "b", "i", "code", "pre", "blockquote",
    "ul", "ol", "li", "a", "h1", "h2", "h3", "h4", "h5", "h6",
    "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip
ATTRIBUTES = {"a": {"href", "title"}, "th": {"align"}, "td": {"align"}}
URL_SCHEMES = {"http", "https", "mailto"}


def render_markdown(text: str) -> str:
    """Markdown → sanitised HTML (a str; the filter marks it safe)."""
    converter = md.Markdown(extensions=["tables", "fenced_code", "sane_lists", "nl2br"])
    # Raw HTML, block or inline, is escaped as text instead of passed through.
    converter.preprocessors.deregister("html_block")
    converter.inlinePatterns.deregister("html")
    html = converter.convert(text or "")
    return nh3.clean(
        html,
        tags=TAGS,
        attributes=ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer",
    )


@register.filter(name="markdown", is_safe=True)
def markdown_filter(value: object) -> SafeString:
    return mark_safe(render_markdown(str(value or "")))  # noqa: S308 — sanitised by nh3 above
