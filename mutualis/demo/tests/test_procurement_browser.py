"""The register pages in a real browser on the demo data: axe-core finds no serious violation.
Skipped like the other browser tests when Chromium is absent."""

from mutualis.demo.tests.test_browser import axe_blocking, browser, log_in, page  # noqa: F401


def test_the_register_pages_have_no_serious_accessibility_violation(page, live_server):  # noqa: F811
    base = live_server.url
    log_in(page, base, "admin")
    problems = []
    for path in [
        "/marches/",
        "/marches/22TNOO3/",
        "/marches/2022M02/",
        "/marches/seuils/",
        "/marches/echeances/",
        "/marches/nouveau/",
        "/marches/import-decp/",
        "/marches/22TNOO3/lots/nouveau/",
        "/catalogue/enfance-concerto/",
    ]:
        page.goto(f"{base}{path}")
        assert "introuvable" not in page.content(), path
        problems += axe_blocking(page)
    # A holder's page, reached from the contract, and its edit form.
    page.goto(f"{base}/marches/22TNOO3/")
    page.locator("dl.facts dd a[href^='/catalogue/editeurs/']").first.click()
    page.wait_for_url("**/catalogue/editeurs/*/")
    problems += axe_blocking(page)
    page.get_by_role("link", name="Modifier").click()
    page.wait_for_url("**/modifier/")
    problems += axe_blocking(page)
    # The thresholds form showing its errors.
    page.goto(f"{base}/marches/seuils/")
    page.get_by_role("button", name="Enregistrer").click()
    page.wait_for_url("**/seuils/nouveau/")
    assert page.locator(".errorlist").count() > 0
    problems += axe_blocking(page)

    assert not problems, "axe-core found serious or critical violations:\n" + "\n".join(problems)
