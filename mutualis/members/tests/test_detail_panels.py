"""A member's page and the members list take their subscriptions and seats from the apps above
(catalog, governance) through the hooks members defines: same page as before."""

import pytest
from django.urls import reverse

from mutualis.catalog.models import SubscriptionStatus
from mutualis.testing import factories as f

pytestmark = pytest.mark.django_db


def test_it_shows_subscriptions_then_contacts_then_seats_on_a_member_page(client, world):
    f.SubscriptionFactory(collectivity=world.member_a, application=f.ApplicationFactory(name="Publik"))
    f.ContactFactory(organisation=world.member_a, full_name="Claire Durand")
    f.MandateFactory(organisation=world.member_a, body=f.BodyFactory(name="Comité syndical"))
    client.force_login(world.staff)

    page = client.get(reverse("members:detail", kwargs={"slug": "alpha"})).content.decode()

    headings = ["<h2>Abonnements (1)</h2>", "<h2>Contacts</h2>", "<h2>Sièges dans les instances</h2>"]
    positions = [page.index(heading) for heading in headings]
    assert positions == sorted(positions)
    assert "Publik" in page and "Durand" in page and "Comité syndical" in page


def test_it_counts_active_subscriptions_per_member_and_in_total_on_the_list(client, world):
    for status in (SubscriptionStatus.PRODUCTION, SubscriptionStatus.DEPLOYING, SubscriptionStatus.WITHDRAWN):
        f.SubscriptionFactory(collectivity=world.member_a, application=f.ApplicationFactory(), status=status)
    f.SubscriptionFactory(collectivity=world.member_b, application=f.ApplicationFactory())
    client.force_login(world.staff)

    response = client.get(reverse("members:list"))

    (members,) = [group for group in response.context["groups"] if group["key"] == "members"]
    assert [(c.slug, c.figures) for c in members["rows"]] == [("alpha", [2]), ("bravo", [1])]
    assert members["totals"]["figures"] == [3]
    assert '<th scope="col" class="num">Applications</th>' in response.content.decode()
