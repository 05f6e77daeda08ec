"""A real browser on the demo data: the banner of the major incident for an affected member's
account, dismissed with htmx, and the notice pages checked by axe-core at 1366 px and 390 px.

Skipped, with the reason printed, on a machine without /usr/bin/chromium (the fixtures are the
demo's, mutualis/demo/tests/test_browser.py)."""

from __future__ import annotations

import pytest

from mutualis.demo.tests.test_browser import axe_blocking, browser, log_in, page  # noqa: F401 (fixtures)
from mutualis.notices import selectors
from mutualis.notices.enums import State
from mutualis.notices.models import Notice

try:
    from playwright.sync_api import expect
except ImportError:  # pragma: no cover - the demo module skipped first
    pytest.skip("playwright is absent", allow_module_level=True)

PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1366, "height": 768}


def overflow(window) -> int:  # type: ignore[no-untyped-def]
    """How far the page is wider than the window (0: no sideways scrolling)."""
    return window.evaluate("document.documentElement.scrollWidth - window.innerWidth")


@pytest.mark.parametrize("viewport", [LAPTOP, PHONE], ids=["1366", "390"])
def test_it_shows_an_affected_member_the_banner_and_lets_it_dismiss_it(page, live_server, viewport):  # noqa: F811
    incident = Notice.objects.get(state=State.IN_PROGRESS)
    member = selectors.affected_members(notice=incident).first()
    page.set_viewport_size(viewport)
    log_in(page, live_server.url, f"dsi-{member.slug}")

    banner = page.get_by_role("region", name="Avis en cours et à venir")
    expect(banner).to_contain_text("Incident majeur — en cours")
    expect(banner.get_by_role("link", name=incident.title)).to_be_visible()
    link = banner.get_by_role("link", name=incident.title)
    assert link.evaluate("e => getComputedStyle(e).color") == "rgb(0, 0, 145)"  # dark on the light banner
    problems = axe_blocking(page)
    assert overflow(page) <= 0

    banner.get_by_role("link", name=incident.title).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(incident.title)
    expect(page.get_by_role("main")).to_contain_text("est concernée par")
    problems += axe_blocking(page)
    assert overflow(page) <= 0

    page.goto(f"{live_server.url}/avis/")
    problems += axe_blocking(page)
    line = page.locator(f"#avis-bandeau-{incident.pk}")
    with page.expect_response(lambda r: "/masquer/" in r.url):
        line.get_by_role("button", name="Masquer").click()
    expect(line).to_have_count(0)
    page.reload()
    expect(page.locator(f"#avis-bandeau-{incident.pk}")).to_have_count(0)
    assert not problems, "axe-core found serious or critical violations:\n" + "\n".join(problems)


@pytest.mark.parametrize("viewport", [LAPTOP, PHONE], ids=["1366", "390"])
def test_it_gives_staff_accessible_notice_pages(page, live_server, viewport):  # noqa: F811
    incident = Notice.objects.get(state=State.IN_PROGRESS)
    page.set_viewport_size(viewport)
    log_in(page, live_server.url, "support")
    problems = []
    for path in (
        "/avis/",
        f"/avis/{incident.pk}/",
        f"/avis/{incident.pk}/terminer/",
        "/avis/nouveau/",
        "/avis/agenda/",
    ):
        page.goto(f"{live_server.url}{path}")
        problems += axe_blocking(page)
    page.goto(f"{live_server.url}/avis/{incident.pk}/")
    expect(page.get_by_role("heading", name="Tickets liés")).to_be_visible()
    expect(page.get_by_role("heading", name="Adhérents concernés")).to_be_visible()
    assert not problems, "axe-core found serious or critical violations:\n" + "\n".join(problems)
