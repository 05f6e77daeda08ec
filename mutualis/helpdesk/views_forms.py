"""Pages of the online request forms: the catalogue "Nouvelle demande" and filling a form (member
accounts), the builder (operator staff; members get 404), and the satisfaction survey answered
from the closure mail's link without logging in."""

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
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from mutualis.core.forms import add_service_errors
from mutualis.core.tenancy import is_operator, require_operator_staff
from mutualis.helpdesk import form_selectors as selectors
from mutualis.helpdesk import form_services as services
from mutualis.helpdesk import services as ticket_services
from mutualis.helpdesk.enums import Status
from mutualis.helpdesk.form_models import FormQuestion, FormSection, RequestForm
from mutualis.helpdesk.forms_builder import AnswerForm, MoveForm, QuestionForm, RequestFormForm, SectionForm
from mutualis.helpdesk.survey import SurveyLinkError, survey_ticket


# -- member side ----------------------------------------------------------------------------------
@login_required
def form_catalogue(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "helpdesk/forms/catalogue.html",
        {
            "groups": selectors.form_catalogue(actor=request.user),
            "can_build": is_operator(request.user),
            "can_submit": services.may_submit(request.user),
        },
    )


@login_required
def form_fill(request: HttpRequest, slug: str) -> HttpResponse:
    form = selectors.form_active_get(actor=request.user, slug=slug)
    questions = services.questions_of(form)
    # The member's own applications, to read or to fill in; operator staff see the catalogue's.
    collectivity_id = services.application_scope(request.user)
    if not services.may_submit(request.user):
        # The same rule as the filing: the form is shown to read, never to fill in for nothing.
        if request.method == "POST":
            services.require_submitter(request.user)
        context = _fill_context(form, AnswerForm(questions=questions, collectivity_id=collectivity_id), preview=True)
        return render(request, "helpdesk/forms/fill.html", {**context, "can_submit": False})
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
            ticket = services.form_submit(actor=request.user, form=form, answers=answers, files=files)
        except ValidationError as error:
            add_service_errors(answer_form, error)
        else:
            messages.success(request, _("Votre demande %(ref)s est enregistrée.") % {"ref": ticket.reference})
            return redirect("helpdesk:ticket", reference=ticket.reference)
    return render(request, "helpdesk/forms/fill.html", {**_fill_context(form, answer_form), "can_submit": True})


def _fill_context(form: RequestForm, answer_form: AnswerForm, *, preview: bool = False) -> dict[str, Any]:
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
        "request_form": form,
        "form": answer_form,
        "sections": sections,
        "multipart": any(q.kind == "file" for q in answer_form.questions),
        "preview": preview,
    }


# -- builder (operator staff) ---------------------------------------------------------------------
@login_required
def form_manage_list(request: HttpRequest) -> HttpResponse:
    forms_ = selectors.form_list(actor=request.user)
    return render(request, "helpdesk/forms/manage_list.html", {"forms": forms_})


@login_required
def form_manage_create(request: HttpRequest) -> HttpResponse:
    require_operator_staff(request.user)
    django_form = RequestFormForm(request.POST or None)
    if request.method == "POST" and django_form.is_valid():
        try:
            created = services.form_create(actor=request.user, data=django_form.cleaned_data)
        except ValidationError as error:
            add_service_errors(django_form, error)
        else:
            messages.success(request, _("Formulaire créé : ajoutez-lui des sections et des questions."))
            return redirect("helpdesk:form_manage", slug=created.slug)
    return _item_page(request, django_form, _("Nouveau formulaire"))


@login_required
def form_manage(request: HttpRequest, slug: str) -> HttpResponse:
    form = selectors.form_get(actor=request.user, slug=slug)
    questions = services.questions_of(form)
    sections = list(form.sections.order_by("position", "id"))
    for section in sections:
        section.items = [q for q in questions if q.section_id == section.pk]  # type: ignore[attr-defined]
    preview = AnswerForm(questions=questions, collectivity_id=None)  # operator staff: the whole catalogue
    return render(
        request,
        "helpdesk/forms/manage_form.html",
        {
            "request_form": form,
            "sections": sections,
            "preview": _fill_context(form, preview, preview=True) if questions else None,
        },
    )


@login_required
def form_manage_edit(request: HttpRequest, slug: str) -> HttpResponse:
    form = selectors.form_get(actor=request.user, slug=slug)
    django_form = RequestFormForm(request.POST or None, instance=form)
    if request.method == "POST" and django_form.is_valid():
        try:
            services.form_update(actor=request.user, form=form, data=django_form.cleaned_data)
        except ValidationError as error:
            add_service_errors(django_form, error)
        else:
            messages.success(request, _("Formulaire enregistré."))
            return redirect("helpdesk:form_manage", slug=form.slug)
    return _item_page(request, django_form, form.name, form=form)


@login_required
def form_manage_delete(request: HttpRequest, slug: str) -> HttpResponse:
    form = selectors.form_get(actor=request.user, slug=slug)
    if request.method == "POST":
        services.form_delete(actor=request.user, form=form)
        messages.success(request, _("Formulaire « %(name)s » supprimé.") % {"name": form.name})
        return redirect("helpdesk:form_manage_list")
    return _confirm_page(request, form, _("Supprimer le formulaire « %(name)s » et ses questions ?") % {"name": form})


@login_required
def section_create(request: HttpRequest, slug: str) -> HttpResponse:
    form = selectors.form_get(actor=request.user, slug=slug)
    django_form = SectionForm(request.POST or None)
    if request.method == "POST" and django_form.is_valid():
        try:
            services.section_add(actor=request.user, form=form, data=django_form.cleaned_data)
        except ValidationError as error:
            add_service_errors(django_form, error)
        else:
            messages.success(request, _("Section ajoutée."))
            return redirect("helpdesk:form_manage", slug=form.slug)
    return _item_page(request, django_form, _("Nouvelle section"), form=form)


@login_required
def section_edit(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    form = selectors.form_get(actor=request.user, slug=slug)
    section = selectors.section_get(actor=request.user, form=form, pk=pk)
    django_form = SectionForm(request.POST or None, instance=section)
    if request.method == "POST" and django_form.is_valid():
        try:
            services.section_update(actor=request.user, section=section, data=django_form.cleaned_data)
        except ValidationError as error:
            add_service_errors(django_form, error)
        else:
            messages.success(request, _("Section enregistrée."))
            return redirect("helpdesk:form_manage", slug=form.slug)
    return _item_page(request, django_form, section.title, form=form)


@login_required
def section_delete(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    form = selectors.form_get(actor=request.user, slug=slug)
    section = selectors.section_get(actor=request.user, form=form, pk=pk)
    if request.method == "POST":
        try:
            services.section_delete(actor=request.user, section=section)
        except ValidationError as error:
            for message in error.messages:
                messages.error(request, message)
        else:
            messages.success(request, _("Section supprimée."))
        return redirect("helpdesk:form_manage", slug=form.slug)
    return _confirm_page(
        request, form, _("Supprimer la section « %(title)s » et ses questions ?") % {"title": section.title}
    )


@login_required
def question_create(request: HttpRequest, slug: str) -> HttpResponse:
    form = selectors.form_get(actor=request.user, slug=slug)
    if not form.sections.exists():
        messages.error(request, _("Ajoutez d'abord une section."))
        return redirect("helpdesk:form_manage", slug=form.slug)
    initial = {"section": request.GET.get("section")} if request.GET.get("section") else {}
    django_form = QuestionForm(request.POST or None, form=form, initial=initial)
    if request.method == "POST" and django_form.is_valid():
        data = dict(django_form.cleaned_data)
        section = data.pop("section")
        try:
            services.question_add(actor=request.user, section=section, data=data)
        except ValidationError as error:
            add_service_errors(django_form, error)
        else:
            messages.success(request, _("Question ajoutée."))
            return redirect("helpdesk:form_manage", slug=form.slug)
    return _item_page(request, django_form, _("Nouvelle question"), form=form)


@login_required
def question_edit(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    form = selectors.form_get(actor=request.user, slug=slug)
    question = selectors.question_get(actor=request.user, form=form, pk=pk)
    django_form = QuestionForm(request.POST or None, form=form, instance=question)
    if request.method == "POST" and django_form.is_valid():
        try:
            services.question_update(actor=request.user, question=question, data=django_form.cleaned_data)
        except ValidationError as error:
            add_service_errors(django_form, error)
        else:
            messages.success(request, _("Question enregistrée."))
            return redirect("helpdesk:form_manage", slug=form.slug)
    return _item_page(request, django_form, question.label, form=form)


@login_required
def question_delete(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    form = selectors.form_get(actor=request.user, slug=slug)
    question = selectors.question_get(actor=request.user, form=form, pk=pk)
    if request.method == "POST":
        try:
            services.question_delete(actor=request.user, question=question)
        except ValidationError as error:
            for message in error.messages:
                messages.error(request, message)
        else:
            messages.success(request, _("Question supprimée."))
        return redirect("helpdesk:form_manage", slug=form.slug)
    return _confirm_page(request, form, _("Supprimer la question « %(label)s » ?") % {"label": question.label})


@login_required
@require_POST
def item_move(request: HttpRequest, slug: str, kind: str, pk: int) -> HttpResponse:
    form = selectors.form_get(actor=request.user, slug=slug)
    item: FormSection | FormQuestion
    if kind == "sections":
        item = selectors.section_get(actor=request.user, form=form, pk=pk)
    else:
        item = selectors.question_get(actor=request.user, form=form, pk=pk)
    move = MoveForm(request.POST)
    if move.is_valid():
        services.item_move(actor=request.user, item=item, direction=move.cleaned_data["direction"])
    else:
        messages.error(request, _("Sens de déplacement inconnu."))
    return redirect(f"{_manage_url(form)}#{'section' if kind == 'sections' else 'question'}-{pk}")


def _manage_url(form: RequestForm) -> str:
    return reverse("helpdesk:form_manage", kwargs={"slug": form.slug})


def _item_page(
    request: HttpRequest, django_form: forms.BaseForm, title: str, *, form: RequestForm | None = None
) -> HttpResponse:
    return render(
        request, "helpdesk/forms/manage_item.html", {"form": django_form, "title": title, "request_form": form}
    )


def _confirm_page(request: HttpRequest, form: RequestForm, question: str) -> HttpResponse:
    return render(request, "helpdesk/forms/confirm_delete.html", {"request_form": form, "question": question})


# -- satisfaction survey (no login) ---------------------------------------------------------------
class SurveyForm(forms.Form):
    rating = forms.TypedChoiceField(
        label=gettext_lazy("Votre satisfaction"),
        coerce=int,
        choices=[
            (1, gettext_lazy("1 — très insatisfait")),
            (2, gettext_lazy("2 — insatisfait")),
            (3, gettext_lazy("3 — moyennement satisfait")),
            (4, gettext_lazy("4 — satisfait")),
            (5, gettext_lazy("5 — très satisfait")),
        ],
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(
        label=gettext_lazy("Commentaire (facultatif)"), required=False, widget=forms.Textarea(attrs={"rows": 4})
    )


SURVEY_ERRORS = {"expired": 410, "tampered": 400, "unknown": 400, "used": 409, "not_closed": 409}


def survey(request: HttpRequest, token: str) -> HttpResponse:
    try:
        ticket = survey_ticket(token)
    except SurveyLinkError as error:
        return _survey_problem(request, error.kind)
    if ticket.satisfaction_at is not None:
        return _survey_problem(request, "used", ticket=ticket)
    if ticket.status != Status.CLOSED:
        return _survey_problem(request, "not_closed", ticket=ticket)
    form = SurveyForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            ticket_services.satisfaction_record(
                ticket=ticket, rating=form.cleaned_data["rating"], comment=form.cleaned_data["comment"]
            )
        except ValidationError as error:
            if ticket.__class__.objects.filter(pk=ticket.pk, satisfaction_at__isnull=False).exists():
                return _survey_problem(request, "used", ticket=ticket)
            add_service_errors(form, error)
        else:
            return render(request, "helpdesk/survey_thanks.html", {"ticket": ticket})
    return render(request, "helpdesk/survey.html", {"ticket": ticket, "form": form})


def _survey_problem(request: HttpRequest, kind: str, *, ticket: Any = None) -> HttpResponse:
    return render(request, "helpdesk/survey_problem.html", {"kind": kind, "ticket": ticket}, status=SURVEY_ERRORS[kind])
