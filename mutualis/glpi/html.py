"""GLPI's rich text → the Markdown Mutualis stores (pages render it through lib.markup, which
never passes markup through). GLPI stores HTML encoded as entities, in two generations
(`&lt;p&gt;` before 10.0, `&#60;p&#62;` since), sometimes both in one text, sometimes encoded
twice: decoded until stable, then the HTML is read as text — paragraphs and line breaks kept,
lists as Markdown lists, links as [text](address), scripts and styles dropped, inline images
(document.send.php?docid=N) named after their attachment."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from html.parser import HTMLParser

DOCID = re.compile(r"docid=(\d+)")
# Markdown's own characters in text that was not Markdown: escaped so "*" or "#" show as typed.
_MD_SPECIAL = re.compile(r"([\\`*_\[\]#<>|])")
_RAW_TAG = re.compile(r"<\s*/?\s*[a-zA-Z!]")
_ENCODED_TAG = re.compile(r"&(?:amp;|#0*38;)*(?:lt|#0*60|#x0*3c);\s*/?\s*[a-zA-Z!]", re.IGNORECASE)
MAX_ROUNDS = 5


def decode(text: str) -> str:
    """The HTML GLPI meant. GLPI encodes the whole HTML once (by name before 10.0, by number
    since; a migrated text may be encoded twice): entities are decoded while the text shows
    encoded tags and no real one. Once it is HTML, its own entities stay for the HTML reader —
    so "&lt;b&gt;" a user typed as text stays text and never becomes a tag."""
    for _round in range(MAX_ROUNDS):
        if _RAW_TAG.search(text) or not _ENCODED_TAG.search(text):
            break
        text = html.unescape(text)
    return text


def decode_plain(text: str) -> str:
    """A text that is not HTML (a title, a comment): entities decoded until none is left."""
    for _round in range(MAX_ROUNDS):
        decoded = html.unescape(text)
        if decoded == text:
            break
        text = decoded
    return text


_SKIP = {"script", "style", "head", "title", "iframe", "object", "embed", "svg", "math", "template"}
_BLOCK = {"p", "div", "table", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "ul", "ol", "section"}


class _Reader(HTMLParser):
    def __init__(self, image: Callable[[int], str]) -> None:
        super().__init__(convert_charrefs=True)
        self.image = image
        self.out: list[str] = []
        self.skip = 0
        self.lists: list[list[int]] = []
        self.href: list[str] = []
        self.link_start: list[int] = []

    def _break(self, count: int) -> None:
        text = "".join(self.out).rstrip(" \t")
        have = len(text) - len(text.rstrip("\n"))
        self.out = [text + "\n" * max(0, count - have)] if text else []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self.skip += 1
            return
        if self.skip:
            return
        values = dict(attrs)
        if tag == "br":
            self.out.append("  \n")
        elif tag in _BLOCK:
            self._break(2)
            if tag in {"ul", "ol"}:
                self.lists.append([0 if tag == "ol" else -1])
            elif tag in {"h1", "h2", "h3", "h4", "h5", "h6"}:
                self.out.append("#" * int(tag[1]) + " ")
        elif tag == "li":
            self._break(1)
            counter = self.lists[-1] if self.lists else [-1]
            if counter[0] >= 0:
                counter[0] += 1
                self.out.append("  " * max(0, len(self.lists) - 1) + f"{counter[0]}. ")
            else:
                self.out.append("  " * max(0, len(self.lists) - 1) + "- ")
        elif tag in {"strong", "b"}:
            self.out.append("**")
        elif tag in {"em", "i"}:
            self.out.append("*")
        elif tag in {"td", "th"}:
            self.out.append(" ")
        elif tag == "a":
            self.href.append(values.get("href") or "")
            self.link_start.append(len(self.out))
            self.out.append("[")
        elif tag == "img":
            match = DOCID.search(values.get("src") or "")
            label = self.image(int(match.group(1))) if match else ""
            alt = values.get("alt") or ""
            self.out.append(f"[{_escape(label or alt or 'image')}]")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self.skip = max(0, self.skip - 1)
            return
        if self.skip:
            return
        if tag in _BLOCK:
            if tag in {"ul", "ol"} and self.lists:
                self.lists.pop()
            self._break(2)
        elif tag in {"strong", "b"}:
            self.out.append("**")
        elif tag in {"em", "i"}:
            self.out.append("*")
        elif tag == "a" and self.href:
            href = self.href.pop()
            start = self.link_start.pop()
            if href.startswith(("http://", "https://", "mailto:")):
                self.out.append(f"]({href.replace(')', '%29').replace(' ', '%20')})")
            else:  # a javascript: or relative link: its text only
                self.out[start] = ""

    def handle_data(self, data: str) -> None:
        if self.skip:
            return
        self.out.append(_escape(re.sub(r"\s+", " ", data)))


def _escape(text: str) -> str:
    return _MD_SPECIAL.sub(r"\\\1", text)


# Most of GLPI's texts are a few plain paragraphs: read without the HTML parser (a third of
# the import's time on 300,000 followups otherwise).
_SIMPLE = re.compile(r"\s*(?:<p>[^<]*</p>\s*)+")
_PARAGRAPH = re.compile(r"<p>([^<]*)</p>")
_SPACES = re.compile(r"\s+")


def to_markdown(content: str | None, *, image: Callable[[int], str] = lambda _docid: "") -> str:
    """GLPI's stored content as Markdown; `image(docid)` names an inline image's attachment."""
    text = decode(content or "")
    if not _RAW_TAG.search(text):
        return _escape(decode_plain(text).strip())
    if _SIMPLE.fullmatch(text):
        paragraphs = (_SPACES.sub(" ", html.unescape(p)).strip() for p in _PARAGRAPH.findall(text))
        return "\n\n".join(_escape(p) for p in paragraphs if p)
    reader = _Reader(image)
    reader.feed(text)
    reader.close()
    lines = [line.rstrip() if not line.endswith("  ") else line for line in "".join(reader.out).split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def inline_documents(content: str | None) -> list[int]:
    """The document ids a content shows inline (document.send.php?docid=N)."""
    return [int(n) for n in DOCID.findall(decode(content or ""))]
