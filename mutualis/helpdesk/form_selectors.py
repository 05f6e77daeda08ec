"""Reads on online request forms: the catalogue members see, and the builder's lists (staff)."""

from __future__ import annotations

from itertools import groupby
from typing import Any

from django.db.models import Count, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404

from mutualis.core.tenancy import require_operator_staff
from mutualis.helpdesk.form_models import FormQuestion, FormSection, RequestForm


def form_catalogue(*, actor: Any) -> list[tuple[str, list[RequestForm]]]:
    """Active forms grouped by their catalogue category, in the categories' order."""
    forms = (
        RequestForm.objects.filter(active=True)
        .select_related("catalogue_category")
        .order_by("catalogue_category__position", "catalogue_category__name", "position", "name")
    )
    return [
        (str(category) if category else "", list(items))
        for category, items in groupby(forms, key=lambda f: f.catalogue_category)
    ]


def form_active_get(*, actor: Any, slug: str) -> RequestForm:
    try:
        return RequestForm.objects.select_related("application", "group").get(slug=slug, active=True)
    except RequestForm.DoesNotExist:
        raise Http404("formulaire introuvable") from None


def form_list(*, actor: Any) -> QuerySet[RequestForm]:
    """Every form, published or not, for the builder (operator staff only)."""
    require_operator_staff(actor)
    return RequestForm.objects.select_related("catalogue_category").annotate(question_count=Count("questions"))


def form_get(*, actor: Any, slug: str) -> RequestForm:
    require_operator_staff(actor)
    return get_object_or_404(RequestForm, slug=slug)


def section_get(*, actor: Any, form: RequestForm, pk: int) -> FormSection:
    require_operator_staff(actor)
    return get_object_or_404(FormSection, form=form, pk=pk)


def question_get(*, actor: Any, form: RequestForm, pk: int) -> FormQuestion:
    require_operator_staff(actor)
    return get_object_or_404(FormQuestion.objects.select_related("section", "condition_question"), form=form, pk=pk)


def active_forms_with_questions(*, actor: Any) -> list[RequestForm]:
    """Active forms with their sections and questions prefetched (the API's list)."""
    return list(
        RequestForm.objects.filter(active=True)
        .select_related("catalogue_category", "application", "group")
        .prefetch_related("sections__questions__condition_question")
        .order_by("position", "name")
    )
