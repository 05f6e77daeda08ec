"""Page panels: a lower app's page shows what the apps above registered in its slot, in order,
so it never imports them (docs/architecture.md, "Layers")."""

import pytest
from django.urls import reverse

from mutualis.core import panels
from mutualis.core.panels import panel_register, panels_render
from mutualis.testing import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def slot():
    yield "test.slot"
    panels._slots.pop("test.slot", None)


def test_it_renders_a_slots_panels_lowest_order_first(rf, world, slot):
    panel_register(slot, order=20, template="catalog/panels/home_commitments.html", context=lambda r: {})
    panel_register(slot, order=10, template="members/panels/home_card.html", context=lambda r: {"member_count": 7})
    request = rf.get("/")
    request.user = world.staff

    first, second = panels_render(slot, request)

    assert '<p class="figure">7</p>' in first and "Adhérents" in first  # the request's user is an operator
    assert "Engagements de service" in second


def test_it_replaces_a_template_registered_again(rf, world, slot):
    template = "members/panels/home_card.html"
    panel_register(slot, order=10, template=template, context=lambda r: {"member_count": 1})
    panel_register(slot, order=10, template=template, context=lambda r: {"member_count": 2})
    request = rf.get("/")
    request.user = world.staff

    (only,) = panels_render(slot, request)

    assert '<p class="figure">2</p>' in only


def test_it_shows_the_members_then_the_catalogues_figures_and_commitments_on_the_home_page(client, world):
    f.SubscriptionFactory(collectivity=world.member_a, application=f.ApplicationFactory())
    f.ServiceCommitmentFactory(name="Rappel sous 4 heures")
    client.force_login(world.staff)

    page = client.get(reverse("core:home")).content.decode()

    order = ["Adhérents</a>", "Applications au catalogue</a>", "Abonnements</a>", "Engagements de service"]
    positions = [page.index(text) for text in order]
    assert positions == sorted(positions)
    assert "Rappel sous 4 heures" in page


def test_it_renders_a_panel_only_to_the_accounts_its_predicate_accepts(rf, world, slot):
    computed = []

    def context(request):
        computed.append(request.user.username)
        return {"member_count": 3}

    only_staff = lambda request: request.user.role == "operator_staff"  # noqa: E731
    panel_register(slot, order=10, template="members/panels/home_card.html", context=context, visible=only_staff)
    request = rf.get("/")
    request.user = world.staff
    assert len(panels_render(slot, request)) == 1
    request.user = world.manager_a
    assert panels_render(slot, request) == []
    assert computed == ["staff"]  # the context is not even computed for an account that does not see it
