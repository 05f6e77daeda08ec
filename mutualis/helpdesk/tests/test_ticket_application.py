"""A member's ticket names an application it subscribes to, or none: one rule in the services
(`ticket_create`, `ticket_update`), so the pages, the API, mail and the import cannot bypass it."""

import json

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from mutualis.catalog.models import SubscriptionStatus
from mutualis.helpdesk import services
from mutualis.helpdesk.enums import Action
from mutualis.helpdesk.forms_tickets import RequalifyForm
from mutualis.helpdesk.models import Ticket
from mutualis.testing import factories as f

pytestmark = pytest.mark.django_db

REFUSAL = "Alpha n'est pas abonnée à l'application « %s »"


@pytest.fixture
def apps(world):
    """Alpha: Paie in production, Voirie planned, Urbanisme withdrawn; Bravo: État civil."""
    made = {
        slug: f.ApplicationFactory(slug=slug, name=name)
        for slug, name in [("paie", "Paie"), ("voirie", "Voirie"), ("urbanisme", "Urbanisme"), ("ec", "État civil")]
    }
    f.SubscriptionFactory(collectivity=world.member_a, application=made["paie"])
    f.SubscriptionFactory(collectivity=world.member_a, application=made["voirie"], status=SubscriptionStatus.PLANNED)
    f.SubscriptionFactory(
        collectivity=world.member_a, application=made["urbanisme"], status=SubscriptionStatus.WITHDRAWN
    )
    f.SubscriptionFactory(collectivity=world.member_b, application=made["ec"])
    return made


def create(world, actor, application):
    return services.ticket_create(
        actor=actor,
        collectivity=world.member_a,
        requester=world.agent_a,
        ticket_type="incident",
        title="Panne",
        description="Rien ne marche",
        application=application,
    )


def test_it_files_a_ticket_on_a_subscribed_application_or_none(world, apps):
    assert create(world, world.agent_a, apps["paie"]).application == apps["paie"]
    assert create(world, world.agent_a, None).application is None


@pytest.mark.parametrize("slug", ["ec", "voirie", "urbanisme"], ids=["other-member", "planned", "withdrawn"])
@pytest.mark.parametrize("side", ["member", "staff"])
def test_it_refuses_an_application_the_collectivity_does_not_subscribe_to(world, apps, slug, side):
    actor = world.agent_a if side == "member" else world.staff

    with pytest.raises(ValidationError) as refused:
        create(world, actor, apps[slug])

    assert REFUSAL % apps[slug].name in " ".join(refused.value.message_dict["application"])
    assert not Ticket.objects.exists()


def test_it_answers_422_in_the_api_error_shape_for_a_foreign_application(client, world, apps):
    client.force_login(world.agent_a)

    response = client.post(
        "/api/v1/tickets/",
        json.dumps({"ticket_type": "incident", "title": "Panne", "description": "x", "application": "ec"}),
        content_type="application/json",
    )

    assert response.status_code == 422, response.content
    assert REFUSAL % "État civil" in " ".join(response.json()["errors"]["application"])
    assert not Ticket.objects.exists()


def test_it_refuses_a_requalification_to_an_unsubscribed_application(world, apps):
    ticket = create(world, world.agent_a, apps["paie"])

    with pytest.raises(ValidationError) as refused:
        services.ticket_update(actor=world.staff, ticket=ticket, data={"application": apps["ec"]})

    assert REFUSAL % "État civil" in " ".join(refused.value.message_dict["application"])
    ticket.refresh_from_db()
    assert ticket.application == apps["paie"]


def test_it_keeps_an_application_no_longer_subscribed_when_requalifying_other_fields(world, apps):
    ticket = create(world, world.agent_a, apps["paie"])
    world.member_a.subscriptions.filter(application=apps["paie"]).update(status=SubscriptionStatus.WITHDRAWN)

    changes = services.ticket_update(actor=world.staff, ticket=ticket, data={"application": apps["paie"], "urgency": 5})

    assert "urgency" in changes and "application" not in changes


def test_it_offers_the_staff_only_the_collectivitys_applications_when_requalifying(client, world, apps):
    ticket = create(world, world.agent_a, apps["paie"])
    client.force_login(world.staff)

    offered = {a.slug for a in RequalifyForm(ticket=ticket).fields["application"].queryset}
    page = client.get(reverse("helpdesk:ticket", kwargs={"reference": ticket.reference})).content.decode()
    posted = client.post(
        reverse("helpdesk:requalify", kwargs={"reference": ticket.reference}),
        {"title": "Panne", "ticket_type": "incident", "application": apps["ec"].pk, "urgency": 3, "impact": 3},
    )

    assert offered == {"paie"}
    assert "État civil" not in page
    assert posted.status_code in {200, 302}
    ticket.refresh_from_db()
    assert ticket.application == apps["paie"]


@pytest.mark.parametrize(
    ("status", "kept"), [(SubscriptionStatus.PRODUCTION, True), (SubscriptionStatus.WITHDRAWN, False)]
)
def test_it_files_a_linked_request_with_the_application_only_while_subscribed(client, world, apps, status, kept):
    ticket = create(world, world.agent_a, apps["paie"])
    services.ticket_assign(actor=world.staff, ticket=ticket, group=None, technician=world.staff)
    services.ticket_transition(actor=world.staff, ticket=ticket, action=Action.SOLVE, comment="Relancé.")
    services.ticket_transition(actor=world.agent_a, ticket=ticket, action=Action.ACCEPT)
    world.member_a.subscriptions.filter(application=apps["paie"]).update(status=status)
    client.force_login(world.agent_a)

    response = client.post(
        reverse("helpdesk:linked_create", args=[ticket.reference]), {"title": "Ça recommence", "description": "Idem"}
    )

    assert response.status_code == 302
    created = Ticket.objects.get(title="Ça recommence")
    assert created.application == (apps["paie"] if kept else None)
