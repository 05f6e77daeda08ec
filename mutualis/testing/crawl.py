"""Walk every page a signed-in account can reach, as a user clicking links would, and list its forms.

Used by the tests that check what users see across the demo world: the pages' text (French, no
curation notes of the source data) and the forms they are offered (each one must be accepted).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urljoin, urlsplit

from django.test import Client
from django.urls import Resolver404, resolve

# Not pages: the API has its own tests, the language switch and sign-out end the visit.
SKIPPED_PREFIXES = ("/api/", "/i18n/", "/static/", "/media/", "/comptes/deconnexion/")


@dataclass
class Form:
    page: str
    action: str
    method: str
    fields: list[tuple[str, str]]

    def data(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for name, value in self.fields:
            out.setdefault(name, []).append(value)
        return out


@dataclass
class Page:
    url: str
    status: int
    content_type: str
    html: str = ""
    text: str = ""
    links: list[str] = field(default_factory=list)
    forms: list[Form] = field(default_factory=list)


class _PageParser(HTMLParser):
    """Links, forms with the values a browser would submit untouched, and the visible text."""

    def __init__(self, url: str) -> None:
        super().__init__(convert_charrefs=True)
        self.url = url
        self.links: list[str] = []
        self.forms: list[Form] = []
        self.text: list[str] = []
        self._form: Form | None = None
        self._select: str | None = None
        self._select_value: str | None = None
        self._select_multiple = False
        self._textarea: str | None = None
        self._textarea_value: list[str] = []
        self._hidden_depth = 0  # inside <script>/<style>: not visible text

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag in ("script", "style", "template"):
            self._hidden_depth += 1
        elif tag == "a" and a.get("href"):
            self.links.append(urljoin(self.url, a["href"]))
        elif tag == "form":
            method = a.get("method", "get").lower()
            self._form = Form(self.url, urljoin(self.url, a.get("action") or self.url), method, [])
        elif self._form is not None and tag == "input" and a.get("name"):
            kind = a.get("type", "text").lower()
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    self._form.fields.append((a["name"], a.get("value", "on")))
            elif kind not in ("submit", "button", "file", "image", "reset"):
                self._form.fields.append((a["name"], a.get("value", "")))
        elif self._form is not None and tag == "select":
            self._select, self._select_value = a.get("name") or None, None
            self._select_multiple = "multiple" in a
        elif self._form is not None and tag == "option" and self._select:
            value = a.get("value", "")
            if self._select_multiple:
                if "selected" in a:
                    self._form.fields.append((self._select, value))
            elif "selected" in a or self._select_value is None:
                self._select_value = value  # the first option, unless another is selected
        elif self._form is not None and tag == "textarea":
            self._textarea, self._textarea_value = a.get("name") or None, []
        elif self._form is not None and tag == "button" and a.get("name") and a.get("type", "submit") == "submit":
            self._form.fields.append((a["name"], a.get("value", "")))
        if tag in ("input",) and a.get("type") in ("submit", "button") and a.get("value"):
            self.text.append(a["value"])
        for attribute in ("title", "aria-label", "placeholder", "alt"):
            if a.get(attribute):
                self.text.append(a[attribute])

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "template"):
            self._hidden_depth = max(0, self._hidden_depth - 1)
        elif tag == "select" and self._form is not None and self._select:
            if not self._select_multiple and self._select_value is not None:
                self._form.fields.append((self._select, self._select_value))
            self._select = None
        elif tag == "textarea" and self._form is not None and self._textarea:
            self._form.fields.append((self._textarea, "".join(self._textarea_value)))
            self._textarea = None
        elif tag == "form" and self._form is not None:
            self.forms.append(self._form)
            self._form = None

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._textarea_value.append(data)
        if not self._hidden_depth:
            self.text.append(data)


def forms_of(html: str, url: str) -> list[Form]:
    """The forms of a page served at `url` (a path), with the values a browser would submit."""
    parser = _PageParser(f"http://testserver{url}")
    parser.feed(html)
    return parser.forms


def route_of(url: str) -> str | None:
    """The URL's route name (`app:name`), or None when the URL is not one of this site's pages."""
    parts = urlsplit(url)
    if parts.netloc not in ("", "testserver") or not parts.path.startswith("/"):
        return None
    if parts.path.startswith(SKIPPED_PREFIXES):
        return None
    try:
        match = resolve(parts.path)
    except Resolver404:
        return None
    return match.view_name


def _key(url: str) -> tuple[str, tuple[str, ...]]:
    parts = urlsplit(url)
    return route_of(url) or parts.path, tuple(sorted({k for k, _ in parse_qsl(parts.query)}))


def crawl(client: Client, *, start: str = "/", per_route: int = 2, limit: int = 600) -> list[Page]:
    """Every page reachable by links from `start`, at most `per_route` URLs per route and query shape."""
    seen: set[str] = set()
    per_key: dict[tuple[str, tuple[str, ...]], int] = {}
    queue = [start]
    pages: list[Page] = []
    while queue and len(pages) < limit:
        url = queue.pop(0)
        parts = urlsplit(url)
        local = parts.path + (f"?{parts.query}" if parts.query else "")
        if local in seen or route_of(local) is None:
            continue
        key = _key(local)
        if per_key.get(key, 0) >= per_route:
            continue
        seen.add(local)
        per_key[key] = per_key.get(key, 0) + 1
        response = client.get(local)
        content_type = response.get("Content-Type", "")
        page = Page(local, response.status_code, content_type)
        pages.append(page)
        if response.status_code != 200 or "text/html" not in content_type or getattr(response, "streaming", False):
            continue
        page.html = response.content.decode()
        parser = _PageParser(f"http://testserver{local}")
        parser.feed(page.html)
        page.text = " ".join(" ".join(parser.text).split())
        page.links = parser.links
        page.forms = parser.forms
        queue.extend(link for link in parser.links if link not in seen)
    return pages
