"""Pages of questionnaires: the catalogue "Nouvelle demande" and filling one in (member accounts),
and the builder (operator staff; members get 404)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from mutualis.accounts.requests import signed_in
from mutualis.core.forms import add_service_errors
from mutualis.core.panels import panels_render
from mutualis.core.tenancy import is_operator, require_operator_staff
from mutualis.questionnaires import selectors, services
from mutualis.questionnaires.forms import AnswerForm, MoveForm, QuestionForm, QuestionnaireForm, SectionForm
from mutualis.questionnaires.models import Question, Questionnaire, Section


# -- member side ----------------------------------------------------------------------------------
@login_required
def catalogue(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "questionnaires/catalogue.html",
        {
            "groups": selectors.questionnaire_catalogue(actor=signed_in(request)),
            "can_build": is_operator(request.user),
            "can_submit": services.may_submit(signed_in(request)),
        },
    )


@login_required
def fill(request: HttpRequest, slug: str) -> HttpResponse:
    questionnaire = selectors.questionnaire_active_get(actor=signed_in(request), slug=slug)
    questions = services.questions_of(questionnaire)
    # The member's own applications, to read or to fill in; operator staff see the catalogue's.
    collectivity_id = services.application_scope(signed_in(request))
    if not services.may_submit(signed_in(request)):
        # The same rule as the filing: the questionnaire is shown to read, never to fill in for nothing.
        if request.method == "POST":
            services.require_submitter(signed_in(request))
        context = _fill_context(
            questionnaire, AnswerForm(questions=questions, collectivity_id=collectivity_id), preview=True
        )
        return render(request, "questionnaires/fill.html", {**context, "can_submit": False})
    posted = request.method == "POST"
    answer_form = AnswerForm(
        request.POST if posted else None,
        request.FILES if posted else None,
        questions=questions,
        collectivity_id=collectivity_id,
    )
    if request.method == "POST" and answer_form.is_valid():
        answers, files = answer_form.answers()
        try:
            ticket = services.questionnaire_submit(
                actor=signed_in(request), questionnaire=questionnaire, answers=answers, files=files
            )
        except ValidationError as error:
            add_service_errors(answer_form, error)
        else:
            messages.success(request, _("Votre demande %(ref)s est enregistrée.") % {"ref": ticket.reference})
            return redirect("helpdesk:ticket", reference=ticket.reference)
    context = _fill_context(questionnaire, answer_form)
    panels = panels_render("questionnaires.fill", request, questionnaire=questionnaire)  # suggested articles
    return render(request, "questionnaires/fill.html", {**context, "can_submit": True, "panels": panels})


def _fill_context(questionnaire: Questionnaire, answer_form: AnswerForm, *, preview: bool = False) -> dict[str, Any]:
    shown = answer_form.shown_keys()
    sections: list[dict[str, Any]] = []
    for question in answer_form.questions:
        if not sections or sections[-1]["section"].pk != question.section_id:
            sections.append({"section": question.section, "items": []})
        sections[-1]["items"].append(
            {
                "question": question,
                "field": answer_form[question.key],
                "hidden": question.key not in shown,
                "grouped": question.kind in {"choice", "multiple_choice"}
                and len(answer_form.fields[question.key].choices) <= 6  # type: ignore[attr-defined]
                or question.kind == "multiple_choice",
            }
        )
    return {
        "questionnaire": questionnaire,
        "form": answer_form,
        "sections": sections,
        "multipart": any(q.kind == "file" for q in answer_form.questions),
        "preview": preview,
    }


# -- builder (operator staff) ---------------------------------------------------------------------
@login_required
def manage_list(request: HttpRequest) -> HttpResponse:
    questionnaires = selectors.questionnaire_list(actor=signed_in(request))
    return render(request, "questionnaires/manage_list.html", {"questionnaires": questionnaires})


@login_required
def manage_create(request: HttpRequest) -> HttpResponse:
    require_operator_staff(request.user)
    form = QuestionnaireForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            created = services.questionnaire_create(actor=signed_in(request), data=form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Formulaire créé : ajoutez-lui des sections et des questions."))
            return redirect("questionnaires:manage", slug=created.slug)
    return _item_page(request, form, _("Nouveau formulaire"))


@login_required
def manage(request: HttpRequest, slug: str) -> HttpResponse:
    questionnaire = selectors.questionnaire_get(actor=signed_in(request), slug=slug)
    questions = services.questions_of(questionnaire)
    sections = list(questionnaire.sections.order_by("position", "id"))
    for section in sections:
        section.items = [q for q in questions if q.section_id == section.pk]  # type: ignore[attr-defined]
    preview = AnswerForm(questions=questions, collectivity_id=None)  # operator staff: the whole catalogue
    return render(
        request,
        "questionnaires/manage.html",
        {
            "questionnaire": questionnaire,
            "sections": sections,
            "preview": _fill_context(questionnaire, preview, preview=True) if questions else None,
        },
    )


@login_required
def manage_edit(request: HttpRequest, slug: str) -> HttpResponse:
    questionnaire = selectors.questionnaire_get(actor=signed_in(request), slug=slug)
    form = QuestionnaireForm(request.POST or None, instance=questionnaire)
    if request.method == "POST" and form.is_valid():
        try:
            services.questionnaire_update(actor=signed_in(request), questionnaire=questionnaire, data=form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Formulaire enregistré."))
            return redirect("questionnaires:manage", slug=questionnaire.slug)
    return _item_page(request, form, questionnaire.name, questionnaire=questionnaire)


@login_required
def manage_delete(request: HttpRequest, slug: str) -> HttpResponse:
    questionnaire = selectors.questionnaire_get(actor=signed_in(request), slug=slug)
    if request.method == "POST":
        services.questionnaire_delete(actor=signed_in(request), questionnaire=questionnaire)
        messages.success(request, _("Formulaire « %(name)s » supprimé.") % {"name": questionnaire.name})
        return redirect("questionnaires:manage_list")
    return _confirm_page(
        request,
        questionnaire,
        _("Supprimer le formulaire « %(name)s » et ses questions ?") % {"name": questionnaire},
    )


@login_required
def section_create(request: HttpRequest, slug: str) -> HttpResponse:
    questionnaire = selectors.questionnaire_get(actor=signed_in(request), slug=slug)
    form = SectionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.section_add(actor=signed_in(request), questionnaire=questionnaire, data=form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Section ajoutée."))
            return redirect("questionnaires:manage", slug=questionnaire.slug)
    return _item_page(request, form, _("Nouvelle section"), questionnaire=questionnaire)


@login_required
def section_edit(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    questionnaire = selectors.questionnaire_get(actor=signed_in(request), slug=slug)
    section = selectors.section_get(actor=signed_in(request), questionnaire=questionnaire, pk=pk)
    form = SectionForm(request.POST or None, instance=section)
    if request.method == "POST" and form.is_valid():
        try:
            services.section_update(actor=signed_in(request), section=section, data=form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Section enregistrée."))
            return redirect("questionnaires:manage", slug=questionnaire.slug)
    return _item_page(request, form, section.title, questionnaire=questionnaire)


@login_required
def section_delete(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    questionnaire = selectors.questionnaire_get(actor=signed_in(request), slug=slug)
    section = selectors.section_get(actor=signed_in(request), questionnaire=questionnaire, pk=pk)
    if request.method == "POST":
        try:
            services.section_delete(actor=signed_in(request), section=section)
        except ValidationError as error:
            for message in error.messages:
                messages.error(request, message)
        else:
            messages.success(request, _("Section supprimée."))
        return redirect("questionnaires:manage", slug=questionnaire.slug)
    return _confirm_page(
        request, questionnaire, _("Supprimer la section « %(title)s » et ses questions ?") % {"title": section.title}
    )


@login_required
def question_create(request: HttpRequest, slug: str) -> HttpResponse:
    questionnaire = selectors.questionnaire_get(actor=signed_in(request), slug=slug)
    if not questionnaire.sections.exists():
        messages.error(request, _("Ajoutez d'abord une section."))
        return redirect("questionnaires:manage", slug=questionnaire.slug)
    initial = {"section": request.GET.get("section")} if request.GET.get("section") else {}
    form = QuestionForm(request.POST or None, questionnaire=questionnaire, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        section = data.pop("section")
        try:
            services.question_add(actor=signed_in(request), section=section, data=data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Question ajoutée."))
            return redirect("questionnaires:manage", slug=questionnaire.slug)
    return _item_page(request, form, _("Nouvelle question"), questionnaire=questionnaire)


@login_required
def question_edit(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    questionnaire = selectors.questionnaire_get(actor=signed_in(request), slug=slug)
    question = selectors.question_get(actor=signed_in(request), questionnaire=questionnaire, pk=pk)
    form = QuestionForm(request.POST or None, questionnaire=questionnaire, instance=question)
    if request.method == "POST" and form.is_valid():
        try:
            services.question_update(actor=signed_in(request), question=question, data=form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Question enregistrée."))
            return redirect("questionnaires:manage", slug=questionnaire.slug)
    return _item_page(request, form, question.label, questionnaire=questionnaire)


@login_required
def question_delete(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    questionnaire = selectors.questionnaire_get(actor=signed_in(request), slug=slug)
    question = selectors.question_get(actor=signed_in(request), questionnaire=questionnaire, pk=pk)
    if request.method == "POST":
        try:
            services.question_delete(actor=signed_in(request), question=question)
        except ValidationError as error:
            for message in error.messages:
                messages.error(request, message)
        else:
            messages.success(request, _("Question supprimée."))
        return redirect("questionnaires:manage", slug=questionnaire.slug)
    return _confirm_page(request, questionnaire, _("Supprimer la question « %(label)s » ?") % {"label": question.label})


@login_required
@require_POST
def item_move(request: HttpRequest, slug: str, kind: str, pk: int) -> HttpResponse:
    questionnaire = selectors.questionnaire_get(actor=signed_in(request), slug=slug)
    item: Section | Question
    if kind == "sections":
        item = selectors.section_get(actor=signed_in(request), questionnaire=questionnaire, pk=pk)
    else:
        item = selectors.question_get(actor=signed_in(request), questionnaire=questionnaire, pk=pk)
    move = MoveForm(request.POST)
    if move.is_valid():
        services.item_move(actor=signed_in(request), item=item, direction=move.cleaned_data["direction"])
    else:
        messages.error(request, _("Sens de déplacement inconnu."))
    return redirect(f"{_manage_url(questionnaire)}#{'section' if kind == 'sections' else 'question'}-{pk}")


def _manage_url(questionnaire: Questionnaire) -> str:
    return reverse("questionnaires:manage", kwargs={"slug": questionnaire.slug})


def _item_page(
    request: HttpRequest,
    form: forms.BaseForm,
    title: str,
    *,
    questionnaire: Questionnaire | None = None,
) -> HttpResponse:
    return render(
        request,
        "questionnaires/manage_item.html",
        {"form": form, "title": title, "questionnaire": questionnaire},
    )


def _confirm_page(request: HttpRequest, questionnaire: Questionnaire, question: str) -> HttpResponse:
    return render(request, "questionnaires/confirm_delete.html", {"questionnaire": questionnaire, "question": question})
