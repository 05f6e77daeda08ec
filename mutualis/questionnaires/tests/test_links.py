"""The helpdesk's pages link here by URL name only (it imports nothing of this app above it): the
member's « Nouvelle demande » button and the configuration's link to the builder."""

import pytest
from django.urls import reverse

from mutualis.testing.factories import PASSWORD

pytestmark = pytest.mark.django_db


def page(client, user, name):
    assert client.login(username=user.username, password=PASSWORD)
    response = client.get(reverse(name))
    assert response.status_code == 200
    return response.content.decode()


def test_it_is_offered_on_the_members_helpdesk_page(client, world):
    assert f'href="{reverse("questionnaires:catalogue")}"' in page(client, world.agent_a, "helpdesk:index")


def test_it_is_not_offered_to_a_read_only_account(client, world):
    assert reverse("questionnaires:catalogue") not in page(client, world.elected_a, "helpdesk:index")


def test_it_links_the_builder_from_the_helpdesk_configuration(client, world):
    assert f'href="{reverse("questionnaires:manage_list")}"' in page(client, world.staff, "helpdesk:config")
