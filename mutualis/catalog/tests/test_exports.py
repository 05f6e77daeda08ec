"""Matrix downloads (CSV, XLSX) and the `catalog_matrix` command read back equal to the database."""

import csv
import io
import json

import openpyxl
import pytest
from django.core.management import call_command
from django.urls import reverse

from mutualis.catalog.models import ACTIVE_STATUSES, Application, Subscription, SubscriptionStatus
from mutualis.members.models import Organisation
from mutualis.testing import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def deployments(world):
    """Three members over two domains; one subscription of each status."""
    charlie = f.OrganisationFactory(name="Charlie", slug="charlie")
    f.OrganisationFactory(name="Delta", slug="delta")  # a member with no subscription: an empty column
    rh = f.DomainFactory(slug="rh", name="Ressources humaines", position=2)
    citizens = f.DomainFactory(slug="citoyens", name="Relation citoyens", position=1)
    paie = f.ApplicationFactory(slug="paie", name="Paie", domain=rh, position=1)
    conges = f.ApplicationFactory(slug="conges", name="Congés, absences", domain=rh, position=2)
    portail = f.ApplicationFactory(slug="portail", name="Portail « usagers »", domain=citizens, position=1)
    f.ApplicationFactory(slug="vide", name="Sans abonné", domain=citizens, position=2)
    for member, application, status in [
        (world.member_a, paie, SubscriptionStatus.PRODUCTION),
        (world.member_b, paie, SubscriptionStatus.DEPLOYING),
        (charlie, paie, SubscriptionStatus.PLANNED),
        (world.member_a, conges, SubscriptionStatus.WITHDRAWN),
        (charlie, conges, SubscriptionStatus.PRODUCTION),
        (world.member_b, portail, SubscriptionStatus.PRODUCTION),
    ]:
        f.SubscriptionFactory(collectivity=member, application=application, status=status)
    return world


def expected_table(member_slugs=None):
    """The matrix computed straight from the subscriptions table, independently of the selector."""
    members = Organisation.objects.members().order_by("name")
    if member_slugs is not None:
        members = members.filter(slug__in=member_slugs)
    slugs = [m.slug for m in members]
    active = set(
        Subscription.objects.filter(status__in=ACTIVE_STATUSES).values_list("application__slug", "collectivity__slug")
    )
    rows = []
    for app in Application.objects.select_related("domain").order_by("domain__position", "position"):
        cells = ["oui" if (app.slug, slug) in active else "" for slug in slugs]
        rows.append([app.domain.name, app.name, *cells, str(cells.count("oui"))])
    return ["domaine", "application", *slugs, "total"], rows


def test_it_downloads_the_matrix_as_csv_equal_to_the_database(client, deployments):
    client.force_login(deployments.staff)

    response = client.get(reverse("catalog:matrix_export", kwargs={"fmt": "csv"}))

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="matrice-deploiements-')
    header, *rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    expected_header, expected_rows = expected_table()
    assert header == expected_header == ["domaine", "application", "alpha", "bravo", "charlie", "delta", "total"]
    assert rows == expected_rows
    assert rows[0] == ["Relation citoyens", "Portail « usagers »", "", "oui", "", "", "1"]


def test_it_downloads_the_matrix_as_xlsx_equal_to_the_database(client, deployments):
    client.force_login(deployments.admin)

    response = client.get("/catalogue/matrice.xlsx")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    assert sheet.title == "Matrice"
    values = [["" if v is None else str(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    header, *rows, footer = values
    expected_header, expected_rows = expected_table()
    assert header == expected_header
    assert rows == expected_rows
    column_totals = [str(sum(1 for r in expected_rows if r[2 + i] == "oui")) for i in range(len(header) - 3)]
    assert footer == ["", "total", *column_totals, str(sum(int(r[-1]) for r in expected_rows))]


def test_it_exports_only_a_members_own_column(client, deployments):
    client.force_login(deployments.manager_a)

    response = client.get("/catalogue/matrice.csv")

    header, *rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    assert header == ["domaine", "application", "alpha", "total"]
    assert rows == expected_table(["alpha"])[1]
    assert "bravo" not in response.content.decode()


def test_it_applies_the_page_filters_to_the_export(client, deployments):
    client.force_login(deployments.staff)

    response = client.get("/catalogue/matrice.csv?domaine=rh&adherent=charlie&adherent=alpha")

    header, *rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    assert header == ["domaine", "application", "alpha", "charlie", "total"]
    assert rows == [
        ["Ressources humaines", "Paie", "oui", "", "1"],
        ["Ressources humaines", "Congés, absences", "", "oui", "1"],
    ]


def test_it_requires_a_login_to_export(client, deployments):
    response = client.get("/catalogue/matrice.csv")
    assert response.status_code == 302
    assert "/comptes/" in response["Location"]


def test_it_prints_the_matrix_as_csv_from_the_command(deployments):
    out = io.StringIO()

    call_command("catalog_matrix", "--format", "csv", stdout=out)

    header, *rows = list(csv.reader(io.StringIO(out.getvalue().removeprefix("\ufeff")), delimiter=";"))
    expected_header, expected_rows = expected_table()
    assert header == expected_header
    assert rows == expected_rows
    assert {cell for row in rows for cell in row[2:-1]} == {"oui", ""}


def test_it_prints_the_matrix_as_json_from_the_command(deployments):
    out = io.StringIO()

    call_command("catalog_matrix", "--format", "json", stdout=out)

    data = json.loads(out.getvalue())
    assert [m["slug"] for m in data["members"]] == ["alpha", "bravo", "charlie", "delta"]
    by_slug = {row["slug"]: row for row in data["rows"]}
    assert by_slug["paie"]["members"] == ["alpha", "bravo"]
    assert by_slug["conges"]["members"] == ["charlie"]
    assert by_slug["vide"]["members"] == []
    assert data["column_totals"] == {"alpha": 1, "bravo": 2, "charlie": 1, "delta": 0}
    assert data["total"] == Subscription.objects.filter(status__in=ACTIVE_STATUSES).count()


def test_it_counts_a_chosen_status_from_the_command(deployments):
    out = io.StringIO()
    call_command("catalog_matrix", "--format", "json", "--status", "planned", stdout=out)
    data = json.loads(out.getvalue())
    assert {row["slug"]: row["members"] for row in data["rows"] if row["members"]} == {"paie": ["charlie"]}
