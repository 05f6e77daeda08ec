"""Building request forms: services (validation, conditions, order, audit) and the builder pages,
which are operator staff's only (members get 404)."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from mutualis.core.models import AuditAction, AuditEntry
from mutualis.questionnaires import services
from mutualis.questionnaires.models import Question, Questionnaire, Section
from mutualis.questionnaires.tests.helpers import build_questionnaire
from mutualis.testing.factories import PASSWORD

pytestmark = pytest.mark.django_db


def login(client, user):
    assert client.login(username=user.username, password=PASSWORD)
    return client


def test_it_builds_a_questionnaire_with_ordered_sections_and_questions_and_audits_each_write(world):
    questionnaire = build_questionnaire(world)
    assert list(questionnaire.sections.values_list("title", "position")) == [("Incident", 1), ("Détails", 2)]
    keys = [q.key for q in services.questions_of(questionnaire)]
    assert keys == ["resume", "bloquant", "agents", "domaines", "logiciel", "depuis", "details", "capture"]
    created = AuditEntry.objects.filter(action=AuditAction.CREATE, actor=world.staff)
    assert created.count() == 1 + 2 + 8


def test_it_refuses_builder_writes_from_member_accounts(world):
    with pytest.raises(Exception) as error:
        services.questionnaire_create(actor=world.manager_a, data={"slug": "x", "name": "X"})
    assert error.value.__class__.__name__ == "Http404"
    assert not Questionnaire.objects.exists()


def test_it_refuses_a_question_key_used_twice_in_a_questionnaire(world):
    questionnaire = build_questionnaire(world)
    section = questionnaire.sections.first()
    with pytest.raises(ValidationError):
        services.question_add(actor=world.staff, section=section, data={"key": "resume", "label": "Encore"})
    assert Question.objects.filter(questionnaire=questionnaire, key="resume").count() == 1


def test_it_refuses_a_choice_question_without_choices_and_a_condition_on_an_unknown_choice(world):
    questionnaire = build_questionnaire(world)
    section = questionnaire.sections.first()
    with pytest.raises(ValidationError) as error:
        services.question_add(actor=world.staff, section=section, data={"key": "c", "label": "C", "kind": "choice"})
    assert "choices" in error.value.error_dict
    bloquant = Question.objects.get(questionnaire=questionnaire, key="bloquant")
    with pytest.raises(ValidationError) as error:
        services.question_add(
            actor=world.staff,
            section=section,
            data={"key": "d", "label": "D", "condition_question": bloquant, "condition_value": "Peut-être"},
        )
    assert "condition_value" in error.value.error_dict


def test_it_refuses_a_condition_on_another_forms_question_or_in_a_loop(world):
    questionnaire = build_questionnaire(world)
    other = build_questionnaire(world, slug="autre")
    foreign = Question.objects.get(questionnaire=other, key="bloquant")
    with pytest.raises(ValidationError) as error:
        services.question_add(
            actor=world.staff,
            section=questionnaire.sections.first(),
            data={"key": "d", "label": "D", "condition_question": foreign, "condition_value": "Oui"},
        )
    assert "condition_question" in error.value.error_dict
    agents = Question.objects.get(questionnaire=questionnaire, key="agents")
    bloquant = Question.objects.get(questionnaire=questionnaire, key="bloquant")
    with pytest.raises(ValidationError) as error:
        services.question_update(
            actor=world.staff, question=bloquant, data={"condition_question": agents, "condition_value": "3"}
        )
    assert "condition_question" in error.value.error_dict


def test_it_moves_questions_and_sections_up_and_down(world):
    questionnaire = build_questionnaire(world)
    resume = Question.objects.get(questionnaire=questionnaire, key="resume")
    services.item_move(actor=world.staff, item=resume, direction="down")
    assert [q.key for q in services.questions_of(questionnaire)][:3] == ["bloquant", "resume", "agents"]
    services.item_move(
        actor=world.staff, item=Question.objects.get(questionnaire=questionnaire, key="bloquant"), direction="up"
    )
    details = Section.objects.get(questionnaire=questionnaire, title="Détails")
    services.item_move(actor=world.staff, item=details, direction="up")
    assert list(questionnaire.sections.order_by("position").values_list("title", flat=True)) == ["Détails", "Incident"]


def test_it_refuses_to_delete_a_question_others_depend_on(world):
    questionnaire = build_questionnaire(world)
    bloquant = Question.objects.get(questionnaire=questionnaire, key="bloquant")
    with pytest.raises(ValidationError, match="Agents bloqués"):
        services.question_delete(actor=world.staff, question=bloquant)
    services.question_delete(
        actor=world.staff, question=Question.objects.get(questionnaire=questionnaire, key="agents")
    )
    services.question_delete(actor=world.staff, question=bloquant)
    assert not Question.objects.filter(questionnaire=questionnaire, key__in=["agents", "bloquant"]).exists()


def test_it_deletes_a_whole_questionnaire_with_its_conditions(world):
    questionnaire = build_questionnaire(world)
    services.questionnaire_delete(actor=world.staff, questionnaire=questionnaire)
    assert not Questionnaire.objects.exists() and not Question.objects.exists()


@pytest.mark.parametrize("who", ["manager_a", "agent_a", "elected_a"])
def test_it_answers_404_to_members_on_every_builder_page(client, world, who):
    questionnaire = build_questionnaire(world)
    question = Question.objects.get(questionnaire=questionnaire, key="resume")
    section = question.section
    login(client, getattr(world, who))
    urls = [
        reverse("questionnaires:manage_list"),
        reverse("questionnaires:manage_create"),
        reverse("questionnaires:manage", kwargs={"slug": questionnaire.slug}),
        reverse("questionnaires:manage_edit", kwargs={"slug": questionnaire.slug}),
        reverse("questionnaires:manage_delete", kwargs={"slug": questionnaire.slug}),
        reverse("questionnaires:section_create", kwargs={"slug": questionnaire.slug}),
        reverse("questionnaires:section_edit", kwargs={"slug": questionnaire.slug, "pk": section.pk}),
        reverse("questionnaires:question_create", kwargs={"slug": questionnaire.slug}),
        reverse("questionnaires:question_edit", kwargs={"slug": questionnaire.slug, "pk": question.pk}),
        reverse("questionnaires:question_delete", kwargs={"slug": questionnaire.slug, "pk": question.pk}),
    ]
    for url in urls:
        assert client.get(url).status_code == 404, url
        assert client.post(url, {"name": "x", "slug": "x", "title": "x", "label": "x", "key": "x"}).status_code == 404
    move = reverse(
        "questionnaires:item_move", kwargs={"slug": questionnaire.slug, "kind": "questions", "pk": question.pk}
    )
    assert client.post(move, {"direction": "down"}).status_code == 404
    assert Questionnaire.objects.count() == 1
    assert Question.objects.get(pk=question.pk).position == question.position


def test_it_lets_staff_build_a_questionnaire_through_the_pages(client, world):
    login(client, world.staff)
    response = client.post(
        reverse("questionnaires:manage_create"),
        {"name": "Badge d'accès", "slug": "badge", "ticket_type": "request", "urgency": 3, "position": 0},
    )
    assert response.status_code == 302, response.content.decode()
    questionnaire = Questionnaire.objects.get(slug="badge")
    assert response["Location"] == reverse("questionnaires:manage", kwargs={"slug": "badge"})
    client.post(reverse("questionnaires:section_create", kwargs={"slug": "badge"}), {"title": "Le badge"})
    section = questionnaire.sections.get()
    response = client.post(
        reverse("questionnaires:question_create", kwargs={"slug": "badge"}),
        {"label": "Bâtiment", "key": "batiment", "section": section.pk, "kind": "choice", "choices": "Mairie\nCCAS"},
    )
    assert response.status_code == 302
    page = client.get(reverse("questionnaires:manage", kwargs={"slug": "badge"}))
    assert page.status_code == 200
    assert "Bâtiment" in page.content.decode()
    assert client.get(reverse("questionnaires:manage_list")).status_code == 200


def test_it_shows_a_builder_error_next_to_its_field_and_writes_nothing(client, world):
    questionnaire = build_questionnaire(world)
    login(client, world.staff)
    response = client.post(
        reverse("questionnaires:question_create", kwargs={"slug": questionnaire.slug}),
        {
            "label": "Choix",
            "key": "choix",
            "section": questionnaire.sections.first().pk,
            "kind": "choice",
            "choices": "",
        },
    )
    assert response.status_code == 200
    assert "indiquez au moins un choix" in response.content.decode()
    assert not Question.objects.filter(key="choix").exists()
