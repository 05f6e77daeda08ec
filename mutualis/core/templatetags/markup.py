"""`{{ text|markdown }}`: Markdown written by users, rendered safely.

The one renderer lives in mutualis/lib/markup.py, shared with every mail Mutualis sends."""

from __future__ import annotations

from django import template
from django.utils.safestring import SafeString, mark_safe

from mutualis.lib.markup import markdown_html

register = template.Library()

render_markdown = markdown_html  # the name the pages' tests know


@register.filter(name="markdown", is_safe=True)
def markdown_filter(value: object) -> SafeString:
    return mark_safe(markdown_html(str(value or "")))  # noqa: S308 — sanitised by nh3 (lib/markup.py)
