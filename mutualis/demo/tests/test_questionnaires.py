"""The demo's request forms: loaded by load_demo, idempotent, and usable end to end."""

import pytest
from django.core.exceptions import ValidationError

from mutualis.accounts.models import Role, User
from mutualis.catalog.models import Application
from mutualis.catalog.selectors import applications_subscribed
from mutualis.demo.loader import load_demo
from mutualis.helpdesk.models import Category
from mutualis.members.models import Organisation
from mutualis.questionnaires import services
from mutualis.questionnaires.models import Question, Questionnaire

pytestmark = pytest.mark.django_db


def test_it_loads_the_demo_forms_and_their_categories_once():
    load_demo()
    counts = (Questionnaire.objects.count(), Question.objects.count(), Category.objects.count())
    load_demo()
    assert (Questionnaire.objects.count(), Question.objects.count(), Category.objects.count()) == counts
    assert set(Questionnaire.objects.filter(active=True).values_list("slug", flat=True)) >= {
        "creation-compte-agent",
        "incident-application",
        "demande-installation",
    }
    account = Questionnaire.objects.get(slug="creation-compte-agent")
    assert account.application is not None and account.group is not None
    assert account.catalogue_category.slug == "comptes-acces"
    conditional = Question.objects.get(questionnaire=account, key="logiciel-metier")
    assert (conditional.condition_question.key, conditional.condition_value) == ("acces", "Logiciel métier")
    for question in Question.objects.all():
        question.full_clean()  # every demo question passes the builder's own checks


def test_it_files_a_request_with_a_demo_questionnaire():
    load_demo()
    member = Organisation.objects.members().filter(subscriptions__status="production").first()
    agent = User.objects.create(username="agent-demo", role=Role.MEMBER_AGENT, organisation=member)
    questionnaire = Questionnaire.objects.get(slug="incident-application")
    # The application question offers the member's subscriptions; « bloqué : Oui » makes the
    # ticket blocking, so the blocking rule gives it a due date.
    application = applications_subscribed(collectivity_id=member.pk).first()
    ticket = services.questionnaire_submit(
        actor=agent,
        questionnaire=questionnaire,
        answers={
            "application": application.slug,
            "resume": "Mandats bloqués",
            "description": "Erreur à la validation",
            "bloquant": "Oui",
            "agents": 3,
        },
    )
    assert ticket.title == f"Incident {application.name} : Mandats bloqués"
    assert ticket.ticket_type == "incident" and ticket.urgency == 4
    assert ticket.application == application
    assert ticket.blocking and ticket.ttr_due_at is not None
    assert ticket.group.slug == "systemes-information"
    other = Organisation.objects.members().exclude(subscriptions__application=application).first()
    if other is not None:  # an application the member does not have is not one of its choices
        outsider = User.objects.create(username="agent-autre", role=Role.MEMBER_AGENT, organisation=other)
        with pytest.raises(ValidationError):
            services.questionnaire_submit(
                actor=outsider,
                questionnaire=questionnaire,
                answers={"application": application.slug, "resume": "x", "description": "y", "bloquant": "Non"},
            )


def test_it_offers_the_members_own_applications_on_the_demo_incident_questionnaire(client):
    load_demo()
    member = Organisation.objects.members().filter(subscriptions__status="production").first()
    agent = User.objects.create(username="agent-page", role=Role.MEMBER_AGENT, organisation=member)
    client.force_login(agent)

    page = client.get("/assistance/formulaires/incident-application/").content.decode()

    for application in applications_subscribed(collectivity_id=member.pk):
        assert f'value="{application.slug}"' in page
    others = Application.objects.exclude(pk__in=applications_subscribed(collectivity_id=member.pk).values("pk"))
    assert all(f'value="{a.slug}"' not in page for a in others)
    assert 'value="Oui"' in page and 'value="Non"' in page
