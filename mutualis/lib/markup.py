"""Markdown written by users, made safe once for every place it is shown: pages and mail.

`markdown_html` is what pages and the HTML part of a mail show; `markdown_text` is the same text
for a plain-text part, read as a person would read the page (no `**`, `#` or `[...](...)` left).
Raw HTML in the text is never interpreted: Python-Markdown's HTML passes are switched off so it
shows as typed, and nh3 then keeps only a short list of tags, attributes and link schemes (a
second wall should the first one leak). Links leave with rel="noopener noreferrer"."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import markdown as md
import nh3

TAGS = {
    "p", "br", "hr", "strong", "em", "b", "i", "code", "pre", "blockquote",
    "ul", "ol", "li", "a", "h1", "h2", "h3", "h4", "h5", "h6",
    "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip
ATTRIBUTES = {"a": {"href", "title"}, "th": {"align"}, "td": {"align"}}
URL_SCHEMES = {"http", "https", "mailto"}


def markdown_html(text: str) -> str:
    """Markdown → sanitised HTML (a plain str: the caller marks it safe)."""
    converter = md.Markdown(extensions=["tables", "fenced_code", "sane_lists", "nl2br"])
    # Raw HTML, block or inline, is escaped as text instead of passed through.
    converter.preprocessors.deregister("html_block")
    converter.inlinePatterns.deregister("html")
    rendered = converter.convert(text or "")
    return nh3.clean(
        rendered,
        tags=TAGS,
        attributes=ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer",
    )


_BLOCKS = {"p", "pre", "blockquote", "ul", "ol", "table", "h1", "h2", "h3", "h4", "h5", "h6", "hr"}


class _TextWriter(HTMLParser):
    """Walks the sanitised HTML and writes what a reader sees: paragraphs apart, list items with
    a bullet, a link as « text (address) », table cells apart, code as typed."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.lists: list[list[int]] = []  # one counter per open list; -1 for a bulleted one
        self.href: list[str | None] = []
        self.link_text: list[int] = []
        self.pre = 0

    def _newlines(self, count: int) -> None:
        text = "".join(self.out).rstrip(" ")
        missing = count - (len(text) - len(text.rstrip("\n")))
        self.out = [text]
        if text and missing > 0:
            self.out.append("\n" * missing)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCKS:
            self._newlines(1 if tag in {"ul", "ol"} and self.lists else 2)
        if tag == "pre":
            self.pre += 1
        elif tag == "br":
            self.out.append("\n")
        elif tag in {"ul", "ol"}:
            self.lists.append([0 if tag == "ol" else -1])
        elif tag == "li":
            self._newlines(1)
            depth = max(len(self.lists) - 1, 0)
            counter = self.lists[-1] if self.lists else [-1]
            if counter[0] >= 0:
                counter[0] += 1
                self.out.append("   " * depth + f"{counter[0]}. ")
            else:
                self.out.append("   " * depth + "• ")
        elif tag == "a":
            self.href.append(dict(attrs).get("href"))
            self.link_text.append(len("".join(self.out)))
        elif tag in {"td", "th"}:
            text = "".join(self.out).rstrip(" ")
            self.out = [text, " | " if text and not text.endswith("\n") else ""]
        elif tag == "tr":
            self._newlines(1)

    def handle_endtag(self, tag: str) -> None:
        if tag == "pre":
            self.pre = max(self.pre - 1, 0)
        if tag in {"ul", "ol"} and self.lists:
            self.lists.pop()
        if tag == "a" and self.href:
            href = self.href.pop()
            start = self.link_text.pop()
            shown = "".join(self.out)[start:].strip()
            if href and href != shown and f"mailto:{shown}" != href:
                self.out.append(f" ({href})")
        if tag in _BLOCKS:
            self._newlines(2)

    def handle_data(self, data: str) -> None:
        if not self.pre:
            data = re.sub(r"[ \t\r\n]+", " ", data)
            if "".join(self.out).endswith(("\n", " ")) or not self.out:
                data = data.lstrip(" ")
        self.out.append(data)

    def text(self) -> str:
        lines = [line.rstrip() for line in "".join(self.out).split("\n")]
        return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n")


def markdown_text(text: str) -> str:
    """Markdown → plain text for a mail's text part: the markers are gone, the words and the
    link addresses stay. Built from the sanitised HTML, so it says what the page shows."""
    writer = _TextWriter()
    writer.feed(markdown_html(text))
    writer.close()
    return writer.text()
