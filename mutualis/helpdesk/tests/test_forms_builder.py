"""Building request forms: services (validation, conditions, order, audit) and the builder pages,
which are operator staff's only (members get 404)."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from mutualis.core.models import AuditAction, AuditEntry
from mutualis.helpdesk import form_services
from mutualis.helpdesk.form_models import FormQuestion, FormSection, RequestForm
from mutualis.helpdesk.tests.forms_helpers import build_form
from mutualis.testing.factories import PASSWORD

pytestmark = pytest.mark.django_db


def login(client, user):
    assert client.login(username=user.username, password=PASSWORD)
    return client


def test_it_builds_a_form_with_ordered_sections_and_questions_and_audits_each_write(world):
    form = build_form(world)
    assert list(form.sections.values_list("title", "position")) == [("Incident", 1), ("Détails", 2)]
    keys = [q.key for q in form_services.questions_of(form)]
    assert keys == ["resume", "bloquant", "agents", "domaines", "logiciel", "depuis", "details", "capture"]
    created = AuditEntry.objects.filter(action=AuditAction.CREATE, actor=world.staff)
    assert created.count() == 1 + 2 + 8


def test_it_refuses_builder_writes_from_member_accounts(world):
    with pytest.raises(Exception) as error:
        form_services.form_create(actor=world.manager_a, data={"slug": "x", "name": "X"})
    assert error.value.__class__.__name__ == "Http404"
    assert not RequestForm.objects.exists()


def test_it_refuses_a_question_key_used_twice_in_a_form(world):
    form = build_form(world)
    section = form.sections.first()
    with pytest.raises(ValidationError):
        form_services.question_add(actor=world.staff, section=section, data={"key": "resume", "label": "Encore"})
    assert FormQuestion.objects.filter(form=form, key="resume").count() == 1


def test_it_refuses_a_choice_question_without_choices_and_a_condition_on_an_unknown_choice(world):
    form = build_form(world)
    section = form.sections.first()
    with pytest.raises(ValidationError) as error:
        form_services.question_add(
            actor=world.staff, section=section, data={"key": "c", "label": "C", "kind": "choice"}
        )
    assert "choices" in error.value.error_dict
    bloquant = FormQuestion.objects.get(form=form, key="bloquant")
    with pytest.raises(ValidationError) as error:
        form_services.question_add(
            actor=world.staff,
            section=section,
            data={"key": "d", "label": "D", "condition_question": bloquant, "condition_value": "Peut-être"},
        )
    assert "condition_value" in error.value.error_dict


def test_it_refuses_a_condition_on_another_forms_question_or_in_a_loop(world):
    form = build_form(world)
    other = build_form(world, slug="autre")
    foreign = FormQuestion.objects.get(form=other, key="bloquant")
    with pytest.raises(ValidationError) as error:
        form_services.question_add(
            actor=world.staff,
            section=form.sections.first(),
            data={"key": "d", "label": "D", "condition_question": foreign, "condition_value": "Oui"},
        )
    assert "condition_question" in error.value.error_dict
    agents = FormQuestion.objects.get(form=form, key="agents")
    bloquant = FormQuestion.objects.get(form=form, key="bloquant")
    with pytest.raises(ValidationError) as error:
        form_services.question_update(
            actor=world.staff, question=bloquant, data={"condition_question": agents, "condition_value": "3"}
        )
    assert "condition_question" in error.value.error_dict


def test_it_moves_questions_and_sections_up_and_down(world):
    form = build_form(world)
    resume = FormQuestion.objects.get(form=form, key="resume")
    form_services.item_move(actor=world.staff, item=resume, direction="down")
    assert [q.key for q in form_services.questions_of(form)][:3] == ["bloquant", "resume", "agents"]
    form_services.item_move(actor=world.staff, item=FormQuestion.objects.get(form=form, key="bloquant"), direction="up")
    details = FormSection.objects.get(form=form, title="Détails")
    form_services.item_move(actor=world.staff, item=details, direction="up")
    assert list(form.sections.order_by("position").values_list("title", flat=True)) == ["Détails", "Incident"]


def test_it_refuses_to_delete_a_question_others_depend_on(world):
    form = build_form(world)
    bloquant = FormQuestion.objects.get(form=form, key="bloquant")
    with pytest.raises(ValidationError, match="Agents bloqués"):
        form_services.question_delete(actor=world.staff, question=bloquant)
    form_services.question_delete(actor=world.staff, question=FormQuestion.objects.get(form=form, key="agents"))
    form_services.question_delete(actor=world.staff, question=bloquant)
    assert not FormQuestion.objects.filter(form=form, key__in=["agents", "bloquant"]).exists()


def test_it_deletes_a_whole_form_with_its_conditions(world):
    form = build_form(world)
    form_services.form_delete(actor=world.staff, form=form)
    assert not RequestForm.objects.exists() and not FormQuestion.objects.exists()


@pytest.mark.parametrize("who", ["manager_a", "agent_a", "elected_a"])
def test_it_answers_404_to_members_on_every_builder_page(client, world, who):
    form = build_form(world)
    question = FormQuestion.objects.get(form=form, key="resume")
    section = question.section
    login(client, getattr(world, who))
    urls = [
        reverse("helpdesk:form_manage_list"),
        reverse("helpdesk:form_manage_create"),
        reverse("helpdesk:form_manage", kwargs={"slug": form.slug}),
        reverse("helpdesk:form_manage_edit", kwargs={"slug": form.slug}),
        reverse("helpdesk:form_manage_delete", kwargs={"slug": form.slug}),
        reverse("helpdesk:section_create", kwargs={"slug": form.slug}),
        reverse("helpdesk:section_edit", kwargs={"slug": form.slug, "pk": section.pk}),
        reverse("helpdesk:question_create", kwargs={"slug": form.slug}),
        reverse("helpdesk:question_edit", kwargs={"slug": form.slug, "pk": question.pk}),
        reverse("helpdesk:question_delete", kwargs={"slug": form.slug, "pk": question.pk}),
    ]
    for url in urls:
        assert client.get(url).status_code == 404, url
        assert client.post(url, {"name": "x", "slug": "x", "title": "x", "label": "x", "key": "x"}).status_code == 404
    move = reverse("helpdesk:item_move", kwargs={"slug": form.slug, "kind": "questions", "pk": question.pk})
    assert client.post(move, {"direction": "down"}).status_code == 404
    assert RequestForm.objects.count() == 1
    assert FormQuestion.objects.get(pk=question.pk).position == question.position


def test_it_lets_staff_build_a_form_through_the_pages(client, world):
    login(client, world.staff)
    response = client.post(
        reverse("helpdesk:form_manage_create"),
        {"name": "Badge d'accès", "slug": "badge", "ticket_type": "request", "urgency": 3, "position": 0},
    )
    assert response.status_code == 302, response.content.decode()
    form = RequestForm.objects.get(slug="badge")
    assert response["Location"] == reverse("helpdesk:form_manage", kwargs={"slug": "badge"})
    client.post(reverse("helpdesk:section_create", kwargs={"slug": "badge"}), {"title": "Le badge"})
    section = form.sections.get()
    response = client.post(
        reverse("helpdesk:question_create", kwargs={"slug": "badge"}),
        {"label": "Bâtiment", "key": "batiment", "section": section.pk, "kind": "choice", "choices": "Mairie\nCCAS"},
    )
    assert response.status_code == 302
    page = client.get(reverse("helpdesk:form_manage", kwargs={"slug": "badge"}))
    assert page.status_code == 200
    assert "Bâtiment" in page.content.decode()
    assert client.get(reverse("helpdesk:form_manage_list")).status_code == 200


def test_it_shows_a_builder_error_next_to_its_field_and_writes_nothing(client, world):
    form = build_form(world)
    login(client, world.staff)
    response = client.post(
        reverse("helpdesk:question_create", kwargs={"slug": form.slug}),
        {"label": "Choix", "key": "choix", "section": form.sections.first().pk, "kind": "choice", "choices": ""},
    )
    assert response.status_code == 200
    assert "indiquez au moins un choix" in response.content.decode()
    assert not FormQuestion.objects.filter(key="choix").exists()
