"""The accounts' consistency checks on the budget and results pages: operator admins only."""

import json

import pytest

from mutualis.accounts.models import Role, User
from mutualis.demo.loader import DEFAULT_FILE, demo_accounts, load_demo

pytestmark = pytest.mark.django_db

PAGES = ("/finances/budgets/principal/2022/", "/finances/budgets/principal/2022/resultats/")


@pytest.fixture
def accounts():
    load_demo()
    first: dict[str, User] = {}
    for account in demo_accounts(json.loads(DEFAULT_FILE.read_text(encoding="utf-8"))):
        first.setdefault(account.role, User.objects.get(username=account.username))
    return first


@pytest.mark.parametrize("role", [Role.OPERATOR_STAFF, Role.MEMBER_MANAGER, Role.ELECTED])
def test_it_keeps_the_source_gaps_off_other_users_pages(client, accounts, role):
    client.force_login(accounts[role])
    for url in PAGES:
        response = client.get(url)
        assert response.status_code == 200, url
        page = response.content.decode()
        assert "alertes-titre" not in page, url
        assert "tableaux de la source" not in page, url


def test_it_shows_the_accounts_checks_to_operator_admins(client, accounts):
    client.force_login(accounts[Role.OPERATOR_ADMIN])
    for url in PAGES:
        page = client.get(url).content.decode()
        assert "Contrôles de cohérence des comptes" in page, url
        assert "somme des chapitres contre le total imprimé" in page, url
        assert "Incohérences des sources" not in page, url
