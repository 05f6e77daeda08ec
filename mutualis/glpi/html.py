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
_LOOKS_ENCODED = re.compile(r"&(?:lt|gt|amp|quot|#0*60|#0*62|#0*38|#x0*3c|#x0*3e);", re.IGNORECASE)
MAX_ROUNDS = 5


def decode(text: str) -> str:
    """The HTML GLPI meant: entities decoded while the text still holds encoded markup (a text
    encoded twice needs two rounds); a literal "&lt;" a user typed ends as "<" text, which the
    HTML reader below treats as text, not as a tag."""
    for _round in range(MAX_ROUNDS):
        if not _LOOKS_ENCODED.search(text):
            break
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
            self.link_start.pop()
            if href.startswith(("http://", "https://", "mailto:")):
                self.out.append(f"]({href.replace(')', '%29').replace(' ', '%20')})")
            else:
                self.out.append("]")

    def handle_data(self, data: str) -> None:
        if self.skip:
            return
        self.out.append(_escape(re.sub(r"\s+", " ", data)))


def _escape(text: str) -> str:
    return _MD_SPECIAL.sub(r"\\\1", text)


def to_markdown(content: str | None, *, image: Callable[[int], str] = lambda _docid: "") -> str:
    """GLPI's stored content as Markdown; `image(docid)` names an inline image's attachment."""
    text = decode(content or "")
    if "<" not in text:
        return _escape(text.strip())
    reader = _Reader(image)
    reader.feed(text)
    reader.close()
    lines = [line.rstrip() if not line.endswith("  ") else line for line in "".join(reader.out).split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def inline_documents(content: str | None) -> list[int]:
    """The document ids a content shows inline (document.send.php?docid=N)."""
    return [int(n) for n in DOCID.findall(decode(content or ""))]
