"""Fixtures of the finance tests: a budget of the world's operator with one year by chapter."""

from __future__ import annotations

from decimal import Decimal

import pytest

from mutualis.finance.enums import BudgetKind, Section, Side
from mutualis.finance.models import Budget, BudgetYear, Chapter, ExecutionLine
from mutualis.lib.identifiers import luhn_complete


@pytest.fixture
def budget(world) -> Budget:
    world.operator.siren = luhn_complete("25690001")
    world.operator.siret = luhn_complete(world.operator.siren + "0001")
    world.operator.save()
    return Budget.objects.create(
        organisation=world.operator, slug="principal", name="Budget principal", kind=BudgetKind.PRINCIPAL
    )


@pytest.fixture
def year_2022(budget) -> BudgetYear:
    item = BudgetYear.objects.create(budget=budget, year=2022)
    lines = [
        (Section.OPERATING, "011", Side.EXPENSE, "700000.00"),
        (Section.OPERATING, "012", Side.EXPENSE, "1780115.35"),
        (Section.OPERATING, "042", Side.EXPENSE, "460697.00"),
        (Section.OPERATING, "74", Side.REVENUE, "3153195.00"),
        (Section.OPERATING, "002", Side.REVENUE, "136955.44"),
        (Section.INVESTMENT, "16", Side.EXPENSE, "321250.00"),
        (Section.INVESTMENT, "20", Side.EXPENSE, "504646.00"),
        (Section.INVESTMENT, "040", Side.REVENUE, "460697.00"),
        (Section.INVESTMENT, "001", Side.REVENUE, "452968.04"),
    ]
    for section, code, side, amount in lines:
        ExecutionLine.objects.create(
            budget_year=item, chapter=Chapter.objects.get(section=section, code=code), side=side, amount=Decimal(amount)
        )
    return item
