"""Each role's day in a real browser (issue 14, « done when »), on the demo data: the technician
walks home → queue → ticket → answer → solve, the member IT director home → « Mes demandes » →
ticket → reply, the elected official home → monthly report; axe-core finds nothing serious on any
page at 1366 px nor at 390 px, and no page scrolls sideways on the phone.

The walks hold to what is stable while the ticket page is redesigned: URLs, form actions, field
names and the labels of the queue and the homes. Screenshots of the queue and the homes at both
widths go to MUTUALIS_SHOTS_DIR (default /tmp/shots). Skipped, with the reason printed, on a
machine without /usr/bin/chromium (the fixtures are test_browser's)."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from mutualis.accounts.models import User
from mutualis.catalog.models import Subscription
from mutualis.demo.tests import test_browser as shared
from mutualis.demo.tests.test_browser import LAPTOP, SHOTS, axe_blocking, log_in
from mutualis.helpdesk import services
from mutualis.helpdesk.enums import Action, Status
from mutualis.helpdesk.models import Ticket
from mutualis.members.models import Organisation
from mutualis.quality.reports import monthly_report_create
from mutualis.quality.selectors import last_complete_month
from mutualis.testing.service_levels import default_service_levels  # noqa: E402

# test_browser's fixtures (Chromium once per module, a page on the loaded demo), and its skip
# when Chromium is absent, which importing it applies here too.
browser = shared.browser
page = shared.page
PHONE = {"width": 390, "height": 844}
# The elements reaching past the window's right edge, to name them when a page scrolls sideways.
WIDEST = """[...document.querySelectorAll('body *')]
  .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
  .slice(-4).map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))"""
MEMBER = "venissieux"


def _tickets() -> dict[str, Ticket]:
    """Three requests of Vénissieux filed by its IT director: one assigned to the support agent,
    one waiting for the director's answer, one nobody has taken yet."""
    default_service_levels()  # emptied by the flush after an earlier live-server test
    org = Organisation.objects.get(slug=MEMBER)
    dsi, support = User.objects.get(username=f"dsi-{MEMBER}"), User.objects.get(username="support")
    application = Subscription.objects.filter(collectivity=org).select_related("application").first().application

    def create(title: str, **extra: object) -> Ticket:
        return services.ticket_create(
            actor=dsi, collectivity=org, requester=None, ticket_type="incident", title=title,
            description="Constaté ce matin par le service état civil.", application=application, **extra,
        )  # fmt: skip

    assigned = create("Impression des actes impossible", urgency=4, impact=4)
    services.ticket_assign(actor=support, ticket=assigned, group=None, technician=support)
    waiting = create("Accès refusé au logiciel")
    services.ticket_transition(
        actor=support, ticket=waiting, action=Action.WAIT, pending_reason="requester",
        comment="Quel identifiant l'agent utilise-t-il ?",
    )  # fmt: skip
    create("Lenteurs à l'ouverture")
    return {"assigned": assigned, "waiting": waiting}


def check(page: Page, problems: list[str], shot: str | None = None) -> None:
    """axe-core at 1366 px and at 390 px, no sideways scroll on the phone, and the screenshots."""
    for name, size in (("laptop", LAPTOP), ("phone", PHONE)):
        page.set_viewport_size(size)
        problems += axe_blocking(page)
        if name == "phone":
            width = page.evaluate("document.documentElement.scrollWidth")
            if width > size["width"]:
                wide = page.evaluate(WIDEST)
                problems.append(f"{page.url}: {width} px wide at {size['width']} px (sideways scroll): {wide}")
        if shot:
            SHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=SHOTS / f"{shot}-{name}.png", full_page=True)
    page.set_viewport_size(LAPTOP)


def opened(page: Page, form_selector: str) -> None:
    """A form the ticket page may keep in a closed disclosure: opened the way a person would."""
    form = page.locator(form_selector).first
    if not form.is_visible():
        form.locator("xpath=ancestor::details[1]/summary").click()
    expect(form).to_be_visible()


def test_it_walks_the_technicians_day(page: Page, live_server) -> None:
    tickets = _tickets()
    base, problems = live_server.url, []
    log_in(page, base, "support")
    expect(page.get_by_role("heading", name="Ma file")).to_be_visible()
    expect(page.get_by_role("heading", name="Bientôt en dépassement")).to_be_visible()
    check(page, problems, "home-technician")

    page.get_by_role("link", name="Ouvrir ma file").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("File des tickets")
    views = page.get_by_role("navigation", name="Vues de la file")
    expect(views.get_by_role("link", name=re.compile(r"^Mes tickets 1"))).to_have_attribute("aria-current", "page")
    row = page.locator("tbody tr", has=page.get_by_role("link", name=tickets["assigned"].reference))
    expect(row).to_contain_text("P4 haute")
    expect(row.locator("td.sla .left")).to_have_text(re.compile(r"^(reste|dépassé de) \d+ (min|h|j)$|échéance"))
    check(page, problems)

    # The bulk bar shows once a row is ticked, with the count; the keyboard ticks and opens rows.
    page.goto(f"{base}/assistance/?view=open")
    bar = page.locator("#hd-bulk")
    expect(bar).to_be_hidden()
    page.keyboard.press("j")
    page.keyboard.press("x")
    expect(bar).to_be_visible()
    expect(bar).to_contain_text("1 ticket coché")
    check(page, problems, "queue")
    page.keyboard.press("x")
    expect(bar).to_be_hidden()
    # Typing in a field is typing: j and x there move and tick nothing.
    page.get_by_text("Filtres", exact=True).click()
    search = page.get_by_label("Recherche")
    search.fill("")
    search.press_sequentially("jx")
    expect(search).to_have_value("jx")
    expect(bar).to_be_hidden()
    expect(page.locator("tbody tr.hd-current")).to_have_count(1)  # still the row j reached before
    page.keyboard.press("?")
    expect(search).to_have_value("jx?")
    page.goto(f"{base}/assistance/?view=mine")
    page.keyboard.press("j")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"/assistance/tickets/{tickets['assigned'].reference}/$"))
    check(page, problems)

    reply = "form[action$='/suivi/']"
    opened(page, reply)
    page.locator(f"{reply} textarea[name=body]").fill("Le pilote d'impression est réinstallé, pouvez-vous réessayer ?")
    page.locator(reply).get_by_role("button", name="Ajouter le suivi").click()
    expect(page.get_by_text("Le pilote d'impression est réinstallé").first).to_be_visible()

    status = "form[action$='/statut/']"
    opened(page, status)
    page.locator(f"{status} select[name=action]").select_option("solve")
    page.locator(f"{status} textarea[name=comment]").fill("Pilote réinstallé sur le poste de l'état civil.")
    page.locator(status).locator("button[type=submit]").click()
    expect(page.locator("main")).to_contain_text("Pilote réinstallé sur le poste de l'état civil.")
    check(page, problems)
    assert Ticket.objects.get(pk=tickets["assigned"].pk).status == Status.SOLVED

    assert not problems, "\n".join(problems)


def test_it_walks_the_member_it_directors_day(page: Page, live_server) -> None:
    tickets = _tickets()
    base, problems = live_server.url, []
    log_in(page, base, f"dsi-{MEMBER}")
    expect(page.get_by_role("heading", name="Demandes ouvertes de ma collectivité")).to_be_visible()
    waiting = page.locator("section", has=page.get_by_role("heading", name="En attente de votre réponse"))
    expect(waiting).to_contain_text(tickets["waiting"].reference)
    expect(page.get_by_role("heading", name=re.compile("^Niveau de service en "))).to_be_visible()
    expect(page.get_by_role("heading", name="Ma file")).to_have_count(0)
    check(page, problems, "home-member")

    page.get_by_role("link", name="Voir toutes les demandes").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Demandes de ma collectivité")
    expect(page.get_by_role("link", name="1 demande attend votre réponse")).to_be_visible()
    row = page.locator("tbody tr", has=page.get_by_role("link", name=tickets["waiting"].reference))
    expect(row).to_contain_text("en attente de votre réponse")
    check(page, problems, "member-list")

    row.get_by_role("link", name=tickets["waiting"].reference).click()
    expect(page).to_have_url(re.compile(rf"/assistance/tickets/{tickets['waiting'].reference}/$"))
    check(page, problems)
    reply = "form[action$='/suivi/']"
    opened(page, reply)
    page.locator(f"{reply} textarea[name=body]").fill("L'agent utilise son identifiant habituel, jdupont.")
    page.locator(reply).locator("button[type=submit]").first.click()
    expect(page.get_by_text("L'agent utilise son identifiant habituel").first).to_be_visible()
    check(page, problems)
    assert tickets["waiting"].followups.filter(body__contains="jdupont").exists()

    assert not problems, "\n".join(problems)


def test_it_walks_the_elected_officials_day(page: Page, live_server) -> None:
    _tickets()
    org = Organisation.objects.get(slug=MEMBER)
    month = last_complete_month()
    monthly_report_create(collectivity=org, month=month)
    base, problems = live_server.url, []
    log_in(page, base, f"elu-{MEMBER}")
    panel = page.locator("section", has=page.get_by_role("heading", name="Rapport de service mensuel"))
    expect(panel).to_be_visible()
    expect(page.get_by_role("heading", name="Ma file")).to_have_count(0)
    check(page, problems, "home-elected")

    panel.get_by_role("link", name=re.compile("^Lire le rapport de ")).click()
    expect(page).to_have_url(re.compile(rf"/qualite/adherents/{MEMBER}/rapports/{month}/v1\.html$"))
    # The archived report is a document of its own (quality's, also printed to PDF): on a phone its
    # wide tables scroll inside their box, the page does not.
    check(page, problems, "report")

    assert not problems, "\n".join(problems)


def test_it_shows_the_operator_admin_the_indicators_of_the_month(page: Page, live_server) -> None:
    _tickets()
    base, problems = live_server.url, []
    log_in(page, base, "admin")
    panel = page.locator("section", has=page.get_by_role("heading", name=re.compile("^Indicateurs de ")))
    expect(panel).to_contain_text("Demandes ouvertes")
    expect(page.get_by_role("heading", name="Ma file")).to_have_count(0)
    check(page, problems, "home-admin")
    panel.get_by_role("link", name="Tableau de bord de la qualité de service").click()
    expect(page).to_have_url(re.compile(r"/qualite/$"))

    assert not problems, "\n".join(problems)
