"""In Chromium on the demo data: a member's IT director types a request, an article is suggested
in the live region, « ma question est résolue » records the deflected request and confirms; axe
finds nothing serious on the request form with its suggestions, nor on the knowledge pages, at
1366 px and at 390 px. Skipped with its reason when Chromium is absent (test_browser's guard)."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from mutualis.demo.tests import test_browser as shared
from mutualis.demo.tests.test_browser import LAPTOP, SHOTS, axe_blocking, log_in
from mutualis.demo.tests.test_role_days import WIDEST
from mutualis.knowledge.models import Article, DeflectedTicket

browser = shared.browser
page = shared.page
PHONE = {"width": 390, "height": 844}
ARTICLE = "Ajouter une imprimante réseau sur son poste"


def check(page: Page, problems: list[str], shot: str) -> None:
    """axe-core at 1366 px and at 390 px; no sideways scroll on the phone."""
    for name, size in (("laptop", LAPTOP), ("phone", PHONE)):
        page.set_viewport_size(size)
        problems += axe_blocking(page)
        if name == "phone" and page.evaluate("document.documentElement.scrollWidth") > size["width"]:
            wide = page.evaluate(WIDEST)
            problems.append(f"{page.url}: wider than {size['width']} px (sideways scroll): {wide}")
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=SHOTS / f"{shot}-{name}.png", full_page=True)
    page.set_viewport_size(LAPTOP)


def test_it_suggests_an_article_that_avoids_a_request(page: Page, live_server) -> None:
    base = live_server.url
    problems: list[str] = []
    log_in(page, base, "dsi-venissieux")
    page.goto(f"{base}/assistance/formulaires/incident-application/")

    field = page.get_by_label("Ce qui se passe")
    field.focus()
    page.keyboard.type("Mon imprimantes ne répond plus", delay=20)
    live = page.locator(".kb-suggest [aria-live=polite]")
    expect(live.get_by_role("link", name=ARTICLE)).to_be_visible()
    expect(live.get_by_role("link")).to_have_count(1)
    # The request form with the suggestions under its field fits the phone too.
    check(page, problems, "kb-suggestions")

    # Keyboard only: Tab from the link reaches its « ma question est résolue » button.
    live.get_by_role("link", name=ARTICLE).focus()
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent")
    assert "Ma question est résolue" in focused
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", level=1)).to_have_text("Votre question est résolue")
    expect(page.locator("main p[role=status]")).to_contain_text(ARTICLE)
    deflected = DeflectedTicket.objects.get()
    assert deflected.article.title == ARTICLE
    assert "imprimantes ne répond plus" in deflected.typed
    assert deflected.organisation.slug == "venissieux"
    check(page, problems, "kb-resolved")

    page.goto(f"{base}/connaissances/?q=imprimantes")
    expect(page.locator(".kb-results mark").first).to_have_text("imprimante")
    check(page, problems, "kb-search")
    page.get_by_role("link", name=ARTICLE).click()
    page.get_by_role("button", name="Oui").click()
    expect(page.get_by_role("button", name="Oui")).to_have_attribute("aria-pressed", "true")
    check(page, problems, "kb-article")
    assert not problems, "\n".join(problems)


def test_it_lets_staff_write_an_article_and_read_its_versions(page: Page, live_server) -> None:
    base = live_server.url
    problems: list[str] = []
    log_in(page, base, "support")
    article = Article.objects.get(title=ARTICLE)
    page.goto(f"{base}/connaissances/{article.slug}/modifier/")
    check(page, problems, "kb-edit")
    page.get_by_label("Texte").fill(article.body + "\n\nLes copieurs couleur sont au rez-de-chaussée.")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_text("Article enregistré.")).to_be_visible()
    page.get_by_role("link", name="Versions").click()
    page.get_by_role("link", name="version 2").click()
    expect(page.locator(".kb-diff ins").last).to_contain_text("Les copieurs couleur sont au rez-de-chaussée.")
    check(page, problems, "kb-version")
    page.goto(f"{base}/qualite/connaissances/")
    check(page, problems, "kb-quality")
    assert not problems, "\n".join(problems)
