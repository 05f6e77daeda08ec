"""Forms of the notice pages; they only shape input, the services decide."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from mutualis.catalog.models import Application
from mutualis.notices.enums import Kind, State

DATETIME_LOCAL = "%Y-%m-%dT%H:%M"


class DateTimeInput(forms.DateTimeInput):
    """<input type="datetime-local">, whose value must be ISO (2026-12-05T20:00), read in Paris time."""

    input_type = "datetime-local"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs, DATETIME_LOCAL)


class FilterForm(forms.Form):
    etat = forms.ChoiceField(label=_("État"), required=False, choices=[("", _("tous")), *State.choices])
    nature = forms.ChoiceField(label=_("Nature"), required=False, choices=[("", _("toutes")), *Kind.choices])
    application = forms.ChoiceField(label=_("Application"), required=False)

    def __init__(self, *args: Any, applications: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["application"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", _("toutes")), *applications]


class NoticeForm(forms.Form):
    kind = forms.ChoiceField(label=_("Nature"), choices=Kind.choices)
    title = forms.CharField(label=_("Titre"), max_length=200)
    applications = forms.ModelMultipleChoiceField(
        label=_("Applications concernées"),
        queryset=Application.objects.order_by("name"),
        widget=forms.SelectMultiple(attrs={"size": 8}),
        help_text=_(
            "Les adhérents concernés sont ceux qui ont l'une de ces applications en déploiement ou en production."
        ),
    )
    starts_at = forms.DateTimeField(
        label=_("Début (heure de Paris)"), widget=DateTimeInput(), input_formats=[DATETIME_LOCAL]
    )
    planned_end_at = forms.DateTimeField(
        label=_("Fin prévue (heure de Paris)"), widget=DateTimeInput(), input_formats=[DATETIME_LOCAL]
    )
    description = forms.CharField(
        label=_("Description"),
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_("Markdown : **gras**, listes, liens."),
    )


class NoticeCreateForm(NoticeForm):
    in_progress = forms.BooleanField(label=_("Déjà en cours (un incident en train de se produire)"), required=False)


class MessageForm(forms.Form):
    body = forms.CharField(label=_("Message"), widget=forms.Textarea(attrs={"rows": 4}), max_length=20_000)


class TransitionForm(forms.Form):
    message = forms.CharField(
        label=_("Message (facultatif)"), widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=20_000
    )


class EndForm(TransitionForm):
    solve_linked = forms.BooleanField(label=_("Résoudre tous les tickets liés encore ouverts"), required=False)
    solution = forms.CharField(
        label=_("Solution adressée aux demandeurs"),
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        max_length=20_000,
        help_text=_("Obligatoire pour résoudre les tickets liés ; chaque demandeur la reçoit par courriel."),
    )


class LinkForm(forms.Form):
    reference = forms.CharField(label=_("Référence du ticket"), max_length=16, help_text=_("Par exemple 2026-000123."))
