"""Monthly service reports: the first working day, the archive (immutable, versioned), the mail
with its PDF on a real local SMTP server, and the pages of the archive."""

import datetime as dt
import hashlib
import json
from io import StringIO

import pytest
from django.core.management import call_command

from mutualis.helpdesk.tests.mailservers import smtp_server_fixture  # noqa: F401 (fixture)
from mutualis.quality.kpis import MEASURES, Month
from mutualis.quality.models import MonthlyReport
from mutualis.quality.reports import first_working_day, monthly_reports_run
from mutualis.quality.tests.test_kpis import fixture  # noqa: F401 (fixture)
from mutualis.testing.factories import PASSWORD, UserFactory


def run(*args):
    out = StringIO()
    call_command("quality_monthly_reports", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def managers(world):
    world.manager_a.email = "dsi@alpha.test"
    world.manager_a.save(update_fields=["email"])
    world.manager_b.email = "dsi@bravo.test"
    world.manager_b.save(update_fields=["email"])
    # A second manager of Alpha, and an agent who must not receive it.
    UserFactory(username="dgs-a", role="member_manager", organisation=world.member_a, email="dgs@alpha.test")
    world.agent_a.email = "agent@alpha.test"
    world.agent_a.save(update_fields=["email"])
    return world


def test_it_finds_the_first_working_day():
    assert first_working_day(2026, 1) == dt.date(2026, 1, 2)  # 1 January is a holiday
    assert first_working_day(2026, 5) == dt.date(2026, 5, 4)  # Friday 1 May, then a weekend
    assert first_working_day(2026, 11) == dt.date(2026, 11, 2)  # Sunday 1 November (All Saints)
    assert first_working_day(2026, 6) == dt.date(2026, 6, 1)


def test_it_acts_from_the_first_working_day_on(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        # 1 January 2027 is a holiday: the first working day is Monday 4 January.
        assert monthly_reports_run(today=dt.date(2027, 1, 1)).month is None
        assert monthly_reports_run(today=dt.date(2027, 1, 3)).month is None
        assert not MonthlyReport.objects.exists()
        summary = monthly_reports_run(today=dt.date(2026, 12, 1))
    assert summary.month == Month(2026, 11)
    assert sorted(r.collectivity.slug for r in summary.created) == ["alpha", "bravo"]
    # The next days find them archived and produce nothing.
    again = monthly_reports_run(today=dt.date(2026, 12, 2))
    assert (again.month, again.created, again.skipped) == (Month(2026, 11), [], 2)


def test_with_limit_a_run_produces_that_many_and_the_next_goes_on(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first = monthly_reports_run(today=dt.date(2026, 12, 1), limit=1)
        second = monthly_reports_run(today=dt.date(2026, 12, 1), limit=1)
    assert [r.collectivity.slug for r in first.created] == ["alpha"]
    assert ([r.collectivity.slug for r in second.created], second.skipped) == (["bravo"], 1)


def test_a_missed_first_working_day_is_caught_up(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        summary = monthly_reports_run(today=dt.date(2026, 12, 3))  # the 1st and the 2nd were missed
    assert summary.month == Month(2026, 11)
    assert sorted(r.collectivity.slug for r in summary.created) == ["alpha", "bravo"]


def test_it_mails_the_pdf_to_the_managers(fixture, managers, smtp_server, django_capture_on_commit_callbacks):  # noqa: F811
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        out = run("--month", "2026-11")
    assert "2 produit(s)" in out and len(callbacks) == 2
    [received] = smtp_server.to("dsi@alpha.test")
    assert sorted(received.rcpt_tos) == ["dgs@alpha.test", "dsi@alpha.test"]
    assert not smtp_server.to("agent@alpha.test")
    assert "novembre 2026" in received.subject and "Alpha" in received.subject
    [attachment] = list(received.message.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_filename() == "rapport-alpha-2026-11.pdf"
    pdf = attachment.get_content()
    assert pdf.startswith(b"%PDF")
    report = MonthlyReport.objects.get(collectivity=managers.member_a, month="2026-11")
    assert hashlib.sha256(pdf).hexdigest() == report.sha256
    assert "/qualite/adherents/alpha/rapports/" in received.text
    assert [m.rcpt_tos for m in smtp_server.to("dsi@bravo.test")] == [["dsi@bravo.test"]]


def test_it_reports_the_cli_figures(fixture, world, django_capture_on_commit_callbacks):  # noqa: F811
    with django_capture_on_commit_callbacks(execute=True):
        run("--month", "2026-11")
    for member in (world.member_a, world.member_b):
        out = StringIO()
        call_command("helpdesk_kpis", "--from", "2026-11", "--to", "2026-11", "--collectivity", member.slug, stdout=out)
        [row] = json.loads(out.getvalue())
        report = MonthlyReport.objects.get(collectivity=member, month="2026-11")
        assert {m: report.figures[m] for m in MEASURES} == {m: row[m] for m in MEASURES}
    alpha = MonthlyReport.objects.get(collectivity=world.member_a)
    assert alpha.figures["opened"] == 2 and alpha.figures["ttr_median_s"] == 5400.0  # 1 h and 2 h
    assert "Alpha — novembre 2026" in alpha.html and "<svg" not in alpha.html  # charts as <img>
    assert 'alt="' in alpha.html


def test_it_keeps_a_report_immutable_unless_forced(fixture, world, django_capture_on_commit_callbacks):  # noqa: F811
    with django_capture_on_commit_callbacks(execute=True):
        run("--month", "2026-11")
        first = MonthlyReport.objects.get(collectivity=world.member_a)
        assert "0 produit(s), 2 déjà archivé(s)" in run("--month", "2026-11")
        assert MonthlyReport.objects.count() == 2
        run("--month", "2026-11", "--force")
    versions = list(
        MonthlyReport.objects.filter(collectivity=world.member_a).order_by("version").values_list("version", "sha256")
    )
    assert [v for v, _ in versions] == [1, 2]
    assert versions[0][1] == first.sha256
    with first.pdf.open("rb") as handle:
        assert hashlib.sha256(handle.read()).hexdigest() == first.sha256


def test_it_refuses_a_bad_month(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="mois invalide"):
        run("--month", "2026-13")


def test_it_lists_and_serves_a_members_reports_to_it_only(fixture, world, client, django_capture_on_commit_callbacks):  # noqa: F811
    with django_capture_on_commit_callbacks(execute=True):
        run("--month", "2026-11")
    assert client.login(username=world.manager_a.username, password=PASSWORD)
    page = client.get("/qualite/adherents/alpha/rapports/")
    assert page.status_code == 200 and "/qualite/adherents/alpha/rapports/2026-11/v1.pdf" in page.content.decode()
    pdf = client.get("/qualite/adherents/alpha/rapports/2026-11/v1.pdf")
    assert pdf.status_code == 200 and b"".join(pdf.streaming_content).startswith(b"%PDF")
    html = client.get("/qualite/adherents/alpha/rapports/2026-11/v1.html")
    assert html.status_code == 200 and "Alpha — novembre 2026" in html.content.decode()
    assert "default-src 'none'" in html["Content-Security-Policy"]
    for path in (
        "/qualite/adherents/bravo/rapports/",
        "/qualite/adherents/bravo/rapports/2026-11/v1.pdf",
        "/qualite/adherents/bravo/rapports/2026-11/v1.html",
        "/qualite/adherents/alpha/rapports/2026-11/v9.pdf",
    ):
        assert client.get(path).status_code == 404, path
    assert client.login(username=world.agent_a.username, password=PASSWORD)
    assert client.get("/qualite/adherents/alpha/rapports/2026-11/v1.pdf").status_code == 404
    assert client.login(username=world.staff.username, password=PASSWORD)
    assert client.get("/qualite/adherents/bravo/rapports/2026-11/v1.pdf").status_code == 200
