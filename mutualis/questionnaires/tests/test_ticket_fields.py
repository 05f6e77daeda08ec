"""Request-form questions bound to ticket fields: the answers become the ticket's application,
blocking flag, urgency, impact and category before its service levels are computed, and the
application question offers only the member's subscriptions."""

import json

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from mutualis.catalog.models import SubscriptionStatus
from mutualis.helpdesk import services as ticket_services
from mutualis.helpdesk.models import Category, Ticket
from mutualis.questionnaires import services
from mutualis.questionnaires.forms import AnswerForm
from mutualis.questionnaires.models import Question
from mutualis.testing import factories as f
from mutualis.testing.factories import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def bound(world):
    """An incident form whose « Application » and « Bloqué ? » questions fill the ticket; Alpha
    subscribes to Paie (in production) and Voirie (only planned), Bravo to État civil."""
    apps = {
        slug: f.ApplicationFactory(slug=slug, name=name)
        for slug, name in [("paie", "Paie"), ("voirie", "Voirie"), ("etat-civil", "État civil")]
    }
    f.SubscriptionFactory(collectivity=world.member_a, application=apps["paie"])
    f.SubscriptionFactory(collectivity=world.member_a, application=apps["voirie"], status=SubscriptionStatus.PLANNED)
    f.SubscriptionFactory(collectivity=world.member_b, application=apps["etat-civil"])
    staff = world.staff
    questionnaire = services.questionnaire_create(
        actor=staff,
        data={"slug": "incident", "name": "Incident", "active": True, "ticket_type": "incident", "urgency": 3},
    )
    section = services.section_add(actor=staff, questionnaire=questionnaire, data={"title": "Incident"})
    add = services.question_add
    add(actor=staff, section=section, data={"key": "resume", "label": "Résumé", "kind": "text", "required": True})
    add(
        actor=staff,
        section=section,
        data={"key": "application", "label": "Application", "kind": "choice", "ticket_field": "application"},
    )
    blocking = add(
        actor=staff,
        section=section,
        data={
            "key": "bloque",
            "label": "Le travail est-il bloqué ?",
            "kind": "choice",
            "required": True,
            "ticket_field": "blocking",
        },
    )
    add(
        actor=staff,
        section=section,
        data={
            "key": "agents",
            "label": "Combien d'agents ?",
            "kind": "number",
            "condition_question": blocking,
            "condition_value": "Oui",
        },
    )
    return questionnaire, apps


def submit(world, questionnaire, **answers):
    return services.questionnaire_submit(
        actor=world.agent_a, questionnaire=questionnaire, answers={"resume": "Mandats", **answers}
    )


def test_it_makes_a_blocking_ticket_with_due_dates_and_the_chosen_application(world, bound):
    questionnaire, apps = bound

    ticket = submit(world, questionnaire, application="paie", bloque="Oui", agents=3)

    ticket.refresh_from_db()
    assert ticket.blocking is True
    assert ticket.application == apps["paie"]
    assert ticket.policy is not None and ticket.policy.blocking_only
    assert ticket.ttr_due_at is not None  # the blocking rule: solved within 2 working days
    # The answers keep what the member read: the application's name.
    assert ticket.form_answers["answers"]["application"] == "Paie"
    assert ticket.form_answers["answers"]["bloque"] == "Oui"


def test_it_makes_a_non_blocking_ticket_when_the_answer_is_no(world, bound):
    questionnaire, _apps = bound

    ticket = submit(world, questionnaire, bloque="Non")

    assert ticket.blocking is False
    assert ticket.application is None
    assert ticket.policy is None or not ticket.policy.blocking_only


def test_it_sets_urgency_impact_and_category_from_bound_answers(world):
    category = Category.objects.create(slug="reseau", name="Réseau", position=1)
    staff = world.staff
    questionnaire = services.questionnaire_create(
        actor=staff, data={"slug": "niveaux", "name": "Niveaux", "active": True, "ticket_type": "request"}
    )
    section = services.section_add(actor=staff, questionnaire=questionnaire, data={"title": "Niveaux"})
    for key in ("urgency", "impact", "category"):
        services.question_add(
            actor=staff, section=section, data={"key": key, "label": key, "kind": "choice", "ticket_field": key}
        )

    ticket = services.questionnaire_submit(
        actor=world.agent_a, questionnaire=questionnaire, answers={"urgency": "5", "impact": "4", "category": "reseau"}
    )

    assert (ticket.urgency, ticket.impact, ticket.category) == (5, 4, category)
    assert ticket.priority == ticket_services.priority_for(5, 4)


def test_it_offers_only_the_applications_the_member_subscribes_to(world, bound):
    questionnaire, _apps = bound
    questions = services.questions_of(questionnaire)

    alpha = AnswerForm(questions=questions, collectivity_id=world.member_a.pk)
    bravo = AnswerForm(questions=questions, collectivity_id=world.member_b.pk)

    assert [value for value, _label in alpha.fields["application"].choices if value] == ["paie"]
    assert [value for value, _label in bravo.fields["application"].choices if value] == ["etat-civil"]
    assert [value for value, _label in alpha.fields["bloque"].choices] == ["Oui", "Non"]


def test_it_offers_the_members_applications_on_the_page_and_over_the_api(client, world, bound):
    questionnaire, _apps = bound
    assert client.login(username=world.agent_a.username, password=PASSWORD)

    page = client.get(reverse("questionnaires:fill", kwargs={"slug": questionnaire.slug})).content.decode()
    api = client.get(f"/api/v1/forms/{questionnaire.slug}").json()

    assert 'value="paie"' in page and "Paie" in page
    assert 'value="etat-civil"' not in page and 'value="voirie"' not in page
    question = next(q for s in api["sections"] for q in s["questions"] if q["key"] == "application")
    assert question["ticket_field"] == "application"
    assert question["choices"] == ["paie"]
    assert question["options"] == [{"value": "paie", "label": "Paie"}]


@pytest.mark.parametrize("slug", ["etat-civil", "voirie", "inconnue"], ids=["other-member", "planned", "unknown"])
def test_it_refuses_an_application_the_member_does_not_subscribe_to(world, bound, slug):
    questionnaire, _apps = bound

    with pytest.raises(ValidationError) as refused:
        submit(world, questionnaire, application=slug, bloque="Non")

    message = " ".join(refused.value.message_dict["application"])
    assert f"« {slug} » n'est pas une application à laquelle votre collectivité est abonnée" in message
    assert not Ticket.objects.exists()


def test_it_refuses_a_foreign_application_on_the_form_page_and_the_api(client, world, bound):
    questionnaire, _apps = bound
    assert client.login(username=world.agent_a.username, password=PASSWORD)

    page = client.post(
        reverse("questionnaires:fill", kwargs={"slug": questionnaire.slug}),
        {"resume": "Mandats", "application": "etat-civil", "bloque": "Non"},
    )
    api = client.post(
        f"/api/v1/forms/{questionnaire.slug}/submit",
        json.dumps({"answers": {"resume": "Mandats", "application": "etat-civil", "bloque": "Non"}}),
        content_type="application/json",
    )

    assert page.status_code == 200  # the page again, with the field's error
    assert api.status_code == 422
    assert "application" in api.json()["errors"]
    assert not Ticket.objects.exists()


def test_it_refuses_a_binding_the_builder_cannot_honour(world, bound):
    questionnaire, _apps = bound
    section = questionnaire.sections.get()
    add = services.question_add

    def refused(data):
        with pytest.raises(ValidationError) as error:
            add(actor=world.staff, section=section, data={"label": "Q", **data})
        return error.value.message_dict

    assert "kind" in refused({"key": "texte", "kind": "text", "ticket_field": "urgency"})
    assert "choices" in refused({"key": "propres", "kind": "choice", "choices": "A\nB", "ticket_field": "impact"})
    assert "ticket_field" in refused({"key": "encore", "kind": "choice", "ticket_field": "blocking"})
    assert Question.objects.filter(questionnaire=questionnaire, ticket_field="blocking").count() == 1


def test_it_lets_staff_bind_a_question_through_the_builder_pages(client, world, bound):
    questionnaire, _apps = bound
    assert client.login(username=world.staff.username, password=PASSWORD)
    section = questionnaire.sections.get()

    response = client.post(
        reverse("questionnaires:question_create", kwargs={"slug": questionnaire.slug}),
        {
            "label": "Urgence ressentie",
            "key": "urgence",
            "section": section.pk,
            "kind": "choice",
            "ticket_field": "urgency",
        },
    )
    page = client.get(reverse("questionnaires:manage", kwargs={"slug": questionnaire.slug})).content.decode()

    assert response.status_code == 302, response.content.decode()
    assert Question.objects.get(questionnaire=questionnaire, key="urgence").ticket_field == "urgency"
    assert "renseigne le champ « urgence » du ticket" in page
    assert "renseigne le champ « bloquant » du ticket" in page


def test_it_offers_a_read_only_member_its_own_applications_and_staff_the_labelled_catalogue(client, world, bound):
    questionnaire, _apps = bound
    url = reverse("questionnaires:fill", kwargs={"slug": questionnaire.slug})

    client.force_login(world.elected_a)
    elected = client.get(url).content.decode()
    client.force_login(world.staff)
    staff = client.get(url).content.decode()

    assert 'value="paie"' in elected
    assert 'value="etat-civil"' not in elected and 'value="voirie"' not in elected
    assert "Toutes les applications du catalogue" not in elected
    assert 'value="paie"' in staff and 'value="etat-civil"' in staff
    assert "Toutes les applications du catalogue" in staff
