"""A request form is offered to fill in only to those who may file it: the page and the filing ask
the same question (`form_services.may_submit`)."""

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from mutualis.helpdesk import form_services
from mutualis.helpdesk.models import Ticket
from mutualis.helpdesk.tests.forms_helpers import build_form
from mutualis.testing.crawl import forms_of

pytestmark = pytest.mark.django_db


def fill_url(form):
    return reverse("helpdesk:form_fill", kwargs={"slug": form.slug})


@pytest.mark.parametrize(
    ("who", "may"), [("agent_a", True), ("manager_a", True), ("elected_a", False), ("staff", False)]
)
def test_it_asks_one_rule_who_may_file_a_request(world, who, may):
    assert form_services.may_submit(getattr(world, who)) is may


@pytest.mark.parametrize("who", ["elected_a", "staff"])
def test_it_shows_the_form_to_read_without_a_form_to_submit(client, world, who):
    form = build_form(world)
    client.force_login(getattr(world, who))

    page = client.get(fill_url(form)).content.decode()

    assert [f for f in forms_of(page, fill_url(form)) if f.action.endswith(fill_url(form))] == []
    assert "Envoyer la demande" not in page
    assert "<div inert>" in page


@pytest.mark.parametrize("who", ["elected_a", "staff"])
def test_it_refuses_a_filing_it_did_not_offer(client, world, who):
    form = build_form(world)
    client.force_login(getattr(world, who))

    response = client.post(fill_url(form), {"resume": "Plus d'impression", "bloquant": "Non"})

    assert response.status_code == 403
    assert not Ticket.objects.exists()
    with pytest.raises(PermissionDenied):
        form_services.form_submit(actor=getattr(world, who), form=form, answers={"resume": "x", "bloquant": "Non"})


def test_it_offers_the_form_to_a_members_agent(client, world):
    form = build_form(world)
    client.force_login(world.agent_a)
    page = client.get(fill_url(form)).content.decode()
    offered = [f for f in forms_of(page, fill_url(form)) if f.action.endswith(fill_url(form))]
    assert [f.method for f in offered] == ["post"]
