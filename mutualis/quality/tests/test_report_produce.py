"""Producing a member's monthly report from its page: « Produire », then « Produire à nouveau »,
operator admins only, run as a task, audited, the result on the page."""

import pytest
from django.urls import reverse

from mutualis.core.models import AuditAction, AuditEntry
from mutualis.quality.models import MonthlyReport
from mutualis.quality.reports import may_produce_reports
from mutualis.quality.selectors import last_complete_month
from mutualis.testing.crawl import forms_of

pytestmark = pytest.mark.django_db

URL = "/qualite/adherents/alpha/rapports/"


def produce_forms(client):
    page = client.get(URL)
    assert page.status_code == 200
    action = reverse("quality:report_produce", args=["alpha"])
    return [f for f in forms_of(page.content.decode(), URL) if f.action.endswith(action)]


def test_it_produces_then_reproduces_a_report_from_its_page(client, world, django_capture_on_commit_callbacks):
    month = str(last_complete_month())
    client.force_login(world.admin)
    form = next(f for f in produce_forms(client) if f.data()["month"] == [month])

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(form.action, form.data(), follow=True)

    report = MonthlyReport.objects.get(collectivity=world.member_a, month=month)
    assert report.version == 1
    html = response.content.decode()
    assert "version 1" in html and f"/rapports/{month}/v1.pdf" in html
    assert "Produire à nouveau" in html
    entry = AuditEntry.objects.get(action=AuditAction.CREATE, content_type__model="monthlyreport")
    assert entry.actor == world.admin

    with django_capture_on_commit_callbacks(execute=True):
        client.post(form.action, form.data(), follow=True)
    assert list(
        MonthlyReport.objects.filter(collectivity=world.member_a, month=month).values_list("version", flat=True)
    ) == [2, 1]


@pytest.mark.parametrize("who", ["staff", "manager_a", "elected_a"])
def test_it_offers_and_accepts_production_to_operator_admins_only(client, world, who):
    user = getattr(world, who)
    assert not may_produce_reports(user)
    client.force_login(user)
    assert produce_forms(client) == []

    response = client.post(reverse("quality:report_produce", args=["alpha"]), {"month": str(last_complete_month())})

    assert response.status_code == 403
    assert not MonthlyReport.objects.exists()


def test_it_refuses_a_month_not_yet_over(client, world):
    client.force_login(world.admin)
    month = last_complete_month()
    current = f"{month.year + (month.month == 12)}-{month.month % 12 + 1:02d}"
    response = client.post(reverse("quality:report_produce", args=["alpha"]), {"month": current}, follow=True)
    assert "mois terminé" in response.content.decode()
    assert not MonthlyReport.objects.exists()


def test_it_answers_404_to_a_member_asking_for_anothers_report(client, world):
    client.force_login(world.manager_b)
    response = client.post(reverse("quality:report_produce", args=["alpha"]), {"month": str(last_complete_month())})
    assert response.status_code == 404
    assert not MonthlyReport.objects.exists()


@pytest.mark.parametrize("month", ["0001-01", "9999-12", "2000-01"])
def test_it_refuses_a_month_the_page_does_not_offer(client, world, month, django_capture_on_commit_callbacks):
    client.force_login(world.admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("quality:report_produce", args=["alpha"]), {"month": month}, follow=True)
    html = response.content.decode()
    assert response.status_code in (200, 404)
    assert "lancée" not in html and "produit :" not in html
    assert not MonthlyReport.objects.exists()
