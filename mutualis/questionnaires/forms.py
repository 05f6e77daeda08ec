"""The Django forms of questionnaires: the builder's (questionnaire, section, question) and the
answer form built at run time from a questionnaire's questions."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from mutualis.catalog.models import Application
from mutualis.core.forms import FrenchDecimalField
from mutualis.core.uploads import validate_upload
from mutualis.core.widgets import DateInput
from mutualis.helpdesk.models import Category
from mutualis.members.models import OperatorService
from mutualis.questionnaires.models import Question, QuestionKind, Questionnaire, Section, TicketField
from mutualis.questionnaires.services import is_shown, question_choices


def _choices(form: forms.BaseForm, name: str, queryset: QuerySet[Any]) -> None:
    field = form.fields[name]
    assert isinstance(field, forms.ModelChoiceField)
    field.queryset = queryset


class _ServiceValidated(forms.ModelForm):
    def _post_clean(self) -> None:
        # The service validates the model (and reports what it refuses); skip ModelForm's own pass.
        pass


class QuestionnaireForm(_ServiceValidated):
    class Meta:
        model = Questionnaire
        fields = [
            "name",
            "slug",
            "description",
            "catalogue_category",
            "active",
            "position",
            "ticket_type",
            "ticket_category",
            "application",
            "urgency",
            "group",
            "title_template",
        ]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        categories = Category.objects.order_by("position", "name")
        _choices(self, "catalogue_category", categories)
        _choices(self, "ticket_category", categories)
        _choices(self, "application", Application.objects.order_by("name"))
        _choices(self, "group", OperatorService.objects.order_by("name"))


class SectionForm(_ServiceValidated):
    class Meta:
        model = Section
        fields = ["title", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}


class QuestionForm(_ServiceValidated):
    class Meta:
        model = Question
        fields = [
            "label",
            "key",
            "section",
            "kind",
            "required",
            "help_text",
            "choices",
            "condition_question",
            "condition_value",
            "ticket_field",
        ]
        widgets = {"choices": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args: Any, questionnaire: Questionnaire, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _choices(self, "section", questionnaire.sections.order_by("position", "id"))
        others = Question.objects.filter(questionnaire=questionnaire).exclude(kind=QuestionKind.FILE)
        if self.instance.pk:
            others = others.exclude(pk=self.instance.pk)
        _choices(self, "condition_question", others.order_by("section__position", "position", "id"))


class MoveForm(forms.Form):
    direction = forms.ChoiceField(choices=[("up", _("monter")), ("down", _("descendre"))])


# -- answering ------------------------------------------------------------------------------------
def _field(question: Question, collectivity_id: int | None) -> forms.Field:
    """A field per kind; never required here: whether an answer is required depends on whether
    its question is shown, which AnswerForm.full_clean and the service decide. A question bound
    to a ticket field offers the ticket's choices (the collectivity's applications)."""
    common: dict[str, Any] = {"label": question.label, "help_text": question.help_text, "required": False}
    kind = question.kind
    if kind == QuestionKind.TEXT:
        return forms.CharField(max_length=500, **common)
    if kind == QuestionKind.LONG_TEXT:
        return forms.CharField(widget=forms.Textarea(attrs={"rows": 5}), **common)
    if kind == QuestionKind.NUMBER:
        return FrenchDecimalField(max_digits=20, decimal_places=6, localize=True, **common)
    if kind == QuestionKind.DATE:
        return forms.DateField(widget=DateInput(), **common)
    choices = question_choices(question, collectivity_id=collectivity_id)
    if question.ticket_field == TicketField.APPLICATION and collectivity_id is None:
        note = _("Toutes les applications du catalogue (vue de l'opérateur).")
        common["help_text"] = f"{question.help_text} {note}".strip()
    if kind == QuestionKind.CHOICE:
        if len(choices) <= 6:
            return forms.ChoiceField(choices=choices, widget=forms.RadioSelect, **common)
        return forms.ChoiceField(choices=[("", "—"), *choices], **common)
    if kind == QuestionKind.MULTIPLE_CHOICE:
        return forms.MultipleChoiceField(choices=choices, widget=forms.CheckboxSelectMultiple, **common)
    return forms.FileField(validators=[validate_upload], **common)


class AnswerForm(forms.Form):
    """The questions of a questionnaire as fields named by their keys. Only the questions shown by
    the submitted answers are validated and kept: a hidden question's answer is ignored."""

    def __init__(self, *args: Any, questions: list[Question], collectivity_id: int | None, **kwargs: Any) -> None:
        """`collectivity_id` has no default: None offers the whole catalogue, for operator staff only
        (services.application_scope), never a member's account by omission."""
        super().__init__(*args, **kwargs)
        self.questions = questions
        self.by_key = {q.key: q for q in questions}
        for question in questions:
            self.fields[question.key] = _field(question, collectivity_id)

    def _raw_answers(self) -> dict[str, Any]:
        raw: dict[str, Any] = {}
        for question in self.questions:
            name = self.add_prefix(question.key)
            if question.kind == QuestionKind.MULTIPLE_CHOICE:
                raw[question.key] = self.data.getlist(name) if hasattr(self.data, "getlist") else self.data.get(name)
            elif question.kind == QuestionKind.FILE:
                raw[question.key] = self.files.get(name)
            else:
                raw[question.key] = (self.data.get(name) or "").strip()
        return raw

    def shown_keys(self) -> set[str]:
        raw = self._raw_answers() if self.is_bound else {}
        by_id = {q.pk: q for q in self.questions}
        return {q.key for q in self.questions if is_shown(q, raw, by_id)}

    def full_clean(self) -> None:
        # Validate the shown questions only, then put every field back so the page still renders
        # the hidden ones (the script shows them again when their condition is met).
        every = self.fields
        shown = self.shown_keys() if self.is_bound else set(every)
        self.fields = {name: field for name, field in every.items() if name in shown}
        try:
            super().full_clean()
        finally:
            self.fields = every

    def answers(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """(answers, files) for the service, from the cleaned data."""
        answers: dict[str, Any] = {}
        files: dict[str, Any] = {}
        for key, value in self.cleaned_data.items():
            if self.by_key[key].kind == QuestionKind.FILE:
                if value:
                    files[key] = value
            else:
                answers[key] = value
        return answers, files
