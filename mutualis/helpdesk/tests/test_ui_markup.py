"""The `markdown` template filter: Markdown rendered, any HTML or script escaped or stripped."""

import pytest
from django.template import Context, Template

from mutualis.core.templatetags.markup import render_markdown


def render(text: str) -> str:
    return Template("{% load markup %}{{ text|markdown }}").render(Context({"text": text}))


def test_it_renders_markdown():
    html = render("**gras** et *italique*\n\n- un\n- deux")
    assert "<strong>gras</strong>" in html
    assert "<em>italique</em>" in html
    assert "<li>un</li>" in html


@pytest.mark.parametrize(
    "payload",
    [
        "<script>alert('x')</script>",
        "<div>\n<script>alert('x')</script>\n</div>",
        "texte <img src=x onerror=alert('x')> suite",
        "<a href=\"javascript:alert('x')\">clic</a>",
        "<iframe src='https://evil.example'></iframe>",
    ],
)
def test_it_escapes_html_and_script_typed_in_the_text(payload):
    html = render(payload)
    assert "<script" not in html
    assert "<img" not in html
    assert "<iframe" not in html
    assert "<div" not in html
    assert '<a href="javascript' not in html
    assert "&lt;" in html  # shown as typed, not interpreted


def test_it_drops_javascript_links_written_in_markdown():
    html = render("[clic](javascript:alert(1)) et [ok](data:text/html,<b>x</b>)")
    assert "javascript:" not in html
    assert "data:" not in html


def test_it_marks_links_noopener_noreferrer():
    html = render("[site](https://example.org) <https://example.org/x>")
    assert 'href="https://example.org"' in html
    assert 'rel="noopener noreferrer"' in html


def test_it_lets_a_written_table_scroll_in_its_own_box():
    html = render("| Serveur | Version |\n|---|---|\n| srv-01 | 2025.1 |\n\n`<table>` tapé")
    assert html.count('<div class="table-wrap" tabindex="0" role="region"') == 1
    assert html.index('<div class="table-wrap"') < html.index("<table>") < html.index("</table></div>")
    assert "<code>&lt;table&gt;</code>" in html  # a typed tag is text, never wrapped


def test_it_keeps_code_spans_readable():
    assert render_markdown("`a < b && c`") == "<p><code>a &lt; b &amp;&amp; c</code></p>"


def test_it_renders_nothing_for_empty_text():
    assert render("") == ""
    assert render(None) == ""  # type: ignore[arg-type]
