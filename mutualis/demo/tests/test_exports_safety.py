"""Every CSV and XLSX export, page or command, goes through `lib/tabular.py`: a name that a
spreadsheet would run as a formula comes out neutralised, whoever typed it and wherever it shows."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command
from openpyxl import load_workbook

from mutualis.accounts.models import User
from mutualis.catalog.models import Application, Subscription, Vendor
from mutualis.demo.loader import load_demo
from mutualis.finance.models import ApplicationPrice, Chapter, ContributionCall
from mutualis.helpdesk import services as helpdesk
from mutualis.lib.tabular import FORMULA_TRIGGERS
from mutualis.members.models import Organisation, OrganisationKind
from mutualis.ola.models import VendorEpisode
from mutualis.procurement.models import Contract

pytestmark = pytest.mark.django_db

HOSTILE = '=HYPERLINK("http://x")'
SOURCE = Path(__file__).resolve().parents[2]  # the `mutualis` package

# (name, how to get it, format). Every exporter of the code base is here: the last tests of this
# file fail when an exporter is added without being listed, or writes around lib/tabular.py.
PAGES = [
    ("catalogue: matrice csv", "/catalogue/matrice.csv", "csv"),
    ("catalogue: matrice xlsx", "/catalogue/matrice.xlsx", "xlsx"),
    ("marchés: registre csv", "/marches/registre.csv", "csv"),
    ("marchés: registre xlsx", "/marches/registre.xlsx", "xlsx"),
    ("qualité: temps passé csv", "/qualite/temps-passe/?year=2026&format=csv", "csv"),
    ("qualité: temps passé xlsx", "/qualite/temps-passe/?year=2026&format=xlsx", "xlsx"),
    ("qualité: délais des éditeurs csv", "/qualite/editeurs/?month=2026-01&format=csv", "csv"),
    ("qualité: délais des éditeurs xlsx", "/qualite/editeurs/?month=2026-01&format=xlsx", "xlsx"),
    ("finances: relevé de contribution csv", "/finances/contributions/2022/{member}/releve.csv", "csv"),
    ("finances: budget SCDL csv", "/finances/budgets/principal/2022/scdl.csv", "open_data"),
]
COMMANDS = [
    ("catalog_matrix", ["catalog_matrix", "--format", "csv"], "csv"),
    (
        "helpdesk_kpis",
        [
            "helpdesk_kpis",
            "--from",
            "2026-01",
            "--to",
            "2026-01",
            "--by",
            "collectivity,application",
            "--format",
            "csv",
        ],
        "csv",
    ),
    ("finance_export_scdl", ["finance_export_scdl", "--budget", "principal", "--year", "2022"], "open_data"),
]
# Where each exporter above calls the one place (file → number of to_csv/to_xlsx calls).
EXPORTER_CALLS = {
    "catalog/views.py": 2,
    "catalog/management/commands/catalog_matrix.py": 1,
    "procurement/views.py": 2,
    "quality/views.py": 2,
    "quality/views_vendors.py": 2,
    "quality/management/commands/helpdesk_kpis.py": 1,
    "finance/exports.py": 2,  # statement (people) and SCDL (open data); both views and the command use them
}


@pytest.fixture
def hostile(db) -> dict[str, str]:
    """The demo world, with the hostile string in every kind of name an export shows."""
    load_demo()
    member = Organisation.objects.members().order_by("name").first()
    assert member is not None
    subscribed = Subscription.objects.filter(collectivity=member).select_related("application").first()
    assert subscribed is not None
    application = subscribed.application
    Application.objects.filter(pk=application.pk).update(name=HOSTILE)
    # Priced in the 2022 call, the application is a line of the member's statement.
    call = ContributionCall.objects.get(budget_year__year=2022)
    ApplicationPrice.objects.get_or_create(call=call, application=application, defaults={"price": Decimal("120.00")})
    Organisation.objects.filter(pk=member.pk).update(name=HOSTILE)
    Contract.objects.filter(pk=Contract.objects.order_by("pk").values("pk")[:1]).update(object=HOSTILE)
    Chapter.objects.filter(pk=Chapter.objects.order_by("pk").values("pk")[:1]).update(label=HOSTILE)
    # helpdesk_kpis prints identifiers (slugs), which come from imported files too.
    other = Organisation.objects.members().order_by("name").last()
    assert other is not None and other != member
    Organisation.objects.filter(pk=other.pk).update(slug="-2+3")
    # The SCDL export needs the operator's SIRET (not in the demo's source file).
    Organisation.objects.filter(kind=OrganisationKind.OPERATOR).update(siret="73282932000074")
    admin = User.objects.get(username="admin")
    for collectivity in (member, other):
        helpdesk.ticket_create(
            actor=admin,
            collectivity=collectivity,
            requester=None,
            ticket_type="incident",
            title=HOSTILE,
            description="d",
            now=dt.datetime(2026, 1, 5, 9, tzinfo=dt.UTC),
        )
    ticket = helpdesk.ticket_create(
        actor=admin,
        collectivity=member,
        requester=None,
        ticket_type="request",
        title=HOSTILE,
        description="d",
        application=application,
        now=dt.datetime(2026, 1, 5, 9, tzinfo=dt.UTC),
    )
    helpdesk.task_add(
        actor=admin, ticket=ticket, description=HOSTILE, duration_seconds=600, done_on=dt.date(2026, 1, 6)
    )
    # A wait for the vendor, whose name the vendors' compliance export shows.
    helpdesk.ticket_transition(
        actor=admin,
        ticket=ticket,
        action="wait",
        pending_reason="vendor",
        now=dt.datetime(2026, 1, 5, 10, tzinfo=dt.UTC),
    )
    helpdesk.ticket_transition(
        actor=admin, ticket=ticket, action="resume", now=dt.datetime(2026, 1, 6, 10, tzinfo=dt.UTC)
    )
    vendor = Vendor.objects.order_by("pk").first()
    assert vendor is not None
    VendorEpisode.objects.filter(ticket=ticket).update(vendor=vendor)
    Vendor.objects.filter(pk=vendor.pk).update(name=HOSTILE)
    return {"member": member.slug}


def _csv_cells(text: str, *, delimiter: str) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(text), delimiter=delimiter) for cell in row]


def _assert_csv_neutralised(text: str, kind: str) -> None:
    people = kind == "csv"
    assert text.startswith("\ufeff") is people  # the BOM French Excel needs, never in open data
    cells = _csv_cells(text.removeprefix("\ufeff"), delimiter=";" if people else ",")
    hostile = [c for c in cells if "HYPERLINK" in c or "-2+3" in c]
    assert hostile, "the export shows none of the hostile names: the test would prove nothing"
    assert not [c for c in hostile if c.startswith(FORMULA_TRIGGERS)]
    assert {"'" + HOSTILE, "'-2+3"} & set(hostile)


def _assert_xlsx_neutralised(content: bytes) -> None:
    cells = [cell for row in load_workbook(io.BytesIO(content)).active.iter_rows() for cell in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"], "a cell is a formula"
    hostile = [c for c in cells if isinstance(c.value, str) and c.value.startswith(FORMULA_TRIGGERS)]
    assert any(c.value == HOSTILE for c in hostile)
    assert all(c.data_type == "s" and c.quotePrefix for c in hostile)


@pytest.mark.parametrize(("name", "url", "kind"), PAGES, ids=[p[0] for p in PAGES])
def test_it_neutralises_formulas_in_every_exported_page(client, hostile, name, url, kind):
    client.force_login(User.objects.get(username="admin"))

    response = client.get(url.format(**hostile))

    assert response.status_code == 200, name
    if kind == "xlsx":
        _assert_xlsx_neutralised(response.content)
    else:
        assert response["Content-Type"] == "text/csv; charset=utf-8"
        _assert_csv_neutralised(response.content.decode("utf-8"), kind)


@pytest.mark.parametrize(("name", "args", "kind"), COMMANDS, ids=[c[0] for c in COMMANDS])
def test_it_neutralises_formulas_in_every_exporting_command(hostile, name, args, kind):
    out = io.StringIO()

    call_command(*args, stdout=out)

    _assert_csv_neutralised(out.getvalue(), kind)


def _sources() -> dict[str, str]:
    return {
        str(path.relative_to(SOURCE)): path.read_text(encoding="utf-8")
        for path in SOURCE.rglob("*.py")
        if "tests" not in path.parts and "migrations" not in path.parts
    }


def test_it_writes_csv_and_xlsx_nowhere_but_in_lib_tabular():
    writers = re.compile(r"csv\.writer\(|DictWriter\(|Workbook\(|\.to_csv\(|xlsxwriter|import csv\b")
    outside = sorted(name for name, text in _sources().items() if writers.search(text) and name != "lib/tabular.py")
    # Readers of imported files (HR directory, finance tables, ticket history) may read CSV.
    readers = {"identity/hr_files.py", "finance/tables.py", "helpdesk/importer.py"}
    assert [name for name in outside if name not in readers] == []
    for name in readers & set(outside):
        assert not re.search(r"csv\.writer\(|DictWriter\(|Workbook\(", _sources()[name]), name


def test_it_lists_every_exporter_in_this_file():
    calls = {name: len(re.findall(r"\bto_(?:csv|xlsx)\(", text)) for name, text in _sources().items()}
    found = {name: count for name, count in calls.items() if count and name != "lib/tabular.py"}
    assert found == EXPORTER_CALLS, "an exporter was added or removed: list it in PAGES or COMMANDS"
