"""Catalogue pages: list, application page, matrix page; their query counts do not grow with data."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from mutualis.catalog.models import Application, Licence, SourceConfidence, Subscription, SubscriptionStatus
from mutualis.members.models import Organisation
from mutualis.testing import factories as f

pytestmark = pytest.mark.django_db


def grow(world, *, members, applications):
    """Bring the catalogue to `members` × `applications`, every member subscribed to most of them."""
    orgs = [world.member_a, world.member_b]
    orgs += [f.OrganisationFactory() for _ in range(members - len(orgs))]
    service = f.OperatorServiceFactory(organisation=world.operator)
    domains = [f.DomainFactory() for _ in range(max(1, applications // 5))]
    apps = [
        f.ApplicationFactory(
            domain=domains[i % len(domains)],
            vendor=f.VendorFactory(),
            support_group=service,
            source_confidence=SourceConfidence.INFERRED if i % 3 == 0 else SourceConfidence.CERTAIN,
        )
        for i in range(applications)
    ]
    statuses = list(SubscriptionStatus.values)
    for i, org in enumerate(orgs):
        for j, app in enumerate(apps):
            if (i + j) % 4:
                f.SubscriptionFactory(collectivity=org, application=app, status=statuses[(i + j) % len(statuses)])
    f.ServiceCommitmentFactory()
    return apps


def count_queries(client, url, *, at_most=None):
    """Queries of one request once the operator-label cache is warm (the first request fills it)."""
    client.get(url)
    with CaptureQueriesContext(connection) as context:
        response = client.get(url)
    assert response.status_code == 200
    if at_most is not None:
        assert len(context.captured_queries) <= at_most, [q["sql"] for q in context.captured_queries]
    return len(context.captured_queries)


def test_it_draws_the_matrix_in_seven_queries_whatever_the_size(client, world, django_assert_num_queries):
    client.force_login(world.staff)
    grow(world, members=3, applications=3)
    # Six for the page, one for the notices' banner every page reads (notices.context_processors).
    small = count_queries(client, reverse("catalog:matrix"), at_most=7)

    grow(world, members=29, applications=17)  # 27 more members, 17 more applications: 30 × 20
    assert (Organisation.objects.members().count(), Application.objects.count()) == (30, 20)
    client.get(reverse("catalog:matrix"))
    with django_assert_num_queries(small):
        client.get(reverse("catalog:matrix"))


@pytest.mark.parametrize(
    "page",
    [
        lambda apps: reverse("catalog:list"),
        lambda apps: reverse("catalog:list") + "?licence=inconnue&q=App",
        lambda apps: reverse("catalog:detail", kwargs={"slug": apps[0].slug}),
        lambda apps: reverse("catalog:matrix") + "?statut=all&adherent=alpha&adherent=bravo",
    ],
    ids=["list", "list-filtered", "application", "matrix-filtered"],
)
@pytest.mark.parametrize("who", ["staff", "manager_a"])
def test_it_keeps_catalogue_query_counts_flat_as_data_grows(client, world, page, who):
    client.force_login(getattr(world, who))
    apps = grow(world, members=3, applications=3)
    small = count_queries(client, page(apps))
    grow(world, members=25, applications=15)
    assert count_queries(client, page(apps)) == small


def test_it_shows_every_member_column_to_operator_staff(client, world):
    f.SubscriptionFactory(collectivity=world.member_b, application=f.ApplicationFactory(name="Paie"))
    client.force_login(world.staff)
    response = client.get(reverse("catalog:matrix"))
    assert [m.slug for m in response.context["matrix"].members] == ["alpha", "bravo"]
    assert response.context["matrix"].total == 1


def test_it_shows_a_member_only_its_own_column(client, world):
    f.SubscriptionFactory(collectivity=world.member_b, application=f.ApplicationFactory(name="Paie"))
    client.force_login(world.manager_a)
    response = client.get(reverse("catalog:matrix"))
    assert [m.slug for m in response.context["matrix"].members] == ["alpha"]
    assert response.context["matrix"].total == 0
    assert "Bravo" not in response.content.decode()


def test_it_returns_only_the_matrix_fragment_to_htmx(client, world):
    f.ApplicationFactory(name="Paie")
    client.force_login(world.staff)
    full = client.get(reverse("catalog:matrix"))
    fragment = client.get(reverse("catalog:matrix"), headers={"HX-Request": "true"})
    assert [t.name for t in fragment.templates][0] == "catalog/includes/_matrix.html"
    assert "<html" in full.content.decode() and "<html" not in fragment.content.decode()
    assert "Paie" in fragment.content.decode()


def test_it_ignores_an_unknown_status_or_licence_in_the_matrix_query(client, world):
    f.SubscriptionFactory(collectivity=world.member_a)
    client.force_login(world.staff)
    response = client.get(reverse("catalog:matrix") + "?statut=bogus&licence=bogus")
    assert response.status_code == 200
    assert response.context["matrix"].total == 1


def test_it_counts_only_visible_members_in_the_catalogue(client, world):
    app = f.ApplicationFactory(licence=Licence.FREE)
    f.SubscriptionFactory(collectivity=world.member_a, application=app)
    f.SubscriptionFactory(collectivity=world.member_b, application=app)
    client.force_login(world.manager_a)
    [listed] = client.get(reverse("catalog:list")).context["applications"]
    assert listed.member_count == 1
    client.force_login(world.staff)
    [listed] = client.get(reverse("catalog:list")).context["applications"]
    assert listed.member_count == 2


def test_it_shows_a_member_only_its_own_subscriptions_on_an_application_page(client, world):
    app = f.ApplicationFactory()
    f.SubscriptionFactory(collectivity=world.member_a, application=app)
    f.SubscriptionFactory(collectivity=world.member_b, application=app)
    client.force_login(world.manager_a)
    response = client.get(reverse("catalog:detail", kwargs={"slug": app.slug}))
    assert [s.collectivity.slug for s in response.context["subscriptions"]] == ["alpha"]
    assert response.context["can_write"] is False


def test_it_answers_404_for_an_unknown_application(client, world):
    client.force_login(world.staff)
    assert client.get(reverse("catalog:detail", kwargs={"slug": "nope"})).status_code == 404


@pytest.mark.parametrize("who", ["manager_a", "agent_a", "elected_a"])
def test_it_answers_404_to_members_on_catalogue_write_pages(client, world, who):
    app = f.ApplicationFactory()
    subscription = f.SubscriptionFactory(collectivity=world.member_a, application=app)
    client.force_login(getattr(world, who))
    for url in [
        reverse("catalog:create"),
        reverse("catalog:edit", kwargs={"slug": app.slug}),
        reverse("catalog:subscribe", kwargs={"slug": app.slug}),
        reverse("catalog:subscription_edit", kwargs={"pk": subscription.pk}),
    ]:
        assert client.get(url).status_code == 404, url
    response = client.post(reverse("catalog:subscribe", kwargs={"slug": app.slug}), {"collectivity": world.member_b.pk})
    assert response.status_code == 404
    assert Subscription.objects.count() == 1


def test_it_subscribes_through_the_page_and_shows_the_duplicate_message(client, world):
    app = f.ApplicationFactory(name="Paie")
    client.force_login(world.staff)
    url = reverse("catalog:subscribe", kwargs={"slug": app.slug})
    data = {"collectivity": world.member_a.pk, "status": "production"}

    assert client.post(url, data).status_code == 302
    response = client.post(url, data)

    assert response.status_code == 200
    assert "Alpha est déjà abonnée à Paie" in response.content.decode()
    assert Subscription.objects.count() == 1
