"""The personal-data pages in a real browser (Debian's Chromium through Playwright): an operator
admin finds a person, exports, confirms an erasure; axe-core finds no serious violation, on a
laptop and a phone. Skipped, with the reason printed, without /usr/bin/chromium."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip(f"{CHROMIUM} is absent: apt-get install -y chromium to run the browser tests", allow_module_level=True)

from axe_playwright_python.sync_playwright import Axe  # noqa: E402
from playwright.sync_api import Browser, Page, expect, sync_playwright  # noqa: E402

from mutualis.identity.models import Agent, AgentStatus  # noqa: E402
from mutualis.privacy.models import DEFAULT_MONTHS, PrivacyRequest, RequestKind, RetentionRule  # noqa: E402
from mutualis.privacy.tests.helpers import at, closed_ticket  # noqa: E402
from mutualis.testing.factories import PASSWORD  # noqa: E402

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking"]
SHOTS = Path(os.environ.get("MUTUALIS_SHOTS_DIR", "/tmp/shots"))
VIEWPORTS = {"laptop": {"width": 1366, "height": 768}, "phone": {"width": 390, "height": 844}}


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
            yield browser
            browser.close()


def _page(browser: Browser, viewport: str) -> Page:
    context = browser.new_context(viewport=VIEWPORTS[viewport], locale="fr-FR", accept_downloads=True)
    context.set_default_timeout(10_000)
    return context.new_page()


def _log_in(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/comptes/connexion/")
    page.get_by_label("Identifiant").fill(username)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()


def _serious(page: Page) -> list[str]:
    violations = Axe().run(page).response["violations"]
    return [
        f"{page.url}: {v['id']} ({v['impact']}) {v['help']}"
        for v in violations
        if v["impact"] in {"serious", "critical"}
    ]


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_it_walks_an_admin_through_export_and_erasure(browser, live_server, transactional_db, world, viewport):
    agent = Agent.objects.create(
        collectivity=world.member_a,
        hr_id="42",
        last_name="Dupont",
        first_name="Jean",
        status=AgentStatus.INACTIVE,
        end_on=dt.date(2026, 1, 31),
    )
    world.agent_a.agent, world.agent_a.first_name, world.agent_a.last_name = agent, "Jean", "Dupont"
    world.agent_a.save()
    closed_ticket(world, opened=at(2025, 3, 4))
    for kind, months in DEFAULT_MONTHS.items():  # a transactional test's flush removed the migration's rows
        RetentionRule.objects.get_or_create(kind=kind, defaults={"months": months})
    page = _page(browser, viewport)
    base = live_server.url
    problems: list[str] = []
    SHOTS.mkdir(parents=True, exist_ok=True)

    _log_in(page, base, "admin")
    page.get_by_role("link", name="Données personnelles").first.click() if viewport == "laptop" else page.goto(
        f"{base}/donnees-personnelles/"
    )
    expect(page.get_by_role("heading", level=1)).to_have_text("Données personnelles")
    page.get_by_label("Nom, identifiant, courriel ou matricule").fill("dupont")
    page.get_by_role("button", name="Chercher").click()
    problems += _serious(page)
    page.screenshot(path=SHOTS / f"privacy-index-{viewport}.png", full_page=True)

    page.get_by_role("link", name="DUPONT Jean").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Données de Jean Dupont")
    problems += _serious(page)
    page.screenshot(path=SHOTS / f"privacy-subject-{viewport}.png", full_page=True)
    with page.expect_download() as info:
        page.get_by_role("button", name="Télécharger (JSON)").click()
    assert '"username": "agent-a"' in Path(info.value.path()).read_text(encoding="utf-8")

    page.get_by_role("link", name="Préparer l'effacement").click()
    problems += _serious(page)
    page.screenshot(path=SHOTS / f"privacy-erase-{viewport}.png", full_page=True)
    page.get_by_role("button", name="Effacer définitivement").click()  # the browser asks for the box first
    expect(page.get_by_role("heading", level=1)).to_contain_text("Effacer les données de Jean Dupont")
    page.get_by_label("Je confirme l'effacement", exact=False).check()
    page.get_by_role("button", name="Effacer définitivement").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Registre des demandes sur les données personnelles")
    expect(page.get_by_role("status")).to_contain_text("Données effacées")
    problems += _serious(page)
    page.screenshot(path=SHOTS / f"privacy-register-{viewport}.png", full_page=True)
    assert [r.kind for r in PrivacyRequest.objects.order_by("pk")] == [RequestKind.EXPORT, RequestKind.ERASURE]

    page.goto(f"{base}/donnees-personnelles/")
    expect(page.get_by_role("heading", name="Durées de conservation")).to_be_visible()
    page.get_by_label("Durée de conservation (mois)").first.fill("48")
    page.get_by_role(
        "button", name="Enregistrer la règle « demandes closes (avec leurs suivis et pièces jointes) »"
    ).click()
    expect(page.get_by_role("status")).to_contain_text("enregistrée")
    problems += _serious(page)
    page.screenshot(path=SHOTS / f"privacy-rules-{viewport}.png", full_page=True)
    page.context.close()
    assert problems == []
