"""A year is never printed with a thousands separator: « exercice 2022 », never « exercice 2 022 »,
on any page of the demo world or in any PDF (finance, contributions, quality reports, procurement,
governance)."""

from __future__ import annotations

import re

import pytest
from django.template import Context, Template
from django.urls import reverse
from django.utils import translation
from django.utils.html import strip_tags

from mutualis.accounts.models import User
from mutualis.demo.loader import load_demo
from mutualis.members.models import Organisation
from mutualis.quality.kpis import Month
from mutualis.quality.reports import monthly_report_create
from mutualis.testing.crawl import Page, crawl

pytestmark = pytest.mark.django_db

# A four-digit year split after its first digit (« 2 022 », with a space, a no-break space or the
# thin one). Not part of a longer grouped number (« 12 022 », « 1 202 200 ») nor an amount or a
# rate (« 2 022,50 € », « 2 022 € »): those are grouped on purpose.
SPLIT_YEAR = re.compile(
    r"(?<![\d.,])(?<!\d[ \u00a0\u202f])([12])[ \u00a0\u202f](\d{3})(?![\d.,])(?![ \u00a0\u202f]?(?:\d|€|%))"
)


def split_years(text: str) -> list[str]:
    return [
        text[max(0, m.start() - 25) : m.end() + 5]
        for m in SPLIT_YEAR.finditer(text)
        if 1900 <= int(m.group(1) + m.group(2)) <= 2100
    ]


def test_it_finds_a_split_year_and_leaves_amounts_alone():
    assert split_years("Budget principal — exercice 2\u00a0022")
    assert split_years("<title>Relevé 2 026 — Corbas</title>")
    assert not split_years(
        "exercice 2022 : 2\u202f022,00\u00a0€, 2\u00a0022 €, 12\u00a0022 agents, 1\u202f202\u202f200"
    )


def test_it_prints_a_bare_year_without_separator_in_any_template():
    with translation.override("fr"):
        rendered = Template(
            "{% load i18n %}{{ y }} {% blocktranslate %}exercice {{ y }}{% endblocktranslate %}"
        ).render(Context({"y": 2022}))

    assert rendered == "2022 exercice 2022"


@pytest.fixture
def demo_world(db, monkeypatch) -> tuple[list[str], list[str]]:
    """The demo world with a monthly quality report archived; every HTML handed to WeasyPrint is
    kept, so the PDFs' text is checked as it went in (the PDF holds it as subset glyphs)."""
    import weasyprint

    fed: list[str] = []
    real = weasyprint.HTML

    def recording(*args, **kwargs):
        fed.append(kwargs.get("string") or "")
        return real(*args, **kwargs)

    monkeypatch.setattr(weasyprint, "HTML", recording)
    load_demo()
    member = Organisation.objects.members().order_by("name").first()
    assert member is not None
    report = monthly_report_create(collectivity=member, month=Month(2026, 11))
    assert report is not None
    report_urls = [
        reverse(f"quality:{name}", args=[member.slug, report.month, report.version])
        for name in ("report_pdf", "report_html")
    ]
    return fed, [reverse("quality:reports", args=[member.slug]), *report_urls]


def test_it_never_splits_a_year_on_a_page_or_in_a_pdf(client, demo_world):
    client.force_login(User.objects.get(username="admin"))

    fed, report_urls = demo_world
    pages = crawl(client, per_route=3, limit=800)
    for url in report_urls:  # the archive is linked from a member's page; fetched here for sure
        response = client.get(url)
        assert response.status_code == 200, url
        if "html" in response["Content-Type"]:
            pages.append(
                Page(
                    url,
                    200,
                    response["Content-Type"],
                    html=response.content.decode(),
                    text=strip_tags(response.content.decode()),
                )
            )

    found = {page.url: split_years(page.text) for page in pages if page.text}
    found |= {f"{page.url} (attributes)": split_years(" ".join(re.findall(r'"([^"]*)"', page.html))) for page in pages}
    found |= {f"PDF #{index}": split_years(strip_tags(html)) for index, html in enumerate(fed)}
    assert {url: hits for url, hits in found.items() if hits} == {}
    # The walk did reach the pages and PDFs where years are printed.
    visited = {page.url.split("?")[0] for page in pages if page.status == 200}
    for prefix in ("/finances/budgets/", "/finances/contributions/", "/qualite/", "/marches/", "/gouvernance/"):
        assert any(url.startswith(prefix) for url in visited), prefix
    assert any(url.endswith("releve.pdf") for url in visited)
    # WeasyPrint made the quality report (archived, then served) and the contribution statements.
    assert any("<html" in html and "rapport" in html.lower() for html in fed)
    assert any("Relevé de contribution" in html for html in fed)
