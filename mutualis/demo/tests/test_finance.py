"""The demo's finance: the TNO annex's 2022 cofinancing, split among its partners as the report does."""

from decimal import Decimal

from mutualis.demo.loader import load_demo
from mutualis.finance import selectors


def test_it_splits_the_demo_cofinancing_among_the_tno_partners(db):
    load_demo()
    budget = selectors.budget_get(actor=None, slug="tno")
    cofinancing, shares = selectors.cofinancing_of(selectors.budget_year_get(budget=budget, year=2022))

    assert cofinancing.amount == Decimal(95000)
    assert {org.name: amount for org, amount in shares.items()} == {
        "Métropole de Lyon": Decimal(50350),
        "Ville de Lyon": Decimal(29070),
        "Syndicat Intercommunal de Technologies pour les Villes": Decimal(15580),
    }
