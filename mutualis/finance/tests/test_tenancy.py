"""Who may open each finance page: every role × every route × its own member's statement (Alpha)
or another member's (Bravo) → the answer. The operator's accounts are public to signed-in
accounts; writes are the operator staff's; a member sees only its own statement."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import URLResolver, get_resolver, resolve

from mutualis.catalog.models import Application
from mutualis.core.models import AuditEntry
from mutualis.finance import services
from mutualis.finance.models import Budget, BudgetYear, ContributionKey, Loan
from mutualis.members.models import Organisation
from mutualis.testing import factories as f

ROLES = ["operator_admin", "operator_staff", "member_manager", "member_agent", "elected"]

#                                                                           ─────── own ───────   ───── foreign ─────
# label            verb  path                                               adm stf mgr agt elu   adm stf mgr agt elu
TABLE = """
index              GET   /finances/                                         200 200 200 200 200     ·   ·   ·   ·   ·
budget             GET   /finances/budgets/principal/2022/                  200 200 200 200 200     ·   ·   ·   ·   ·
results            GET   /finances/budgets/principal/2022/resultats/        200 200 200 200 200     ·   ·   ·   ·   ·
scdl               GET   /finances/budgets/principal/2022/scdl.csv          200 200 200 200 200     ·   ·   ·   ·   ·
evolution          GET   /finances/budgets/principal/evolution/             200 200 200 200 200     ·   ·   ·   ·   ·
debt               GET   /finances/budgets/principal/dette/                 200 200 200 200 200     ·   ·   ·   ·   ·
import             GET   /finances/budgets/principal/import/                200 200 404 404 404     ·   ·   ·   ·   ·
import             POST  /finances/budgets/principal/import/                302 302 404 404 404     ·   ·   ·   ·   ·
loan create        GET   /finances/budgets/principal/emprunts/nouveau/      200 200 404 404 404     ·   ·   ·   ·   ·
loan create        POST  /finances/budgets/principal/emprunts/nouveau/      302 302 404 404 404     ·   ·   ·   ·   ·
contributions      GET   /finances/contributions/2022/                      200 200 200 200 200     ·   ·   ·   ·   ·
statement          GET   /finances/contributions/2022/{org}/                200 200 200 200 200   200 200 404 404 404
statement csv      GET   /finances/contributions/2022/{org}/releve.csv      200 200 200 200 200   200 200 404 404 404
statement pdf      GET   /finances/contributions/2022/{org}/releve.pdf      200 200 200 200 200   200 200 404 404 404
keys               GET   /finances/contributions/cles/                      200 200 404 404 404     ·   ·   ·   ·   ·
key create         GET   /finances/contributions/cles/nouvelle/             200 200 404 404 404     ·   ·   ·   ·   ·
key create         POST  /finances/contributions/cles/nouvelle/             302 302 404 404 404     ·   ·   ·   ·   ·
key edit           GET   /finances/contributions/cles/apps/modifier/        200 200 404 404 404     ·   ·   ·   ·   ·
key edit           POST  /finances/contributions/cles/apps/modifier/        302 302 404 404 404     ·   ·   ·   ·   ·
call create        GET   /finances/contributions/appel/nouveau/             200 200 404 404 404     ·   ·   ·   ·   ·
call create        POST  /finances/contributions/appel/nouveau/             302 302 404 404 404     ·   ·   ·   ·   ·
call edit          GET   /finances/contributions/2022/appel/modifier/       200 200 404 404 404     ·   ·   ·   ·   ·
call edit          POST  /finances/contributions/2022/appel/modifier/       302 302 404 404 404     ·   ·   ·   ·   ·
prices             GET   /finances/contributions/2022/appel/prix/           200 200 404 404 404     ·   ·   ·   ·   ·
prices             POST  /finances/contributions/2022/appel/prix/           302 302 404 404 404     ·   ·   ·   ·   ·
cofinancing        GET   /finances/budgets/principal/2022/cofinancement/    200 200 404 404 404     ·   ·   ·   ·   ·
cofinancing        POST  /finances/budgets/principal/2022/cofinancement/    302 302 404 404 404     ·   ·   ·   ·   ·
loan edit          GET   /finances/budgets/principal/emprunts/{loan}/modifier/ 200 200 404 404 404  ·   ·   ·   ·   ·
loan edit          POST  /finances/budgets/principal/emprunts/{loan}/modifier/ 302 302 404 404 404  ·   ·   ·   ·   ·
"""


@dataclass(frozen=True)
class Row:
    label: str
    method: str
    path: str
    own: dict[str, int]
    foreign: dict[str, int] | None


def _parse(table: str) -> list[Row]:
    rows = []
    for line in table.strip().splitlines():
        words = line.split()
        at = next(i for i, word in enumerate(words) if word in {"GET", "POST"})
        cells = words[at + 2 :]
        assert len(cells) == 10, line
        own = dict(zip(ROLES, map(int, cells[:5]), strict=True))
        foreign = None if cells[5] == "·" else dict(zip(ROLES, map(int, cells[5:]), strict=True))
        rows.append(Row(" ".join(words[:at]), words[at], words[at + 1], own, foreign))
    return rows


ROWS = _parse(TABLE)
CASES = [
    pytest.param(row, role, side, expected, id=f"{row.method} {row.label} {side} {role}")
    for row in ROWS
    for side, column in (("own", row.own), ("foreign", row.foreign))
    if column is not None
    for role, expected in column.items()
]


@pytest.fixture
def finance(world, year_2022):
    key = services.contribution_key_create(actor=None, slug="apps", name="Apps", applications_weight=Decimal(100))
    f.SubscriptionFactory(collectivity=world.member_a)
    f.SubscriptionFactory(collectivity=world.member_b)
    services.contribution_call_create(
        actor=None, budget_year=year_2022, label="Participations 2022", mutualised_amount=Decimal(1000), key=key
    )
    services.loan_create(
        actor=None,
        budget=year_2022.budget,
        lender="Banque",
        initial_capital=Decimal(100000),
        rate=Decimal("1.5"),
        start_year=2020,
        years=[
            {"year": 2021, "outstanding": Decimal(90000), "capital_repaid": Decimal(10000), "interest": Decimal(1300)}
        ],
    )
    return year_2022


def _url(row: Row, side: str = "own") -> str:
    loan = Loan.objects.first()
    return row.path.format(org="alpha" if side == "own" else "bravo", loan=loan.pk if loan else 0)


def _payload(row: Row) -> dict:
    if row.label == "import":
        csv = "annee;section;sens;chapitre;montant\n2023;fonctionnement;dépense;011;10,00\n"
        return {"file": SimpleUploadedFile("execution.csv", csv.encode(), content_type="text/csv")}
    if row.label == "loan create":
        return {
            "lender": "Banque",
            "initial_capital": "100000",
            "rate": "1.5",
            "start_year": "2020",
            "year": "2022",
            "outstanding": "80000",
            "capital_repaid": "10000",
            "interest": "1200",
        }
    if row.label == "key create":
        return {
            "slug": "agents",
            "name": "Agents",
            "population_weight": "0",
            "agents_weight": "100",
            "applications_weight": "0",
        }
    if row.label == "key edit":
        return {"name": "Applications", "population_weight": "0", "agents_weight": "0", "applications_weight": "100"}
    if row.label in {"call create", "call edit"}:
        budget_year = BudgetYear.objects.get_or_create(budget=Budget.objects.get(slug="principal"), year=2023)[0]
        return {
            "budget_year": budget_year.pk,
            "label": "Participations",
            "mutualised_amount": "2000",
            "key": ContributionKey.objects.get(slug="apps").pk,
        }
    if row.label == "prices":
        return {f"price_{application.pk}": "10.00" for application in Application.objects.all()}
    if row.label == "cofinancing":
        return {
            "label": "Cofinancement",
            "amount": "1000",
            "called_in": "2023",
            "parts-TOTAL_FORMS": "1",
            "parts-INITIAL_FORMS": "0",
            "parts-0-partner": Organisation.objects.get(slug="alpha").pk,
            "parts-0-percent": "100",
        }
    if row.label == "loan edit":
        return {
            "lender": "Banque des territoires",
            "initial_capital": "100000",
            "rate": "1.5",
            "start_year": "2020",
            "year": "2022",
            "outstanding": "80000",
            "capital_repaid": "10000",
            "interest": "1200",
        }
    return {}


def _writes() -> int:
    return AuditEntry.objects.exclude(action__in=["login", "logout"]).count()


@pytest.mark.parametrize(("row", "role", "side", "expected"), CASES)
def test_it_answers_each_role_as_the_matrix_says(client, world, finance, row, role, side, expected):
    client.force_login(world.by_role()[role])
    url = _url(row, side)
    before = _writes()

    response = client.get(url) if row.method == "GET" else client.post(url, _payload(row))

    assert response.status_code == expected, response.content[:300]
    if row.method == "POST" and expected < 400:
        assert _writes() > before
    else:
        assert _writes() == before


@pytest.mark.parametrize("row", ROWS, ids=lambda r: f"{r.method} {r.label}")
def test_it_sends_anonymous_visitors_to_login(client, world, finance, row):
    url = _url(row)
    before = _writes()

    response = client.get(url) if row.method == "GET" else client.post(url, _payload(row))

    assert response.status_code == 302
    assert response["Location"].startswith("/comptes/connexion/")
    assert _writes() == before


def test_it_has_a_line_for_every_finance_route(world):
    tabled = {resolve(r.path.format(org="alpha", loan=1)).view_name for r in ROWS}
    routes = {
        f"{top.namespace}:{route.name}"
        for top in get_resolver().url_patterns
        if isinstance(top, URLResolver) and top.namespace == "finance"
        for route in top.url_patterns
    }

    assert routes
    assert routes - tabled == set()


def test_it_writes_nothing_when_an_elected_official_posts(client, world, finance):
    client.force_login(world.elected_a)

    client.post("/finances/budgets/principal/import/", _payload(ROWS[7]))

    assert not BudgetYear.objects.filter(year=2023).exists()
