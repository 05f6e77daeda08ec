"""The operator's setting pages: contribution keys, calls, application prices, co-financing and
loans. Each saves through its service (audited) and shows its effect; each bad input is answered
on the form with a clear message and writes nothing."""

from __future__ import annotations

import html
import re
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from mutualis.core.models import AuditEntry
from mutualis.finance import selectors, services
from mutualis.finance.models import (
    ApplicationPrice,
    BudgetYear,
    Cofinancing,
    ContributionCall,
    ContributionKey,
    Loan,
    LoanYear,
)
from mutualis.testing import factories as f


def _text(response) -> str:
    """The page's text, entities resolved and French no-break spaces made plain, so messages and
    amounts can be compared as written."""
    return html.unescape(response.content.decode()).replace("\u202f", " ").replace("\xa0", " ")


def _errors(response) -> list[str]:
    return re.findall(r'<ul class="errorlist[^"]*">(.*?)</ul>', _text(response), re.S)


def _writes() -> int:
    return AuditEntry.objects.exclude(action__in=["login", "logout"]).count()


@pytest.fixture
def staff(client, world):
    client.force_login(world.staff)
    return client


@pytest.fixture
def call(world, year_2022):
    world.member_a.population, world.member_a.agents_count = 3000, 30
    world.member_b.population, world.member_b.agents_count = 1000, 10
    world.member_a.save()
    world.member_b.save()
    courrier = f.ApplicationFactory(name="Courrier")
    f.SubscriptionFactory(collectivity=world.member_a, application=courrier)
    f.SubscriptionFactory(collectivity=world.member_b, application=courrier)
    key = services.contribution_key_create(actor=None, slug="apps", name="Apps", applications_weight=Decimal(100))
    return services.contribution_call_create(
        actor=None, budget_year=year_2022, label="Participations 2022", mutualised_amount=Decimal(1000), key=key
    )


def _key(**weights: str) -> dict[str, str]:
    return {"population_weight": "0", "agents_weight": "0", "applications_weight": "0", **weights}


# -- keys ---------------------------------------------------------------------------------------
def test_it_creates_a_key_from_the_page(staff, world):
    before = _writes()

    response = staff.post(
        "/finances/contributions/cles/nouvelle/",
        {"slug": "mixte", "name": "Mixte", **_key(population_weight="60", agents_weight="40")},
    )

    assert response.status_code == 302
    key = ContributionKey.objects.get(slug="mixte")
    assert key.weights == {"population": Decimal(60), "agents": Decimal(40), "applications": Decimal(0)}
    assert _writes() == before + 1
    assert "Mixte" in _text(staff.get("/finances/contributions/cles/"))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (_key(population_weight="60", agents_weight="30"), "les pondérations totalisent 90 %"),
        (_key(population_weight="110", agents_weight="-10"), "supérieure ou égale à 0"),
        (_key(population_weight="abc", applications_weight="100"), "Saisissez un nombre"),
    ],
    ids=["not-100", "negative", "not-a-number"],
)
def test_it_refuses_a_bad_key_on_the_form(staff, world, data, message):
    before = _writes()

    response = staff.post("/finances/contributions/cles/nouvelle/", {"slug": "bancale", "name": "Bancale", **data})

    assert response.status_code == 200
    assert message in _text(response)
    assert not ContributionKey.objects.exists()
    assert _writes() == before


def test_it_refuses_a_key_slug_already_taken(staff, call):
    response = staff.post(
        "/finances/contributions/cles/nouvelle/", {"slug": "apps", "name": "Autre", **_key(agents_weight="100")}
    )

    assert response.status_code == 200
    assert "existe déjà" in _text(response)
    assert ContributionKey.objects.count() == 1


def test_it_recomputes_the_contributions_when_the_key_changes(staff, world, call):
    page = _text(staff.get("/finances/contributions/2022/"))
    assert "500,00" in page  # one application each: half and half

    response = staff.post(
        "/finances/contributions/cles/apps/modifier/", {"name": "Population", **_key(population_weight="100")}
    )

    assert response.status_code == 302
    page = _text(staff.get("/finances/contributions/2022/"))
    assert "750,00" in page and "250,00" in page  # 3 000 and 1 000 inhabitants
    statement = _text(staff.get(f"/finances/contributions/2022/{world.member_b.slug}/"))
    assert "250,00" in statement


def test_it_refuses_a_key_change_when_a_member_has_no_population(staff, world, call):
    world.member_b.population = None
    world.member_b.save()
    before = _writes()

    response = staff.post(
        "/finances/contributions/cles/apps/modifier/", {"name": "Population", **_key(population_weight="100")}
    )

    assert response.status_code == 200
    assert "Bravo : la population non renseigné" in _text(response), _errors(response)
    call.key.refresh_from_db()
    assert call.key.applications_weight == 100 and call.key.name == "Apps"
    assert _writes() == before


def test_it_refuses_a_key_change_whose_weights_do_not_add_up(staff, call):
    response = staff.post("/finances/contributions/cles/apps/modifier/", {"name": "Apps", **_key(agents_weight="50")})

    assert "les pondérations totalisent 50 %" in _text(response)
    call.key.refresh_from_db()
    assert call.key.applications_weight == 100


# -- calls --------------------------------------------------------------------------------------
def _call_data(budget_year: BudgetYear, key: ContributionKey, amount: str = "2000") -> dict[str, object]:
    return {"budget_year": budget_year.pk, "label": "Participations 2023", "mutualised_amount": amount, "key": key.pk}


def test_it_opens_a_call_from_the_page(staff, call, budget):
    year_2023 = BudgetYear.objects.create(budget=budget, year=2023)
    before = _writes()

    response = staff.post("/finances/contributions/appel/nouveau/", _call_data(year_2023, call.key))

    assert response.status_code == 302 and response["Location"] == "/finances/contributions/2023/"
    assert ContributionCall.objects.get(budget_year=year_2023).mutualised_amount == Decimal(2000)
    assert _writes() == before + 1
    assert "1 000,00" in _text(staff.get("/finances/contributions/2023/"))


def test_it_refuses_a_call_the_key_cannot_split(staff, world, call, budget):
    world.member_b.population = None
    world.member_b.save()
    key = services.contribution_key_create(actor=None, slug="pop", name="Pop", population_weight=Decimal(100))
    year_2023 = BudgetYear.objects.create(budget=budget, year=2023)
    before = _writes()

    response = staff.post("/finances/contributions/appel/nouveau/", _call_data(year_2023, key))

    assert response.status_code == 200
    assert "Bravo : la population non renseigné" in _text(response), _errors(response)
    assert not ContributionCall.objects.filter(budget_year=year_2023).exists()
    assert _writes() == before


@pytest.mark.parametrize(
    ("amount", "message"), [("-5", "supérieure ou égale à 0"), ("1 234,5x", "Saisissez un nombre")]
)
def test_it_refuses_a_bad_call_amount(staff, call, budget, amount, message):
    year_2023 = BudgetYear.objects.create(budget=budget, year=2023)

    response = staff.post("/finances/contributions/appel/nouveau/", _call_data(year_2023, call.key, amount))

    assert message in _text(response)
    assert ContributionCall.objects.count() == 1


def test_it_offers_no_year_that_already_has_a_call(staff, call):
    response = staff.post("/finances/contributions/appel/nouveau/", _call_data(call.budget_year, call.key))

    assert response.status_code == 200
    assert "Sélectionnez un choix valide" in _text(response)
    assert ContributionCall.objects.count() == 1


def test_it_refuses_a_second_call_the_same_year_in_the_service(world, call):
    annex = services.budget_create(
        actor=world.staff, organisation=world.operator, slug="tno", name="TNO", kind="annexe"
    )
    annex_2022 = BudgetYear.objects.create(budget=annex, year=2022)

    with pytest.raises(ValidationError, match="existe déjà pour 2022"):
        services.contribution_call_create(
            actor=world.staff, budget_year=annex_2022, label="Bis", mutualised_amount=Decimal(1), key=call.key
        )
    assert ContributionCall.objects.count() == 1


def test_it_changes_the_call_and_the_contributions_follow(staff, world, call):
    key = services.contribution_key_create(actor=None, slug="agents", name="Agents", agents_weight=Decimal(100))

    response = staff.post(
        "/finances/contributions/2022/appel/modifier/",
        {"label": "Participations 2022", "mutualised_amount": "4000", "key": key.pk},
    )

    assert response.status_code == 302
    page = _text(staff.get("/finances/contributions/2022/"))
    assert "3 000,00" in page and "1 000,00" in page  # 30 and 10 agents


def test_it_refuses_a_call_change_to_a_key_that_cannot_split(staff, world, call):
    world.member_a.agents_count = None
    world.member_a.save()
    key = services.contribution_key_create(actor=None, slug="agents", name="Agents", agents_weight=Decimal(100))
    before = _writes()

    response = staff.post(
        "/finances/contributions/2022/appel/modifier/",
        {"label": "Participations 2022", "mutualised_amount": "4000", "key": key.pk},
    )

    assert response.status_code == 200
    assert "Alpha : le nombre d'agents non renseigné" in _text(response)
    call.refresh_from_db()
    assert call.key.slug == "apps" and call.mutualised_amount == Decimal(1000)
    assert _writes() == before


# -- prices -------------------------------------------------------------------------------------
def test_it_sets_application_prices_and_the_statement_shows_them(staff, world, call):
    courrier = selectors.application_prices(call)[0][0]

    response = staff.post("/finances/contributions/2022/appel/prix/", {f"price_{courrier.pk}": "120.50"})

    assert response.status_code == 302
    assert ApplicationPrice.objects.get(call=call).price == Decimal("120.50")
    statement = _text(staff.get(f"/finances/contributions/2022/{world.member_a.slug}/"))
    assert "Courrier" in statement and "120,50" in statement and "620,50" in statement

    staff.post("/finances/contributions/2022/appel/prix/", {f"price_{courrier.pk}": ""})

    assert not ApplicationPrice.objects.exists()
    assert AuditEntry.objects.filter(action="delete", content_type__model="applicationprice").exists()


@pytest.mark.parametrize(("price", "message"), [("-1", "supérieure ou égale à 0"), ("12,345", "Saisissez un nombre")])
def test_it_refuses_a_bad_price(staff, call, price, message):
    courrier = selectors.application_prices(call)[0][0]
    before = _writes()

    response = staff.post("/finances/contributions/2022/appel/prix/", {f"price_{courrier.pk}": price})

    assert response.status_code == 200
    assert message in _text(response)
    assert not ApplicationPrice.objects.exists()
    assert _writes() == before


# -- co-financing -------------------------------------------------------------------------------
def _shares(*rows: tuple[object, str, str]) -> dict[str, object]:
    data: dict[str, object] = {
        "label": "TNO 2022",
        "amount": "1000.01",
        "called_in": "2023",
        "parts-TOTAL_FORMS": str(len(rows)),
        "parts-INITIAL_FORMS": "0",
    }
    for i, (partner, fixed, percent) in enumerate(rows):
        data.update({f"parts-{i}-partner": partner, f"parts-{i}-fixed_amount": fixed, f"parts-{i}-percent": percent})
    return data


def test_it_sets_the_cofinancing_and_the_budget_page_shows_the_shares(staff, world, year_2022):
    before = _writes()

    response = staff.post(
        "/finances/budgets/principal/2022/cofinancement/",
        _shares((world.member_a.pk, "400", ""), (world.member_b.pk, "", "100"), ("", "", "")),
    )

    assert response.status_code == 302, _text(response)[-2000:]
    assert _writes() > before
    page = _text(staff.get("/finances/budgets/principal/2022/"))
    assert "400,00" in page and "1 000,01" in page
    _cofinancing, split = selectors.cofinancing_of(year_2022)
    assert split == {world.member_a: Decimal("400.00"), world.member_b: Decimal("600.01")}

    # Saving again replaces it (the old one's removal is audited).
    staff.post("/finances/budgets/principal/2022/cofinancement/", _shares((world.member_a.pk, "", "100")))
    assert Cofinancing.objects.get().shares.count() == 1


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([("a", "", "60"), ("b", "", "30")], "totalisent 90 %"),
        ([("a", "100", "50")], "soit un montant fixe, soit un pourcentage"),
        ([("a", "", ""), ("b", "", "100")], "soit un montant fixe, soit un pourcentage"),
        ([("a", "", "50"), ("a", "", "50")], "Partenaire donné deux fois : Alpha"),
        ([("", "", "")], "au moins un partenaire"),
        ([("", "10", "")], "Choisissez le partenaire"),
        ([("a", "10", ""), ("b", "20", "")], "les montants fixes des partenaires totalisent 30"),
        ([("a", "-10", ""), ("b", "", "100")], "supérieure ou égale à 0"),
    ],
    ids=["percent-not-100", "both", "neither", "twice", "none", "no-partner", "fixed-short", "negative"],
)
def test_it_refuses_bad_cofinancing_shares(staff, world, year_2022, rows, message):
    pks = {"a": world.member_a.pk, "b": world.member_b.pk, "": ""}
    before = _writes()

    response = staff.post(
        "/finances/budgets/principal/2022/cofinancement/", _shares(*((pks[p], x, y) for p, x, y in rows))
    )

    assert response.status_code == 200
    assert message in _text(response)
    assert not Cofinancing.objects.exists()
    assert _writes() == before


# -- loans --------------------------------------------------------------------------------------
@pytest.fixture
def loan(year_2022) -> Loan:
    return services.loan_create(
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


def _loan(**changes: str) -> dict[str, str]:
    return {
        "lender": "Banque des territoires",
        "label": "Siège",
        "initial_capital": "100000",
        "rate": "1.25",
        "start_year": "2020",
        "year": "2022",
        "outstanding": "80000",
        "capital_repaid": "10000",
        "interest": "1100",
        **changes,
    }


def test_it_edits_a_loan_and_records_a_year_and_the_debt_page_follows(staff, loan):
    before = _writes()

    response = staff.post(f"/finances/budgets/principal/emprunts/{loan.pk}/modifier/", _loan())

    assert response.status_code == 302
    loan.refresh_from_db()
    assert loan.lender == "Banque des territoires" and loan.rate == Decimal("1.25")
    assert LoanYear.objects.get(loan=loan, year=2022).outstanding == Decimal(80000)
    assert _writes() == before + 2
    page = _text(staff.get("/finances/budgets/principal/dette/"))
    assert "Banque des territoires" in page and "80 000,00" in page

    # The same year again corrects it instead of adding another.
    staff.post(f"/finances/budgets/principal/emprunts/{loan.pk}/modifier/", _loan(outstanding="79000"))
    assert LoanYear.objects.get(loan=loan, year=2022).outstanding == Decimal(79000)


def test_it_edits_a_loan_without_a_year(staff, loan):
    response = staff.post(
        f"/finances/budgets/principal/emprunts/{loan.pk}/modifier/",
        _loan(year="", outstanding="", capital_repaid="", interest=""),
    )

    assert response.status_code == 302
    assert loan.years.count() == 1


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"year": "2019"}, "l'exercice 2019 précède l'année de mobilisation 2020"),
        ({"outstanding": "150000"}, "l'encours au 31/12 dépasse le capital initial"),
        ({"capital_repaid": "150000"}, "le capital remboursé dépasse le capital initial"),
        ({"start_year": "2022", "year": ""}, None),
        ({"interest": ""}, "renseignez l'exercice, l'encours"),
        ({"rate": "-1"}, "supérieure ou égale à 0"),
        ({"initial_capital": "1 234,5x"}, "Saisissez un nombre"),
        ({"lender": ""}, "Ce champ est obligatoire"),
    ],
    ids=["before-start", "outstanding", "repaid", "start-after-years", "partial-year", "rate", "capital", "lender"],
)
def test_it_refuses_bad_loan_input(staff, loan, changes, message):
    if changes.get("year") == "":
        changes = {**changes, "outstanding": "", "capital_repaid": "", "interest": ""}
        message = message or "l'exercice 2021 précède l'année de mobilisation 2022"
    before = _writes()

    response = staff.post(f"/finances/budgets/principal/emprunts/{loan.pk}/modifier/", _loan(**changes))

    assert response.status_code == 200
    assert message in _text(response)
    loan.refresh_from_db()
    assert loan.lender == "Banque" and loan.start_year == 2020 and loan.years.count() == 1
    assert _writes() == before


def test_it_refuses_a_new_loan_whose_year_precedes_its_start(staff, year_2022):
    response = staff.post("/finances/budgets/principal/emprunts/nouveau/", _loan(year="2018"))

    assert response.status_code == 200
    assert "précède" in _text(response)
    assert not Loan.objects.exists()


def test_it_answers_404_for_a_loan_of_another_budget(staff, loan):
    assert staff.get(f"/finances/budgets/principal/emprunts/{loan.pk + 1}/modifier/").status_code == 404


# -- links --------------------------------------------------------------------------------------
def test_it_links_the_settings_from_the_contributions_and_debt_pages(staff, client, world, call, loan):
    contributions = _text(staff.get("/finances/contributions/2022/"))
    debt = _text(staff.get("/finances/budgets/principal/dette/"))

    for url in (
        "/finances/contributions/2022/appel/modifier/",
        "/finances/contributions/2022/appel/prix/",
        "/finances/contributions/cles/",
    ):
        assert url in contributions
    assert f"/finances/budgets/principal/emprunts/{loan.pk}/modifier/" in debt
    assert "/finances/contributions/cles/" in debt
    client.force_login(world.manager_a)
    assert "/appel/modifier/" not in _text(client.get("/finances/contributions/2022/"))
