"""`{{ text|markdown }}`: Markdown written by users, rendered safely.

The one renderer lives in mutualis/lib/markup.py, shared with every mail Mutualis sends."""

from __future__ import annotations

from django import template
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from mutualis.lib.markup import markdown_html

register = template.Library()

render_markdown = markdown_html  # the name the pages' tests know


@register.filter(name="markdown", is_safe=True)
def markdown_filter(value: object) -> SafeString:
    html = markdown_html(str(value or ""))
    if "<table>" in html:
        # A table a user wrote scrolls inside its own box, as the pages' tables do: a phone does
        # not scroll sideways. nh3 leaves <table> bare (no attribute allowed), and a typed
        # "<table>" arrives escaped, so only real tables match.
        label = escape(_("Tableau, défilable horizontalement"))
        wrap = f'<div class="table-wrap" tabindex="0" role="region" aria-label="{label}">'
        html = html.replace("<table>", wrap + "<table>").replace("</table>", "</table></div>")
    return mark_safe(html)  # noqa: S308 — sanitised by nh3 (lib/markup.py), the wrapper is ours
