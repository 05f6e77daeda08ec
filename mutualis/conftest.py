"""Fixtures shared by every app: an operator, two members (A and B), an account of each role."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from django.conf import settings
from django.core.cache import cache
from django.utils import translation
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from mutualis.accounts.models import Role, User
from mutualis.members.models import Organisation
from mutualis.testing import factories as f

# Property tests run beside others on shared cores (`make test` is `pytest -n 2`): the time
# Hypothesis takes to generate an example measures the machine, not the code, so neither a
# per-example deadline nor the "too slow" health check may fail a run. What each property checks,
# and how many examples it draws, stay as each test sets them.
hypothesis_settings.register_profile(
    "mutualis", deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]
)
hypothesis_settings.load_profile("mutualis")


@dataclass
class World:
    operator: Organisation
    member_a: Organisation
    member_b: Organisation
    admin: User
    staff: User
    manager_a: User
    agent_a: User
    elected_a: User
    manager_b: User

    def by_role(self) -> dict[str, User]:
        return {
            "operator_admin": self.admin,
            "operator_staff": self.staff,
            "member_manager": self.manager_a,
            "member_agent": self.agent_a,
            "elected": self.elected_a,
        }


@pytest.fixture(autouse=True)
def _clear_cache() -> Iterator[None]:
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _default_language() -> Iterator[None]:
    # A request in English leaves English active on the thread (LocaleMiddleware does not reset
    # it): each test starts, and leaves, in the default language.
    with translation.override(settings.LANGUAGE_CODE):
        yield


@pytest.fixture
def world(db: None) -> World:
    operator = f.OperatorFactory.create()
    service = f.OperatorServiceFactory.create(
        organisation=operator, slug="relations-adherents", name="Relations adhérents"
    )
    member_a = f.OrganisationFactory.create(name="Alpha", slug="alpha")
    member_b = f.OrganisationFactory.create(name="Bravo", slug="bravo")
    return World(
        operator=operator,
        member_a=member_a,
        member_b=member_b,
        admin=f.UserFactory.create(username="admin", role=Role.OPERATOR_ADMIN, organisation=operator),
        staff=f.UserFactory.create(username="staff", role=Role.OPERATOR_STAFF, organisation=operator, service=service),
        manager_a=f.UserFactory.create(username="manager-a", role=Role.MEMBER_MANAGER, organisation=member_a),
        agent_a=f.UserFactory.create(username="agent-a", role=Role.MEMBER_AGENT, organisation=member_a),
        elected_a=f.UserFactory.create(username="elected-a", role=Role.ELECTED, organisation=member_a),
        manager_b=f.UserFactory.create(username="manager-b", role=Role.MEMBER_MANAGER, organisation=member_b),
    )
