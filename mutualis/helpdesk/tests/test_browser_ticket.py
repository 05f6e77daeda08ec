"""The ticket page in a real browser (Debian's Chromium through Playwright): operator staff open a
ticket, answer it and solve it; the requester accepts and gives their opinion inline; axe-core
finds nothing serious at 1366 px and at 390 px, where the page also has no horizontal scroll.

Skipped, with the reason printed, on a machine without /usr/bin/chromium."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import Client

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip(f"{CHROMIUM} is absent: apt-get install -y chromium to run the browser tests", allow_module_level=True)

from axe_playwright_python.sync_playwright import Axe  # noqa: E402
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright  # noqa: E402

from mutualis.helpdesk import services  # noqa: E402
from mutualis.helpdesk.models import Ticket  # noqa: E402
from mutualis.helpdesk.tests.ui_helpers import make_ticket  # noqa: E402
from mutualis.testing.service_levels import default_service_levels  # noqa: E402

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
PHONE = {"width": 390, "height": 844}
SHOTS = Path(os.environ.get("MUTUALIS_SHOTS_DIR", "/tmp/shots"))
BLOCKING_IMPACTS = {"serious", "critical"}


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
            yield browser
            browser.close()


@pytest.fixture(autouse=True)
def fresh_cache() -> None:
    """The service-level configuration is cached by id: each test's flushed database has new ids."""
    cache.clear()


def signed_in(browser: Browser, base: str, user, viewport: dict[str, int] = LAPTOP) -> BrowserContext:
    """A browser context carrying `user`'s session (the login form is tested elsewhere)."""
    client = Client()
    client.force_login(user)
    context = browser.new_context(viewport=viewport, locale="fr-FR")
    context.set_default_timeout(10_000)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": base}])
    return context


def axe_blocking(page: Page) -> list[str]:
    violations = Axe().run(page).response["violations"]
    return [
        f"{page.url} ({page.viewport_size}): {v['id']} ({v['impact']}) {v['help']} -> "
        + "; ".join(" ".join(node["target"]) for node in v["nodes"][:5])
        for v in violations
        if v["impact"] in BLOCKING_IMPACTS
    ]


def overflow(page: Page) -> int:
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


WIDE = """[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > innerWidth + 1)
  .slice(0, 8).map(e => `${e.tagName}.${e.className}#${e.id} ${Math.round(e.getBoundingClientRect().right)}`)"""


def too_wide(page: Page) -> list[str]:
    """The elements reaching past the window's right edge, to say what scrolls sideways."""
    return page.evaluate(WIDE)


def busy(world) -> Ticket:
    default_service_levels()  # emptied by the flush after an earlier live-server test
    for user, first, last in ((world.staff, "Camille", "Durand"), (world.agent_a, "Léa", "Martin")):
        user.first_name, user.last_name = first, last
        user.save(update_fields=["first_name", "last_name"])
    ticket = make_ticket(world, title="Plus d'envoi de courriels depuis l'état civil", blocking=True)
    services.followup_add(actor=world.agent_a, ticket=ticket, body="Le logiciel affiche « erreur SMTP 451 ».")
    services.ticket_assign(actor=world.staff, ticket=ticket, group=None, technician=world.staff)
    services.followup_add(actor=world.staff, ticket=ticket, body="Relais saturé côté éditeur.", is_private=True)
    services.task_add(actor=world.staff, ticket=ticket, description="Analyse des journaux du relais",
                      duration_seconds=1200)  # fmt: skip
    return ticket


def test_staff_answer_and_solve_then_the_requester_answers_the_survey_inline(browser, live_server, world):
    ticket = busy(world)
    url = f"{live_server.url}/assistance/tickets/{ticket.reference}/"
    refused: list[str] = []  # the browser's Content-Security-Policy refusals (no inline script)
    staff = signed_in(browser, live_server.url, world.staff)
    page = staff.new_page()
    page.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)
    page.goto(url)
    expect(page.get_by_role("heading", level=1)).to_contain_text(ticket.reference)
    expect(page.locator(".hd-item.followup.private")).to_contain_text("privé — invisible pour la collectivité")
    meter = page.get_by_role("meter").last  # time to resolve, still running
    expect(meter).to_have_attribute("aria-valuetext", re.compile(r"ouvrées écoulées sur \d+ h — reste "))

    page.locator("#id_body").fill("Le relais est rétabli, pouvez-vous réessayer ?")
    page.get_by_role("button", name="Ajouter le suivi").click()
    expect(page.locator(".hd-timeline")).to_contain_text("Le relais est rétabli")

    page.get_by_text("Changer le statut / Résoudre").click()
    page.locator("#id_action").select_option(label="résoudre")
    page.locator("#id_comment").fill("Relais de l'éditeur rétabli.")
    page.get_by_role("button", name="Appliquer").click()
    expect(page.locator(".hd-badges")).to_contain_text("résolu")
    staff.close()

    member = signed_in(browser, live_server.url, world.agent_a)
    page = member.new_page()
    page.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)
    page.goto(url)
    expect(page.locator(".hd-timeline")).not_to_contain_text("Relais saturé")
    page.get_by_role("button", name="Accepter la solution").click()
    survey = page.locator("#satisfaction")
    survey.get_by_label("4 — satisfait").check()
    survey.get_by_label("Commentaire (facultatif)").fill("Rapide, merci.")
    survey.get_by_role("button", name="Envoyer mon avis").click()
    expect(page.locator(".hd-survey")).to_contain_text("Satisfaction : 4 sur 5")
    expect(page.get_by_role("button", name="Envoyer mon avis")).to_have_count(0)
    member.close()
    ticket.refresh_from_db()
    assert (ticket.status, ticket.satisfaction) == ("closed", 4)
    assert not refused, refused


@pytest.mark.parametrize("viewport", [LAPTOP, PHONE], ids=["1366px", "390px"])
def test_the_ticket_pages_are_accessible_and_fit_the_screen(browser, live_server, world, viewport):
    ticket = busy(world)
    url = f"{live_server.url}/assistance/tickets/{ticket.reference}/"
    problems: list[str] = []
    SHOTS.mkdir(parents=True, exist_ok=True)
    for who, user in (("staff", world.staff), ("member", world.agent_a)):
        context = signed_in(browser, live_server.url, user, viewport)
        page = context.new_page()
        page.goto(url)
        problems += axe_blocking(page)
        assert overflow(page) <= 0, f"{who} page scrolls sideways at {viewport['width']} px: {too_wide(page)}"
        page.screenshot(path=SHOTS / f"ticket-{who}-{viewport['width']}.png", full_page=True)
        page.screenshot(path=SHOTS / f"ticket-{who}-{viewport['width']}-top.png")
        if who == "staff":
            page.get_by_text("Requalifier", exact=True).first.click()
            problems += axe_blocking(page)
            assert overflow(page) <= 0, too_wide(page)
        context.close()
    assert not problems, "axe-core found serious or critical violations:\n" + "\n".join(problems)


def test_the_page_tells_staff_someone_else_acted_and_shows_it_without_losing_the_draft(browser, live_server, world):
    ticket = busy(world)
    context = signed_in(browser, live_server.url, world.staff)
    page = context.new_page()
    page.goto(f"{live_server.url}/assistance/tickets/{ticket.reference}/")
    page.locator("#id_body").fill("Brouillon en cours")

    services.followup_add(actor=world.agent_a, ticket=ticket, body="Ça remarche, merci !")
    notice = page.get_by_role("status").filter(has_text="Mis à jour par")
    expect(notice).to_contain_text("Mis à jour par Léa Martin", timeout=15_000)  # the next 10 s poll
    notice.get_by_role("link", name="afficher").click()

    expect(page.locator(".hd-timeline")).to_contain_text("Ça remarche, merci !")
    expect(page.locator("#id_body")).to_have_value("Brouillon en cours")
    expect(page.get_by_text("Mis à jour par")).to_have_count(0, timeout=15_000)  # the stamp moved with it
    context.close()
