"""A request form is offered to fill in only to those who may file it: the page and the filing ask
the same question (`questionnaires.services.may_submit`)."""

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from mutualis.helpdesk.models import Ticket
from mutualis.questionnaires import services
from mutualis.questionnaires.tests.helpers import build_questionnaire
from mutualis.testing.crawl import forms_of

pytestmark = pytest.mark.django_db


def fill_url(questionnaire):
    return reverse("questionnaires:fill", kwargs={"slug": questionnaire.slug})


@pytest.mark.parametrize(
    ("who", "may"), [("agent_a", True), ("manager_a", True), ("elected_a", False), ("staff", False)]
)
def test_it_asks_one_rule_who_may_file_a_request(world, who, may):
    assert services.may_submit(getattr(world, who)) is may


@pytest.mark.parametrize("who", ["elected_a", "staff"])
def test_it_shows_the_questionnaire_to_read_without_a_form_to_submit(client, world, who):
    questionnaire = build_questionnaire(world)
    client.force_login(getattr(world, who))

    page = client.get(fill_url(questionnaire)).content.decode()

    assert [f for f in forms_of(page, fill_url(questionnaire)) if f.action.endswith(fill_url(questionnaire))] == []
    assert "Envoyer la demande" not in page
    assert "<div inert>" in page


@pytest.mark.parametrize("who", ["elected_a", "staff"])
def test_it_refuses_a_filing_it_did_not_offer(client, world, who):
    questionnaire = build_questionnaire(world)
    client.force_login(getattr(world, who))

    response = client.post(fill_url(questionnaire), {"resume": "Plus d'impression", "bloquant": "Non"})

    assert response.status_code == 403
    assert not Ticket.objects.exists()
    with pytest.raises(PermissionDenied):
        services.questionnaire_submit(
            actor=getattr(world, who), questionnaire=questionnaire, answers={"resume": "x", "bloquant": "Non"}
        )


def test_it_offers_the_questionnaire_to_a_members_agent(client, world):
    questionnaire = build_questionnaire(world)
    client.force_login(world.agent_a)
    page = client.get(fill_url(questionnaire)).content.decode()
    offered = [f for f in forms_of(page, fill_url(questionnaire)) if f.action.endswith(fill_url(questionnaire))]
    assert [f.method for f in offered] == ["post"]
