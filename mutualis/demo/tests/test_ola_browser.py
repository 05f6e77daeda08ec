"""The vendor clocks in Chromium on the demo data, at 1366 px and 390 px: the contract page's
commitments and their form, a staff ticket page with a vendor clock, the quality report; axe-core
finds no serious or critical violation and nothing scrolls sideways."""

from __future__ import annotations

import datetime as dt

import pytest

from mutualis.accounts.models import User
from mutualis.catalog.models import Subscription
from mutualis.demo.tests.test_browser import axe_blocking, browser, log_in, page  # noqa: F401 (fixtures)
from mutualis.helpdesk import services
from mutualis.helpdesk.enums import Action, PendingReason
from mutualis.quality.kpis import TZ

try:
    from playwright.sync_api import expect
except ImportError:  # pragma: no cover - the demo module skipped first
    pytest.skip("playwright is absent", allow_module_level=True)

PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1366, "height": 768}
CONTRACT = "2022M01"


def overflow(window) -> int:  # type: ignore[no-untyped-def]
    return window.evaluate("document.documentElement.scrollWidth - window.innerWidth")


def vendor_ticket() -> str:
    """A ticket on the contract's application: a wait for the vendor ended, another running."""
    subscription = Subscription.objects.filter(application__contracts__code=CONTRACT).select_related(
        "collectivity", "application"
    )[0]
    admin = User.objects.get(username="admin")

    def at(day: int, hour: int) -> dt.datetime:
        return dt.datetime(2026, 11, day, hour, tzinfo=TZ)

    ticket = services.ticket_create(
        actor=admin,
        collectivity=subscription.collectivity,
        requester=None,
        ticket_type="incident",
        title="Courrier bloqué",
        description="…",
        application=subscription.application,
        now=at(2, 9),
    )
    services.ticket_assign(actor=admin, ticket=ticket, group=None, technician=admin, now=at(2, 9))
    wait = {"action": Action.WAIT, "pending_reason": PendingReason.VENDOR}
    services.ticket_transition(actor=admin, ticket=ticket, now=at(2, 10), **wait)
    services.ticket_transition(actor=admin, ticket=ticket, action=Action.RESUME, now=at(4, 10))
    services.ticket_transition(actor=admin, ticket=ticket, now=at(5, 10), **wait)
    return ticket.reference


@pytest.mark.parametrize("viewport", [LAPTOP, PHONE], ids=["1366", "390"])
def test_staff_pages_of_the_vendor_clocks_are_accessible(page, live_server, viewport):  # noqa: F811
    reference = vendor_ticket()
    page.set_viewport_size(viewport)
    log_in(page, live_server.url, "admin")
    problems: list[str] = []
    wide: list[str] = []

    page.goto(f"{live_server.url}/marches/{CONTRACT}/")
    expect(page.get_by_role("heading", name="Engagements de maintenance (délais de l'éditeur)")).to_be_visible()
    problems += axe_blocking(page)
    page.get_by_role("link", name="Ajouter un engagement").click()
    expect(page.get_by_role("spinbutton", name="Délai de correction")).to_be_visible()
    expect(page.get_by_label("unité du délai de correction")).to_be_visible()
    problems += axe_blocking(page)

    page.goto(f"{live_server.url}/assistance/tickets/{reference}/")
    clock = page.locator("section[aria-labelledby=ola-horloge]")
    expect(clock.locator(".badge")).to_have_count(2)
    expect(clock).to_contain_text("en cours")
    problems += axe_blocking(page)

    for path in ("/qualite/editeurs/?month=2026-11", "/qualite/?month=2026-11"):
        page.goto(f"{live_server.url}{path}")
        problems += axe_blocking(page)
        if overflow(page) > 0 and path.startswith("/qualite/editeurs"):
            wide.append(path)
    expect(page.get_by_role("link", name="Délais des éditeurs")).to_be_visible()
    page.get_by_role("link", name="Délais des éditeurs").click()
    monthly = page.get_by_role("table", name="Respect des délais de correction par éditeur, marché et mois")
    expect(monthly).to_contain_text(CONTRACT)
    expect(monthly).to_contain_text("100,0 %")  # 16 business hours of 3 days
    expect(page.get_by_role("table", name="Sur la période")).to_contain_text(CONTRACT)
    assert not problems, "axe-core found serious or critical violations:\n" + "\n".join(problems)
    assert not wide, f"pages wider than the window: {wide}"
