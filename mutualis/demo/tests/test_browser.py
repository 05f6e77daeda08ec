"""A real browser (Debian's Chromium through Playwright) on the demo data: log in, use the
deployment matrix (htmx filter, CSV export) and run axe-core on the main pages.

Skipped, with the reason printed, on a machine without /usr/bin/chromium.
"""

from __future__ import annotations

import csv
import io
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.management import call_command

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip(f"{CHROMIUM} is absent: apt-get install -y chromium to run the browser tests", allow_module_level=True)

from axe_playwright_python.sync_playwright import Axe  # noqa: E402
from playwright.sync_api import Browser, Page, expect, sync_playwright  # noqa: E402

from mutualis.demo.loader import DEMO_PASSWORD, load_demo  # noqa: E402

# Keeps Chromium from reaching outside hosts, which are closed on these machines (see tools/browser).
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LAPTOP = {"width": 1366, "height": 768}
MEMBERS = ["Corbas", "Givors", "Grigny", "Pierre-Bénite", "Rive de Gier", "St-Chamond", "Vaulx", "Vénissieux"]
KNOWN_APPLICATION = "GRC portail usager - Publik"
SHOTS = Path(os.environ.get("MUTUALIS_SHOTS_DIR", "/tmp/shots"))
BLOCKING_IMPACTS = {"serious", "critical"}


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    # Playwright's sync API keeps an asyncio loop set on this thread while it runs, which Django
    # takes for async code; the ORM calls made here (demo loading, flushes) are synchronous.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
            yield browser
            browser.close()


@pytest.fixture
def page(browser: Browser, live_server, transactional_db) -> Iterator[Page]:
    load_demo()
    context = browser.new_context(viewport=LAPTOP, locale="fr-FR", accept_downloads=True)
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


def log_in(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/comptes/connexion/")
    page.get_by_label("Identifiant").fill(username)
    page.get_by_label("Mot de passe").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Bonjour")


def matrix_columns(page: Page) -> list[str]:
    headers = page.locator("table.matrix thead th").all_inner_texts()
    return [h.strip() for h in headers[1:-1]]  # between "Application" and "Total"


def axe_blocking(page: Page) -> list[str]:
    violations = Axe().run(page).response["violations"]
    return [
        f"{page.url}: {v['id']} ({v['impact']}) {v['help']} -> "
        + "; ".join(" ".join(node["target"]) for node in v["nodes"][:5])
        for v in violations
        if v["impact"] in BLOCKING_IMPACTS
    ]


def test_it_filters_and_exports_the_matrix(page, live_server):
    log_in(page, live_server.url, "admin")
    page.goto(f"{live_server.url}/catalogue/matrice/")

    assert matrix_columns(page) == MEMBERS
    row = page.locator("table.matrix tbody tr", has=page.get_by_role("rowheader", name=KNOWN_APPLICATION))
    expect(row).to_have_count(1)
    expect(row.locator("td.y")).to_have_count(4)

    with page.expect_download() as info:
        page.get_by_role("link", name="Exporter en CSV").click()
    downloaded = Path(info.value.path()).read_text(encoding="utf-8-sig")
    out = io.StringIO()
    call_command("catalog_matrix", stdout=out)
    printed = out.getvalue().removeprefix("\ufeff")
    assert list(csv.reader(io.StringIO(downloaded), delimiter=";")) == list(
        csv.reader(io.StringIO(printed), delimiter=";")
    )

    all_rows = page.locator("table.matrix tbody th[scope=row]").count()
    summary = page.get_by_role("status")
    expect(summary).to_contain_text(f"{all_rows} applications × 8 adhérents")
    with page.expect_response(lambda r: "/catalogue/matrice/" in r.url and r.request.headers.get("hx-request")):
        page.get_by_label("Domaine", exact=True).select_option(label="Portail Usagers")
    groups = page.locator("table.matrix th.group")
    expect(groups).to_have_text(["Portail Usagers"])
    expect(page.get_by_role("rowheader", name=KNOWN_APPLICATION)).to_be_visible()
    filtered_rows = page.locator("table.matrix tbody th[scope=row]").count()
    assert 0 < filtered_rows < all_rows
    expect(summary).to_contain_text(f"{filtered_rows} applications × 8 adhérents")  # the live region, updated
    assert "domaine=" in page.url  # hx-push-url keeps the filter in the address
    export = page.get_by_role("link", name="Exporter en CSV")
    expect(export).to_have_attribute("href", re.compile(r"domaine=portail-usagers"))

    SHOTS.mkdir(parents=True, exist_ok=True)
    page.goto(f"{live_server.url}/catalogue/matrice/")
    page.screenshot(path=SHOTS / "matrix.png")
    page.goto(f"{live_server.url}/adherents/")
    page.screenshot(path=SHOTS / "members.png")


def test_it_shows_a_member_manager_only_its_own_column(page, live_server):
    log_in(page, live_server.url, "dsi-venissieux")
    page.goto(f"{live_server.url}/catalogue/matrice/")

    assert matrix_columns(page) == ["Vénissieux"]
    expect(page.get_by_role("rowheader", name=KNOWN_APPLICATION)).to_be_visible()


def test_it_has_no_serious_accessibility_violation(page, live_server):
    base = live_server.url
    page.goto(f"{base}/comptes/connexion/")
    problems = axe_blocking(page)

    log_in(page, base, "admin")
    paths = ["/", "/adherents/", "/catalogue/", "/catalogue/matrice/", "/gouvernance/", "/journal/", "/comptes/profil/"]
    for path in paths:
        page.goto(f"{base}{path}")
        problems += axe_blocking(page)
    page.goto(f"{base}/adherents/")
    page.get_by_role("link", name="Vénissieux", exact=True).click()
    problems += axe_blocking(page)
    page.goto(f"{base}/catalogue/")
    page.get_by_role("link", name=KNOWN_APPLICATION).click()
    problems += axe_blocking(page)

    assert not problems, "axe-core found serious or critical violations:\n" + "\n".join(problems)


def test_it_runs_every_page_under_the_content_security_policy(page, live_server):
    """The policy forbids inline script: a page that still relied on one would break silently,
    so the browser's own refusals are collected on the main pages (htmx included) and the API docs."""
    refused: list[str] = []
    page.on(
        "console",
        lambda message: (
            refused.append(f"{page.url}: {message.text}") if "Content Security Policy" in message.text else None
        ),
    )
    base = live_server.url
    log_in(page, base, "admin")
    for path in ["/", "/adherents/", "/catalogue/matrice/", "/assistance/", "/assistance/nouvelle/", "/journal/"]:
        response = page.goto(f"{base}{path}")
        assert response is not None and "script-src 'self'" in response.headers["content-security-policy"]
    page.goto(f"{base}/api/v1/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Mutualis API")

    assert not refused, "\n".join(refused)
