"""The forms' API router: published forms with their questions, and answers → ticket, with the
same checks as the web form. Mounted here on a throwaway API with the project's error handlers."""

import itertools

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from ninja import NinjaAPI
from ninja.testing import TestClient

from mutualis.helpdesk.models import Ticket
from mutualis.questionnaires.api import build_router
from mutualis.questionnaires.tests.helpers import build_questionnaire

pytestmark = pytest.mark.django_db
_names = itertools.count()


@pytest.fixture
def api():
    api = NinjaAPI(urls_namespace=f"forms-test-{next(_names)}")

    @api.exception_handler(ValidationError)
    def invalid(request, error):
        return api.create_response(request, {"errors": error.message_dict}, status=422)

    @api.exception_handler(Http404)
    def not_found(request, error):
        return api.create_response(request, {"detail": str(error)}, status=404)

    @api.exception_handler(PermissionDenied)
    def forbidden(request, error):
        return api.create_response(request, {"detail": str(error)}, status=403)

    api.add_router("/forms", build_router())
    return TestClient(api)


def test_it_lists_published_forms_with_their_questions_and_conditions(api, world):
    build_questionnaire(world)
    build_questionnaire(world, slug="brouillon", active=False)
    response = api.get("/forms/", user=world.agent_a)
    assert response.status_code == 200
    (questionnaire,) = response.json()
    assert questionnaire["slug"] == "incident" and questionnaire["category"] == "Incidents"
    assert [s["title"] for s in questionnaire["sections"]] == ["Incident", "Détails"]
    agents = questionnaire["sections"][0]["questions"][2]
    assert agents["key"] == "agents" and agents["condition"] == {"question": "bloquant", "value": "Oui"}
    assert questionnaire["sections"][0]["questions"][1]["choices"] == ["Oui", "Non"]
    assert api.get("/forms/incident", user=world.agent_a).json() == questionnaire
    assert api.get("/forms/brouillon", user=world.agent_a).status_code == 404


def test_it_creates_a_ticket_from_json_answers(api, world):
    build_questionnaire(world)
    response = api.post(
        "/forms/incident/submit",
        json={"answers": {"resume": "Imprimante", "bloquant": "Oui", "agents": 4}},
        user=world.agent_a,
    )
    assert response.status_code == 201, response.json()
    ticket = Ticket.objects.get()
    assert response.json() == {
        "reference": ticket.reference,
        "title": "Incident : Imprimante",
        "url": f"/assistance/tickets/{ticket.reference}/",
    }
    assert ticket.form_answers["answers"]["agents"] == 4


def test_it_reports_every_bad_answer_and_writes_nothing(api, world):
    build_questionnaire(world)
    response = api.post(
        "/forms/incident/submit", json={"answers": {"bloquant": "Oui", "depuis": "hier"}}, user=world.agent_a
    )
    assert response.status_code == 422
    assert set(response.json()["errors"]) == {"resume", "agents", "depuis"}
    assert not Ticket.objects.exists()


def test_it_refuses_a_submission_from_an_elected_official(api, world):
    build_questionnaire(world)
    response = api.post(
        "/forms/incident/submit", json={"answers": {"resume": "x", "bloquant": "Non"}}, user=world.elected_a
    )
    assert response.status_code == 403
    assert not Ticket.objects.exists()
