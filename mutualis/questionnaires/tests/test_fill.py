"""Filling a request form: the catalogue, typed and required answers, conditional questions
enforced on the server, file limits, and the ticket the answers become."""

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse

from mutualis.helpdesk.enums import Source
from mutualis.helpdesk.models import Attachment, Ticket
from mutualis.questionnaires import services
from mutualis.questionnaires.tests.helpers import build_questionnaire
from mutualis.testing.factories import PASSWORD

pytestmark = pytest.mark.django_db

BASE = {"resume": "Plus d'impression", "bloquant": "Non"}


def login(client, user):
    assert client.login(username=user.username, password=PASSWORD)
    return client


def fill_url(questionnaire):
    return reverse("questionnaires:fill", kwargs={"slug": questionnaire.slug})


def test_it_lists_active_forms_by_category_in_the_catalogue(client, world):
    questionnaire = build_questionnaire(world)
    build_questionnaire(world, slug="brouillon", active=False)
    response = login(client, world.agent_a).get(reverse("questionnaires:catalogue"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "<h2" in page and "Incidents</h2>" in page and fill_url(questionnaire) in page
    assert "/formulaires/brouillon/" not in page


def test_it_answers_404_for_an_unpublished_questionnaire(client, world):
    questionnaire = build_questionnaire(world, active=False)
    assert login(client, world.agent_a).get(fill_url(questionnaire)).status_code == 404


def test_it_creates_the_ticket_the_questionnaire_describes_and_redirects_to_its_page(client, world):
    questionnaire = build_questionnaire(world)
    response = login(client, world.agent_a).post(
        fill_url(questionnaire),
        {
            "resume": "Plus d'impression",
            "bloquant": "Oui",
            "agents": "12",
            "domaines": ["Logiciel", "Matériel"],
            "logiciel": "Concerto",
            "depuis": "2026-03-02",
            "details": "Depuis ce matin\n**rien** ne sort",
        },
    )
    ticket = Ticket.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/assistance/tickets/{ticket.reference}/"
    assert ticket.title == "Incident : Plus d'impression"
    assert (ticket.ticket_type, ticket.urgency, ticket.source) == ("incident", 4, Source.FORM)
    assert ticket.category == questionnaire.catalogue_category
    assert ticket.group == world.staff.service
    assert ticket.requester == world.agent_a and ticket.collectivity == world.member_a
    assert "**Agents bloqués** : 12" in ticket.description
    assert "- Logiciel" in ticket.description and "> \\*\\*rien" not in ticket.description
    assert "> **rien** ne sort" in ticket.description  # long text kept as a quote, rendered safely later
    assert ticket.form_answers == {
        "form": "incident",
        "answers": {
            "resume": "Plus d'impression",
            "bloquant": "Oui",
            "agents": 12,
            "domaines": ["Logiciel", "Matériel"],
            "logiciel": "Concerto",
            "depuis": "2026-03-02",
            "details": "Depuis ce matin\n**rien** ne sort",
        },
    }


def test_it_requires_a_conditional_question_only_when_it_is_shown(client, world):
    questionnaire = build_questionnaire(world)
    login(client, world.agent_a)
    response = client.post(fill_url(questionnaire), {**BASE, "bloquant": "Oui"})
    assert response.status_code == 200
    assert "« Agents bloqués » est obligatoire" in response.content.decode()
    assert not Ticket.objects.exists()
    response = client.post(fill_url(questionnaire), BASE)
    assert response.status_code == 302
    assert "agents" not in Ticket.objects.get().form_answers["answers"]


def test_it_ignores_the_answer_of_a_hidden_question_even_when_invalid(client, world):
    questionnaire = build_questionnaire(world)
    response = login(client, world.agent_a).post(
        fill_url(questionnaire), {**BASE, "agents": "pas un nombre", "logiciel": "Caché", "domaines": ["Matériel"]}
    )
    assert response.status_code == 302
    ticket = Ticket.objects.get()
    assert set(ticket.form_answers["answers"]) == {"resume", "bloquant", "domaines"}
    assert "Caché" not in ticket.description and "Agents bloqués" not in ticket.description


def test_it_requires_the_required_questions_and_writes_nothing(client, world):
    questionnaire = build_questionnaire(world)
    response = login(client, world.agent_a).post(fill_url(questionnaire), {})
    page = response.content.decode()
    assert response.status_code == 200
    assert "« Résumé » est obligatoire" in page and "« Bloquant ? » est obligatoire" in page
    assert not Ticket.objects.exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"bloquant": "Peut-être"}, "Peut-être"),
        ({"bloquant": "Oui", "agents": "douze"}, "nombre"),
        ({"depuis": "31/31/2026"}, "date"),
        ({"domaines": ["Logiciel", "Réseau"]}, "Réseau"),
    ],
)
def test_it_checks_the_type_and_the_choices_of_each_answer(client, world, data, message):
    questionnaire = build_questionnaire(world)
    response = login(client, world.agent_a).post(fill_url(questionnaire), {**BASE, **data})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Ticket.objects.exists()


def test_it_attaches_the_file_answers_to_the_ticket(client, world, tmp_path, settings):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path)}},
    }
    questionnaire = build_questionnaire(world)
    upload = SimpleUploadedFile("ecran.png", b"\x89PNG\r\n\x1a\nimage", content_type="image/png")
    response = login(client, world.agent_a).post(fill_url(questionnaire), {**BASE, "capture": upload})
    assert response.status_code == 302
    attachment = Attachment.objects.get()
    assert attachment.name == "ecran.png" and attachment.ticket == Ticket.objects.get()
    assert Ticket.objects.get().form_answers["answers"]["capture"] == "ecran.png"


@override_settings(HELPDESK_MAX_ATTACHMENT_BYTES=10)
@pytest.mark.parametrize(
    ("name", "content", "message"),
    [("gros.pdf", b"%PDF-" + b"x" * 20, "la limite est 10 octets"), ("outil.exe", b"MZ", "exécutables")],
)
def test_it_refuses_a_file_over_the_limit_or_an_executable(client, world, name, content, message):
    questionnaire = build_questionnaire(world)
    upload = SimpleUploadedFile(name, content)
    response = login(client, world.agent_a).post(fill_url(questionnaire), {**BASE, "capture": upload})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Ticket.objects.exists() and not Attachment.objects.exists()


def test_it_refuses_an_elected_officials_submission(client, world):
    questionnaire = build_questionnaire(world)
    response = login(client, world.elected_a).post(fill_url(questionnaire), BASE)
    assert response.status_code == 403
    assert not Ticket.objects.exists()


def test_it_escapes_html_in_answers_and_markdown_in_one_line_answers(world):
    questionnaire = build_questionnaire(world)
    ticket = services.questionnaire_submit(
        actor=world.agent_a,
        questionnaire=questionnaire,
        answers={"resume": "<script>x</script> *gras*", "bloquant": "Non"},
    )
    assert "\\*gras\\*" in ticket.description
    assert ticket.title == "Incident : <script>x</script> *gras*"  # text: escaped where displayed


def test_it_validates_answers_given_as_json_the_same_way(world):
    questionnaire = build_questionnaire(world)
    with pytest.raises(ValidationError) as error:
        services.questionnaire_submit(
            actor=world.agent_a, questionnaire=questionnaire, answers={"bloquant": "Oui", "inconnue": 1}
        )
    assert set(error.value.error_dict) == {"resume", "agents", "__all__"}
    ticket = services.questionnaire_submit(
        actor=world.agent_a,
        questionnaire=questionnaire,
        answers={**BASE, "agents": "abc", "domaines": ["Logiciel"], "logiciel": "X"},
    )
    assert ticket.form_answers["answers"] == {**BASE, "domaines": ["Logiciel"], "logiciel": "X"}


def test_it_shows_the_conditions_so_the_page_works_without_script(client, world):
    questionnaire = build_questionnaire(world)
    page = login(client, world.agent_a).get(fill_url(questionnaire)).content.decode()
    assert 'data-condition-key="bloquant" data-condition-value="Oui"' in page
    assert "Seulement si « Bloquant ? » vaut « Oui »." in page
    assert "questionnaires/conditions.js" in page
