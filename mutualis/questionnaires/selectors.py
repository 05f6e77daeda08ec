"""Reads on questionnaires: the catalogue members see, and the builder's lists (staff)."""

from __future__ import annotations

from itertools import groupby

from django.db.models import Count, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404

from mutualis.accounts.models import User
from mutualis.core.tenancy import require_operator_staff
from mutualis.questionnaires.models import Question, Questionnaire, Section


def questionnaire_catalogue(*, actor: User) -> list[tuple[str, list[Questionnaire]]]:
    """Published questionnaires grouped by their catalogue category, in the categories' order."""
    questionnaires = (
        Questionnaire.objects.filter(active=True)
        .select_related("catalogue_category")
        .order_by("catalogue_category__position", "catalogue_category__name", "position", "name")
    )
    return [
        (str(category) if category else "", list(items))
        for category, items in groupby(questionnaires, key=lambda q: q.catalogue_category)
    ]


def questionnaire_active_get(*, actor: User, slug: str) -> Questionnaire:
    try:
        return Questionnaire.objects.select_related("application", "group").get(slug=slug, active=True)
    except Questionnaire.DoesNotExist:
        raise Http404("formulaire introuvable") from None


def questionnaire_list(*, actor: User) -> QuerySet[Questionnaire]:
    """Every questionnaire, published or not, for the builder (operator staff only)."""
    require_operator_staff(actor)
    return Questionnaire.objects.select_related("catalogue_category").annotate(question_count=Count("questions"))


def questionnaire_get(*, actor: User, slug: str) -> Questionnaire:
    require_operator_staff(actor)
    return get_object_or_404(Questionnaire, slug=slug)


def section_get(*, actor: User, questionnaire: Questionnaire, pk: int) -> Section:
    require_operator_staff(actor)
    return get_object_or_404(Section, questionnaire=questionnaire, pk=pk)


def question_get(*, actor: User, questionnaire: Questionnaire, pk: int) -> Question:
    require_operator_staff(actor)
    return get_object_or_404(
        Question.objects.select_related("section", "condition_question"), questionnaire=questionnaire, pk=pk
    )


def questionnaires_active_with_questions(*, actor: User) -> list[Questionnaire]:
    """Published questionnaires with their sections and questions prefetched (the API's list)."""
    return list(
        Questionnaire.objects.filter(active=True)
        .select_related("catalogue_category", "application", "group")
        .prefetch_related("sections__questions__condition_question")
        .order_by("position", "name")
    )
