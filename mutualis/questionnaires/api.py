"""API of questionnaires (the online request forms): the published ones with their questions, and
submitting answers, which creates a ticket exactly as the web page does (same checks, same
conditions). The API keeps the paths its clients know: /forms.

Mount `router` (or a fresh `build_router()`) under /forms in the API; it relies on the API's
handlers for ValidationError (422), Http404 (404) and PermissionDenied (403). File questions
cannot be answered over JSON: a required one is reported missing."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from ninja import Router, Schema, Status

from mutualis.accounts.requests import signed_in
from mutualis.core.api_errors import ERRORS
from mutualis.questionnaires import selectors, services
from mutualis.questionnaires.models import CHOICE_KINDS, Question, Questionnaire


class ConditionOut(Schema):
    question: str
    value: str


class OptionOut(Schema):
    value: str
    label: str


class QuestionOut(Schema):
    key: str
    label: str
    kind: str
    required: bool
    help_text: str
    # The values to answer with; `options` gives each its label (an application's slug and name).
    choices: list[str]
    options: list[OptionOut]
    ticket_field: str
    condition: ConditionOut | None


class SectionOut(Schema):
    title: str
    description: str
    questions: list[QuestionOut]


class QuestionnaireOut(Schema):
    slug: str
    name: str
    description: str
    category: str | None
    ticket_type: str
    sections: list[SectionOut]


class AnswersIn(Schema):
    answers: dict[str, Any]


class FiledOut(Schema):
    reference: str
    title: str
    url: str


def _collectivity_id(request: HttpRequest) -> int | None:
    return services.application_scope(signed_in(request))


def _question(question: Question, collectivity_id: int | None) -> dict[str, Any]:
    condition = None
    if question.condition_question is not None:
        condition = {"question": question.condition_question.key, "value": question.condition_value}
    options = (
        services.question_choices(question, collectivity_id=collectivity_id) if question.kind in CHOICE_KINDS else []
    )
    return {
        "key": question.key,
        "label": question.label,
        "kind": question.kind,
        "required": question.required,
        "help_text": question.help_text,
        "choices": [value for value, _label in options],
        "options": [{"value": value, "label": label} for value, label in options],
        "ticket_field": question.ticket_field,
        "condition": condition,
    }


def _questionnaire(
    questionnaire: Questionnaire, questions: list[Question] | None = None, *, collectivity_id: int | None
) -> dict[str, Any]:
    if questions is None:  # prefetched by the list
        sections = sorted(questionnaire.sections.all(), key=lambda s: (s.position, s.pk))
        by_section = {s.pk: sorted(s.questions.all(), key=lambda q: (q.position, q.pk)) for s in sections}
    else:
        sections = sorted({q.section_id: q.section for q in questions}.values(), key=lambda s: (s.position, s.pk))
        by_section = {s.pk: [q for q in questions if q.section_id == s.pk] for s in sections}
    return {
        "slug": questionnaire.slug,
        "name": questionnaire.name,
        "description": questionnaire.description,
        "category": str(questionnaire.catalogue_category) if questionnaire.catalogue_category_id else None,
        "ticket_type": questionnaire.ticket_type,
        "sections": [
            {
                "title": s.title,
                "description": s.description,
                "questions": [_question(q, collectivity_id) for q in by_section[s.pk]],
            }
            for s in sections
        ],
    }


def build_router() -> Router:
    router = Router(tags=["formulaires"])

    @router.get("/", response={200: list[QuestionnaireOut], **ERRORS})
    def list_questionnaires(request: HttpRequest) -> Any:
        """The published request forms of the "Nouvelle demande" catalogue, with their questions."""
        collectivity_id = _collectivity_id(request)
        return [
            _questionnaire(q, collectivity_id=collectivity_id)
            for q in selectors.questionnaires_active_with_questions(actor=signed_in(request))
        ]

    @router.get("/{slug}", response={200: QuestionnaireOut, **ERRORS})
    def get_questionnaire(request: HttpRequest, slug: str) -> Any:
        questionnaire = selectors.questionnaire_active_get(actor=signed_in(request), slug=slug)
        return _questionnaire(
            questionnaire, services.questions_of(questionnaire), collectivity_id=_collectivity_id(request)
        )

    @router.post("/{slug}/submit", response={201: FiledOut, **ERRORS})
    def submit_questionnaire(request: HttpRequest, slug: str, payload: AnswersIn) -> Any:
        """Answers by question key (a list for a multiple choice); hidden questions' answers are
        ignored, required ones are required only when shown. Creates the ticket."""
        questionnaire = selectors.questionnaire_active_get(actor=signed_in(request), slug=slug)
        ticket = services.questionnaire_submit(
            actor=signed_in(request), questionnaire=questionnaire, answers=payload.answers, via="api"
        )
        path = reverse("helpdesk:ticket", kwargs={"reference": ticket.reference})
        return Status(201, {"reference": ticket.reference, "title": ticket.title, "url": path})

    return router


router = build_router()
