"""The satisfaction survey: a signed, expiring, single-use link answered without logging in."""

import time

import pytest
from django.core import signing

from mutualis.helpdesk import services
from mutualis.helpdesk.enums import Action
from mutualis.helpdesk.survey import SALT, SurveyLinkError, survey_ticket, survey_token, survey_url

pytestmark = pytest.mark.django_db


def closed_ticket(world):
    ticket = services.ticket_create(
        actor=world.agent_a,
        collectivity=world.member_a,
        requester=None,
        ticket_type="request",
        title="Compte",
        description="Créer un compte",
    )
    services.ticket_transition(actor=world.staff, ticket=ticket, action=Action.SOLVE, comment="fait")
    services.ticket_transition(actor=world.agent_a, ticket=ticket, action=Action.ACCEPT)
    ticket.refresh_from_db()
    return ticket


def path_of(ticket):
    return f"/assistance/enquete/{survey_token(ticket)}/"


def test_it_builds_an_absolute_link_for_the_closure_mail(world, settings):
    settings.MUTUALIS_BASE_URL = "https://mutualis.example"
    ticket = closed_ticket(world)
    url = survey_url(ticket)
    assert url.startswith("https://mutualis.example/assistance/enquete/")
    assert survey_ticket(url.rsplit("/", 2)[1]) == ticket


def test_it_records_an_answer_without_logging_in(client, world):
    ticket = closed_ticket(world)
    page = client.get(path_of(ticket))
    assert page.status_code == 200
    assert ticket.reference in page.content.decode()
    response = client.post(path_of(ticket), {"rating": "4", "comment": "Rapide <b>merci</b>"})
    assert response.status_code == 200
    assert "Merci pour votre avis" in response.content.decode()
    ticket.refresh_from_db()
    assert (ticket.satisfaction, ticket.satisfaction_comment) == (4, "Rapide <b>merci</b>")


def test_it_refuses_a_second_answer_with_the_same_link(client, world):
    ticket = closed_ticket(world)
    client.post(path_of(ticket), {"rating": "5"})
    for response in (client.get(path_of(ticket)), client.post(path_of(ticket), {"rating": "1"})):
        assert response.status_code == 409
        assert "déjà répondu" in response.content.decode()
    ticket.refresh_from_db()
    assert ticket.satisfaction == 5


def test_it_refuses_an_expired_link(client, world, settings, monkeypatch):
    settings.HELPDESK_SURVEY_DAYS = 30
    ticket = closed_ticket(world)
    token = survey_token(ticket)
    later = time.time() + 31 * 86400
    monkeypatch.setattr(signing.time, "time", lambda: later)
    with pytest.raises(SurveyLinkError) as error:
        survey_ticket(token)
    assert error.value.kind == "expired"
    response = client.post(f"/assistance/enquete/{token}/", {"rating": "3"})
    assert response.status_code == 410
    assert "expiré" in response.content.decode()
    ticket.refresh_from_db()
    assert ticket.satisfaction is None


def test_it_accepts_a_link_within_its_validity(world, settings, monkeypatch):
    settings.HELPDESK_SURVEY_DAYS = 30
    ticket = closed_ticket(world)
    token = survey_token(ticket)
    later = time.time() + 29 * 86400
    monkeypatch.setattr(signing.time, "time", lambda: later)
    assert survey_ticket(token) == ticket


@pytest.mark.parametrize("tamper", ["reference", "signature", "salt"])
def test_it_refuses_a_tampered_link(client, world, tamper):
    ticket = closed_ticket(world)
    other = closed_ticket(world)
    token = survey_token(ticket)
    if tamper == "reference":
        token = token.replace(ticket.reference, other.reference)
    elif tamper == "signature":
        token = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    else:
        token = signing.TimestampSigner(salt="autre-chose").sign(ticket.reference)
    response = client.post(f"/assistance/enquete/{token}/", {"rating": "1"})
    assert response.status_code == 400
    assert "n'est pas valide" in response.content.decode()
    assert not type(ticket).objects.filter(satisfaction__isnull=False).exists()


def test_it_waits_for_the_closure_before_taking_an_answer(client, world):
    ticket = services.ticket_create(
        actor=world.agent_a,
        collectivity=world.member_a,
        requester=None,
        ticket_type="request",
        title="Compte",
        description="Créer un compte",
    )
    response = client.post(path_of(ticket), {"rating": "5"})
    assert response.status_code == 409
    assert "n'est pas close" in response.content.decode()
    ticket.refresh_from_db()
    assert ticket.satisfaction is None


def test_it_requires_a_rating_between_1_and_5(client, world):
    ticket = closed_ticket(world)
    response = client.post(path_of(ticket), {"rating": "9"})
    assert response.status_code == 200
    assert 'role="alert"' in response.content.decode()
    ticket.refresh_from_db()
    assert ticket.satisfaction is None


def test_it_signs_with_its_own_salt(world):
    ticket = closed_ticket(world)
    assert signing.TimestampSigner(salt=SALT).unsign(survey_token(ticket)) == ticket.reference
