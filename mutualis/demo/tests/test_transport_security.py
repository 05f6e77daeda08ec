"""No inline script, event attribute or `javascript:` URL left in any page of the demo world, which the
Content-Security-Policy (`core/middleware.py`) would block."""

from __future__ import annotations

import re

from mutualis.accounts.models import User
from mutualis.demo.loader import load_demo
from mutualis.testing.crawl import crawl

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.IGNORECASE)
EVENT_ATTRIBUTE = re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.IGNORECASE)


def test_it_leaves_no_inline_script_in_any_page(client, db):
    load_demo()
    client.force_login(User.objects.get(username="admin"))

    pages = [page for page in crawl(client, per_route=1, limit=250) if page.html]

    assert len(pages) > 40
    for page in pages:
        assert not INLINE_SCRIPT.search(page.html), page.url
        assert not EVENT_ATTRIBUTE.search(page.html), (page.url, EVENT_ATTRIBUTE.search(page.html).group(0))
        assert "javascript:" not in page.html.lower(), page.url
