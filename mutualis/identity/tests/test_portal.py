"""The agent portal: my collectivity's applications and the helpdesk's shortcuts."""

from django.urls import reverse

from mutualis.catalog.models import SubscriptionStatus
from mutualis.testing import factories as f


def test_it_lists_my_collectivitys_applications_and_the_helpdesk_shortcuts(client, world):
    mine = f.ApplicationFactory(name="Courrier", url="https://courrier.example.org/")
    f.SubscriptionFactory(collectivity=world.member_a, application=mine, status=SubscriptionStatus.PRODUCTION)
    other = f.ApplicationFactory(name="Cimetières")
    f.SubscriptionFactory(collectivity=world.member_b, application=other, status=SubscriptionStatus.PRODUCTION)
    client.force_login(world.agent_a)
    page = client.get(reverse("identity:portal")).content.decode()
    assert "Courrier" in page and 'href="https://courrier.example.org/"' in page
    assert "Cimetières" not in page
    assert f'href="{reverse("questionnaires:catalogue")}"' in page
    assert f'href="{reverse("helpdesk:index")}"' in page
