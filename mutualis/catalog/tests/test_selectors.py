"""The deployment matrix: cells, row and column totals, filters and tenancy."""

import datetime as dt

import pytest

from mutualis.catalog.models import Licence, SubscriptionStatus
from mutualis.catalog.selectors import deployment_matrix
from mutualis.members.models import OrganisationKind
from mutualis.testing import factories as f

pytestmark = pytest.mark.django_db

P, D, PL, W = (
    SubscriptionStatus.PRODUCTION,
    SubscriptionStatus.DEPLOYING,
    SubscriptionStatus.PLANNED,
    SubscriptionStatus.WITHDRAWN,
)


@pytest.fixture
def catalogue(world):
    """Two domains, three applications, three members (Alpha, Bravo, Charlie) with mixed statuses."""
    charlie = f.OrganisationFactory(name="Charlie", slug="charlie")
    f.OrganisationFactory(name="Ancienne", slug="ancienne", left_on=dt.date(2020, 1, 1))
    f.OrganisationFactory(name="Partenaire", slug="partenaire", kind=OrganisationKind.PARTNER)
    rh = f.DomainFactory(slug="rh", name="Ressources humaines", position=2)
    citizens = f.DomainFactory(slug="citoyens", name="Relation citoyens", position=1)
    paie = f.ApplicationFactory(slug="paie", name="Paie", domain=rh, position=1, licence=Licence.PROPRIETARY)
    conges = f.ApplicationFactory(slug="conges", name="Congés", domain=rh, position=2, licence=Licence.FREE)
    portail = f.ApplicationFactory(slug="portail", name="Portail", domain=citizens, position=1, licence=Licence.FREE)
    for member, application, status in [
        (world.member_a, paie, P),
        (world.member_b, paie, D),
        (charlie, paie, PL),
        (world.member_a, conges, W),
        (charlie, conges, P),
        (world.member_b, portail, P),
        (charlie, portail, P),
    ]:
        f.SubscriptionFactory(collectivity=member, application=application, status=status)
    return world


def table(matrix):
    return {row.application.slug: row.cells for _, row in matrix.rows()}


def test_it_builds_cells_and_totals_over_active_subscriptions(catalogue):
    matrix = deployment_matrix(actor=catalogue.staff)

    assert [m.slug for m in matrix.members] == ["alpha", "bravo", "charlie"]
    assert [(group.domain.slug, [row.application.slug for row in group.rows]) for group in matrix.groups] == [
        ("citoyens", ["portail"]),
        ("rh", ["paie", "conges"]),
    ]
    assert table(matrix) == {
        "portail": [None, P, P],
        "paie": [P, D, None],  # planned is not counted by default
        "conges": [None, None, P],  # withdrawn never is
    }
    assert [row.total for _, row in matrix.rows()] == [2, 2, 1]
    assert matrix.column_totals == [1, 2, 2]
    assert matrix.total == 5
    assert matrix.row_count == 3


def test_it_leaves_out_former_members_and_partners(catalogue):
    matrix = deployment_matrix(actor=catalogue.admin)
    assert "ancienne" not in [m.slug for m in matrix.all_members]
    assert "partenaire" not in [m.slug for m in matrix.all_members]


def test_it_counts_every_live_status_with_all(catalogue):
    matrix = deployment_matrix(actor=catalogue.staff, status="all")
    assert table(matrix)["paie"] == [P, D, PL]
    assert table(matrix)["conges"] == [None, None, P]
    assert matrix.column_totals == [1, 2, 3]


def test_it_filters_on_one_status(catalogue):
    matrix = deployment_matrix(actor=catalogue.staff, status=SubscriptionStatus.PLANNED)
    assert table(matrix) == {"portail": [None, None, None], "paie": [None, None, PL], "conges": [None, None, None]}
    assert matrix.total == 1


def test_it_refuses_an_unknown_status(catalogue):
    with pytest.raises(ValueError, match="statut inconnu"):
        deployment_matrix(actor=catalogue.staff, status="deleted")


def test_it_filters_on_a_domain(catalogue):
    matrix = deployment_matrix(actor=catalogue.staff, domain="rh")
    assert list(table(matrix)) == ["paie", "conges"]
    assert matrix.column_totals == [1, 1, 1]
    assert [m.slug for m in matrix.members] == ["alpha", "bravo", "charlie"]


def test_it_filters_on_a_licence(catalogue):
    matrix = deployment_matrix(actor=catalogue.staff, licence=Licence.FREE)
    assert list(table(matrix)) == ["portail", "conges"]
    assert matrix.column_totals == [0, 1, 2]


def test_it_filters_on_chosen_members(catalogue):
    matrix = deployment_matrix(actor=catalogue.staff, members=["charlie", "alpha"])
    assert [m.slug for m in matrix.members] == ["alpha", "charlie"]
    assert table(matrix) == {"portail": [None, P], "paie": [P, None], "conges": [None, P]}
    assert matrix.column_totals == [1, 2]
    assert [row.total for _, row in matrix.rows()] == [1, 1, 1]
    assert len(matrix.all_members) == 3


def test_it_filters_on_a_search(catalogue):
    matrix = deployment_matrix(actor=catalogue.staff, search="cong")
    assert list(table(matrix)) == ["conges"]
    assert matrix.column_totals == [0, 0, 1]


@pytest.mark.parametrize("who", ["manager_a", "agent_a", "elected_a"])
def test_it_shows_a_member_account_its_own_column_only(catalogue, who):
    matrix = deployment_matrix(actor=getattr(catalogue, who))
    assert [m.slug for m in matrix.members] == ["alpha"]
    assert [m.slug for m in matrix.all_members] == ["alpha"]
    assert table(matrix) == {"portail": [None], "paie": [P], "conges": [None]}
    assert matrix.column_totals == [1]


def test_it_ignores_another_member_asked_for_by_a_member_account(catalogue):
    matrix = deployment_matrix(actor=catalogue.manager_a, members=["bravo"])
    assert matrix.members == []
    assert matrix.total == 0
