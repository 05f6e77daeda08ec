"""Members pages: list, one member, edits and contacts; tenancy and flat query counts."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from mutualis.core.models import AuditAction, AuditEntry
from mutualis.members.models import Contact
from mutualis.testing import factories as f

pytestmark = pytest.mark.django_db


def count_queries(client, url):
    client.get(url)  # the first request fills the operator-label cache
    with CaptureQueriesContext(connection) as context:
        response = client.get(url)
    assert response.status_code == 200
    return len(context.captured_queries)


def populate(world, *, members, per_member):
    """More members, each with contacts, subscriptions and a current mandate."""
    orgs = [world.member_a, *[f.OrganisationFactory() for _ in range(members)]]
    apps = [f.ApplicationFactory() for _ in range(per_member)]
    body = f.BodyFactory()
    for org in orgs:
        for app in apps:
            f.SubscriptionFactory(collectivity=org, application=app)
            f.ContactFactory(organisation=org)
        f.MandateFactory(organisation=org, body=body, commission_led=f.BodyFactory(kind="commission"))


@pytest.mark.parametrize("who", ["staff", "manager_a"])
@pytest.mark.parametrize("page", ["members:list", "members:detail"])
def test_it_keeps_member_page_query_counts_flat_as_data_grows(client, world, who, page, django_assert_num_queries):
    client.force_login(getattr(world, who))
    url = reverse(page, kwargs={"slug": "alpha"} if page == "members:detail" else None)
    populate(world, members=2, per_member=1)
    small = count_queries(client, url)
    # Up to six for the page, one for the notices' banner on every page, one for the member's
    # notices panel on its page (members.detail, filled by the notices app).
    assert small <= 8

    populate(world, members=25, per_member=8)
    client.get(url)
    with django_assert_num_queries(small):
        client.get(url)


def test_it_lists_every_collectivity_to_operator_staff(client, world):
    f.OrganisationFactory(name="Ancienne", left_on=dt.date(2020, 1, 1))
    client.force_login(world.staff)
    response = client.get(reverse("members:list"))
    assert [o.name for o in response.context["collectivities"]] == ["Alpha", "Ancienne", "Bravo"]
    assert response.context["operator"] == world.operator


def test_it_lists_only_their_own_organisation_to_a_member(client, world):
    client.force_login(world.agent_a)
    response = client.get(reverse("members:list"))
    assert [o.slug for o in response.context["collectivities"]] == ["alpha"]
    assert response.context["operator"] is None


def test_it_answers_404_for_another_members_page(client, world):
    client.force_login(world.manager_a)
    assert client.get(reverse("members:detail", kwargs={"slug": "bravo"})).status_code == 404
    assert client.get(reverse("members:edit", kwargs={"slug": "bravo"})).status_code == 404


def test_it_lets_a_manager_edit_their_organisation_through_the_page(client, world):
    client.force_login(world.manager_a)
    url = reverse("members:edit", kwargs={"slug": "alpha"})
    response = client.get(url)
    assert set(response.context["form"].fields) == {"website", "agents_count", "notes"}

    response = client.post(url, {"website": "https://alpha.fr", "agents_count": "250", "notes": "", "name": "Pirate"})

    assert response.status_code == 302
    world.member_a.refresh_from_db()
    assert (world.member_a.agents_count, world.member_a.name) == (250, "Alpha")
    assert AuditEntry.objects.get(action=AuditAction.UPDATE).actor == world.manager_a


def test_it_shows_a_service_error_on_the_edit_page_and_keeps_the_row(client, world):
    client.force_login(world.staff)
    url = reverse("members:edit", kwargs={"slug": "alpha"})
    data = {"name": "Alpha", "kind": "commune", "insee_code": "XYZ12", "siren": world.member_a.siren}

    response = client.post(url, data)

    assert response.status_code == 200
    assert "code INSEE" in str(response.context["form"].errors["insee_code"])
    world.member_a.refresh_from_db()
    assert world.member_a.insee_code != "XYZ12"
    assert not AuditEntry.objects.exclude(action=AuditAction.LOGIN).exists()


def test_it_answers_403_to_an_elected_official_on_the_edit_page(client, world):
    client.force_login(world.elected_a)
    assert client.get(reverse("members:edit", kwargs={"slug": "alpha"})).status_code == 403


def test_it_adds_and_deletes_a_contact_through_the_page(client, world):
    client.force_login(world.manager_a)
    add = reverse("members:contact_add", kwargs={"slug": "alpha"})

    response = client.post(add, {"full_name": "Camille Martin", "role": "dsi", "function": "DSI"})

    assert response.status_code == 302
    contact = Contact.objects.get(organisation=world.member_a)
    response = client.post(reverse("members:contact_delete", kwargs={"slug": "alpha", "pk": contact.pk}))
    assert response.status_code == 302
    assert not Contact.objects.exists()
    actions = AuditEntry.objects.exclude(action=AuditAction.LOGIN).order_by("id").values_list("action", flat=True)
    assert list(actions) == ["create", "delete"]


def test_it_answers_404_when_deleting_another_members_contact(client, world):
    contact = f.ContactFactory(organisation=world.member_b)
    client.force_login(world.manager_a)
    response = client.post(reverse("members:contact_delete", kwargs={"slug": "bravo", "pk": contact.pk}))
    assert response.status_code == 404
    response = client.post(reverse("members:contact_delete", kwargs={"slug": "alpha", "pk": contact.pk}))
    assert response.status_code == 404
    assert Contact.objects.filter(pk=contact.pk).exists()


def test_it_refuses_contact_writes_to_an_agent(client, world):
    client.force_login(world.agent_a)
    response = client.post(reverse("members:contact_add", kwargs={"slug": "alpha"}), {"full_name": "X", "role": "dsi"})
    assert response.status_code == 404
    assert not Contact.objects.exists()


def test_it_answers_404_to_members_on_the_create_page(client, world):
    client.force_login(world.manager_a)
    assert client.get(reverse("members:create")).status_code == 404
