"""Time spent per member, application and month: one grouped query, a page, CSV and XLSX."""

import csv
import datetime as dt
import io

import pytest
from openpyxl import load_workbook

from mutualis.helpdesk import services
from mutualis.helpdesk.models import Ticket, TicketTask
from mutualis.quality import selectors
from mutualis.quality.tests.test_kpis import at
from mutualis.testing.factories import PASSWORD, ApplicationFactory, SubscriptionFactory


@pytest.fixture
def tasks(world):
    mail = ApplicationFactory(slug="messagerie", name="Messagerie")
    civil = ApplicationFactory(slug="etat-civil", name="État civil")
    for member, application in ((world.member_a, mail), (world.member_a, civil), (world.member_b, mail)):
        SubscriptionFactory(collectivity=member, application=application)  # a ticket names a subscribed one

    def ticket(member, application):
        return services.ticket_create(
            actor=world.staff,
            collectivity=member,
            requester=None,
            ticket_type="request",
            title="t",
            description="d",
            application=application,
            now=at(1, 5, 9),
        )

    a_mail, a_civil, b_mail = ticket(world.member_a, mail), ticket(world.member_a, civil), ticket(world.member_b, mail)
    for t, minutes, day in (
        (a_mail, 30, dt.date(2026, 1, 5)),
        (a_mail, 45, dt.date(2026, 1, 20)),
        (a_mail, 60, dt.date(2026, 2, 2)),
        (a_civil, 90, dt.date(2026, 1, 6)),
        (b_mail, 15, dt.date(2026, 1, 7)),
        (b_mail, 120, dt.date(2025, 12, 31)),  # another year
    ):
        services.task_add(actor=world.staff, ticket=t, description="x", duration_seconds=minutes * 60, done_on=day)


def expected():
    return [
        ("2026-01", "alpha", "État civil", 1, 5400),
        ("2026-01", "alpha", "Messagerie", 2, 4500),
        ("2026-02", "alpha", "Messagerie", 1, 3600),
        ("2026-01", "bravo", "Messagerie", 1, 900),
    ]


def test_it_sums_tasks_per_member_application_and_month(tasks, world, django_assert_num_queries):
    with django_assert_num_queries(1):
        rows = selectors.time_spent(actor=world.staff, year=2026)
    assert [
        (r["month"], r["collectivity_slug"], r["application_name"], r["tasks"], r["seconds"]) for r in rows
    ] == expected()
    only_b = selectors.time_spent(actor=world.staff, year=2025, collectivity_id=world.member_b.pk)
    assert [(r["month"], r["seconds"]) for r in only_b] == [("2025-12", 7200)]
    # A member's manager sees its own collectivity only, whatever it asks.
    mine = selectors.time_spent(actor=world.manager_a, year=2026, collectivity_id=world.member_b.pk)
    assert mine == []
    assert {r["collectivity_slug"] for r in selectors.time_spent(actor=world.manager_a, year=2026)} == {"alpha"}


def test_it_exports_csv_and_xlsx_that_read_back_equal(tasks, world, client):
    assert client.login(username=world.staff.username, password=PASSWORD)
    rows = selectors.time_spent(actor=world.staff, year=2026)
    response = client.get("/qualite/temps-passe/", {"year": 2026, "format": "csv"})
    assert response["Content-Type"].startswith("text/csv")
    read = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    assert read[0][:3] == ["mois", "collectivite", "collectivite_nom"]
    assert [(r[0], r[1], r[4], int(r[5]), int(r[6])) for r in read[1:]] == [
        (r["month"], r["collectivity_slug"], r["application_name"], r["tasks"], r["seconds"]) for r in rows
    ]
    response = client.get("/qualite/temps-passe/", {"year": 2026, "format": "xlsx"})
    sheet = load_workbook(io.BytesIO(response.content)).active
    values = list(sheet.iter_rows(values_only=True))
    assert list(values[0]) == read[0]
    assert [v[:7] for v in values[1:]] == [(*r[:5], int(r[5]), int(r[6])) for r in read[1:]]
    assert sum(v[6] for v in values[1:]) == 5400 + 4500 + 3600 + 900


def test_it_shows_the_year_as_a_table(tasks, world, client):
    assert client.login(username=world.staff.username, password=PASSWORD)
    response = client.get("/qualite/temps-passe/", {"year": 2026, "member": "alpha"})
    assert response.status_code == 200
    table = response.context["table"]
    assert [(line["application"], line["total"]) for line in table["lines"]] == [
        ("État civil", 5400),
        ("Messagerie", 8100),
    ]
    assert table["totals"][:2] == [9900, 3600] and table["total"] == 13500
    html = response.content.decode()
    assert '<th scope="row">Alpha</th>' in html and "3,8 h" in html  # 13 500 s
    assert response.context["years"] == [2026, 2025]


def test_it_shows_a_member_only_its_own_time(tasks, world, client):
    assert client.login(username=world.manager_b.username, password=PASSWORD)
    response = client.get("/qualite/temps-passe/", {"year": 2026, "member": "alpha", "format": "csv"})
    lines = response.content.decode().splitlines()[1:]
    assert lines and all(";bravo;" in line for line in lines)
    assert client.login(username=world.agent_a.username, password=PASSWORD)
    assert client.get("/qualite/temps-passe/").status_code == 404


def test_it_counts_a_task_taken_over_from_glpi_without_author_like_any_other(tasks, world, client):
    """A task imported from GLPI whose author has no account has no author: its time is the
    member's and the application's all the same (the page groups by neither author nor account)."""
    ticket = Ticket.objects.get(collectivity=world.member_a, application__slug="messagerie")
    TicketTask.objects.create(
        ticket=ticket,
        author=None,
        description="*Écrit dans GLPI par Julien Martin (jmartin) (sans compte dans Mutualis)*\n\nPoste remplacé",
        duration_seconds=1800,
        done_on=dt.date(2026, 1, 9),
    )
    rows = selectors.time_spent(actor=world.staff, year=2026)
    key = ("2026-01", "alpha", "messagerie")
    january = next(r for r in rows if (r["month"], r["collectivity_slug"], r["application_slug"]) == key)
    assert (january["tasks"], january["seconds"]) == (3, 4500 + 1800)
    assert client.login(username=world.staff.username, password=PASSWORD)
    response = client.get("/qualite/temps-passe/", {"year": 2026, "member": "alpha"})
    assert response.status_code == 200
    assert response.context["table"]["total"] == 13500 + 1800
    csv_lines = client.get("/qualite/temps-passe/", {"year": 2026, "format": "csv"}).content.decode().splitlines()
    assert sum(int(line.split(";")[6]) for line in csv_lines[1:]) == 5400 + 4500 + 3600 + 900 + 1800
