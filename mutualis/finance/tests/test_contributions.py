"""Contribution keys, calls and statements: parts add up to the cent, bad keys are refused."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from mutualis.core.models import AuditEntry
from mutualis.finance import selectors, services
from mutualis.finance.models import BudgetYear, ContributionCall, ContributionKey
from mutualis.testing import factories as f


@pytest.fixture
def call(world, budget):
    world.member_a.population, world.member_a.agents_count = 3000, 30
    world.member_b.population, world.member_b.agents_count = 1000, 10
    world.member_a.save()
    world.member_b.save()
    shared = f.ApplicationFactory(name="Courrier")
    f.SubscriptionFactory(collectivity=world.member_a, application=shared)
    f.SubscriptionFactory(collectivity=world.member_b, application=shared)
    f.SubscriptionFactory(collectivity=world.member_a, application=f.ApplicationFactory(name="Paie"))
    key = services.contribution_key_create(
        actor=world.admin, slug="mixte", name="Mixte", population_weight=Decimal(50), applications_weight=Decimal(50)
    )
    return services.contribution_call_create(
        actor=world.admin,
        budget_year=BudgetYear.objects.create(budget=budget, year=2024),
        label="Participations 2024",
        mutualised_amount=Decimal("100000.01"),
        key=key,
        prices={shared: Decimal("1200.00")},
    )


def test_it_splits_the_mutualised_cost_and_adds_the_personalised_parts(call, world):
    statements = selectors.contributions_of(call)

    # Alpha: 50 % × 3/4 + 50 % × 2/3 = 17/24 of 100 000,01 €.
    alpha, bravo = statements[world.member_a], statements[world.member_b]
    assert alpha.mutualised + bravo.mutualised == Decimal("100000.01")
    assert alpha.mutualised == Decimal("70833.34")
    assert [(line.label, line.amount) for line in alpha.personalised] == [("Courrier", Decimal("1200.00"))]
    assert alpha.total == Decimal("72033.34")


def test_it_refuses_a_key_whose_weights_do_not_sum_to_100(world):
    with pytest.raises(ValidationError, match="totalisent 90 %"):
        services.contribution_key_create(
            actor=world.admin, slug="bancale", name="Bancale", population_weight=Decimal(60), agents_weight=Decimal(30)
        )
    assert not ContributionKey.objects.exists()


def test_it_refuses_a_call_when_a_member_has_no_population_and_the_key_needs_it(world, budget):
    world.member_b.population = None
    world.member_b.save()
    key = services.contribution_key_create(
        actor=world.admin, slug="pop", name="Population", population_weight=Decimal(100)
    )
    before = AuditEntry.objects.count()

    with pytest.raises(ValidationError, match="Bravo : la population non renseigné"):
        services.contribution_call_create(
            actor=world.admin,
            budget_year=BudgetYear.objects.create(budget=budget, year=2024),
            label="Participations 2024",
            mutualised_amount=Decimal(1000),
            key=key,
        )

    assert not ContributionCall.objects.exists()
    assert AuditEntry.objects.count() == before


def test_it_refuses_writes_from_member_accounts(world):
    from django.http import Http404

    with pytest.raises(Http404):
        services.contribution_key_create(actor=world.manager_a, slug="k", name="K", population_weight=Decimal(100))


def test_it_shows_a_member_only_its_own_statement(client, world, call):
    client.force_login(world.manager_a)

    page = client.get(reverse("finance:contributions", args=[2024])).content.decode()
    foreign = client.get(reverse("finance:statement", args=[2024, "bravo"]))

    assert "Alpha" in page and "Bravo" not in page
    assert foreign.status_code == 404


def test_it_serves_the_statement_as_csv_and_pdf(client, world, call):
    client.force_login(world.staff)

    csv = client.get(reverse("finance:statement_csv", args=[2024, "alpha"])).content.decode("utf-8-sig")
    pdf = client.get(reverse("finance:statement_pdf", args=[2024, "alpha"]))

    assert csv.splitlines() == [
        "nature;application;montant",
        "part mutualisée;;70833,34",
        "part personnalisée;Courrier;1200,00",
        "total;;72033,34",
    ]
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")


def test_it_shows_the_amounts_the_french_way(client, world, call):
    client.force_login(world.staff)

    page = client.get(reverse("finance:statement", args=[2024, "alpha"])).content.decode()

    assert "72\u202f033,34\u00a0€" in page
