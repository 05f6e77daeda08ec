"""The monthly report's mail (both parts, through the one mail path) and its PDF link on
MUTUALIS_BASE_URL, whatever address served the page that produced them."""

import io

import pytest
from django.core.management import call_command

from mutualis.helpdesk.tests.mailservers import smtp_server_fixture  # noqa: F401 (fixture)
from mutualis.quality.models import MonthlyReport
from mutualis.quality.tests.test_kpis import fixture  # noqa: F401 (fixture)


@pytest.fixture
def manager(world):
    world.manager_a.email = "dsi@alpha.test"
    world.manager_a.save(update_fields=["email"])
    # A member's name is typed by an operator: it must reach no mail as markup.
    world.member_a.name = "Alpha <b>&</b> co"
    world.member_a.save(update_fields=["name"])
    return world


def test_it_links_the_mail_and_the_pdf_on_the_base_url(
    fixture,  # noqa: F811
    manager,
    smtp_server,
    settings,
    django_capture_on_commit_callbacks,
):
    settings.MUTUALIS_BASE_URL = "https://mutualis.example.fr"
    with django_capture_on_commit_callbacks(execute=True):
        call_command("quality_monthly_reports", "--month", "2026-11", stdout=io.StringIO())

    (received,) = smtp_server.to("dsi@alpha.test")
    link = "https://mutualis.example.fr/qualite/adherents/alpha/rapports/"
    assert link in received.text
    assert f'href="{link}"' in received.html
    assert "Alpha <b>&</b> co" in received.text and "Alpha &lt;b&gt;&amp;&lt;/b&gt; co" in received.html
    assert "<b>" not in received.html

    report = MonthlyReport.objects.get(collectivity=manager.member_a, month="2026-11")
    assert 'href="https://mutualis.example.fr/assistance/?' in report.html
    assert "https://mutualis.example.fr/assistance/" in report.html
    assert 'href="/' not in report.html  # no link a PDF reader could not follow
