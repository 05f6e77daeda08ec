"""Forms of the governance pages: bodies, mandates (seat, end, replace), sittings (agenda,
convocation, votes, minutes) and delegations. They only parse; the services decide."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from mutualis.core.forms import FrenchDecimalField
from mutualis.core.widgets import DateInput
from mutualis.governance.enums import CastingVote
from mutualis.governance.models import AgendaItem, Body, BodyKind, DelegatedDecision, Delegation, Mandate, Sitting
from mutualis.members.models import Organisation

_DATE = DateInput()
DATETIME_LOCAL = "%Y-%m-%dT%H:%M"


class DateTimeInput(forms.DateTimeInput):
    """<input type="datetime-local">, whose value must be ISO (2026-12-05T20:00), read in Paris time."""

    input_type = "datetime-local"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs, DATETIME_LOCAL)


class BodyForm(forms.ModelForm):
    class Meta:
        model = Body
        fields = [
            "slug",
            "name",
            "kind",
            "description",
            "titular_seats_per_member",
            "substitute_seats_per_member",
            "position",
        ]


class MandateForm(forms.ModelForm):
    person_name = forms.CharField(label=_("Personne (nom complet)"), max_length=200)
    email = forms.EmailField(label=_("Adresse électronique (convocations)"), required=False)

    class Meta:
        model = Mandate
        fields = ["body", "role", "organisation", "title", "commission_led", "start_on", "end_on"]
        widgets = {"start_on": _DATE, "end_on": _DATE}

    field_order = [
        "person_name",
        "email",
        "body",
        "role",
        "organisation",
        "title",
        "commission_led",
        "start_on",
        "end_on",
    ]

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["organisation"].queryset = Organisation.objects.all()  # type: ignore[attr-defined]
        self.fields["commission_led"].queryset = Body.objects.filter(kind=BodyKind.COMMISSION)  # type: ignore[attr-defined]

    def _post_clean(self) -> None:
        pass


class MandateEndForm(forms.Form):
    end_on = forms.DateField(label=_("Fin du mandat"), widget=_DATE)
    reason = forms.CharField(label=_("Motif"), max_length=200, required=False)


class MandateReplaceForm(forms.Form):
    person_name = forms.CharField(label=_("Remplaçant (nom complet)"), max_length=200)
    email = forms.EmailField(label=_("Adresse électronique (convocations)"), required=False)
    start_on = forms.DateField(label=_("Début du nouveau mandat"), widget=_DATE)
    reason = forms.CharField(
        label=_("Motif du remplacement"), max_length=200, help_text=_("Démission, décès, nouvelle désignation…")
    )


class SittingForm(forms.ModelForm):
    starts_at = forms.DateTimeField(
        label=_("Date et heure (heure de Paris)"), widget=DateTimeInput(), input_formats=[DATETIME_LOCAL]
    )

    class Meta:
        model = Sitting
        fields = ["starts_at", "place", "kind"]


class AgendaItemForm(forms.ModelForm):
    class Meta:
        model = AgendaItem
        fields = ["title", "rapporteur", "kind", "draft"]


class ConveneForm(forms.Form):
    emergency_reason = forms.CharField(
        label=_("Motif de l'urgence (le cas échéant)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("En urgence motivée, le délai est d'un jour franc au lieu de cinq."),
    )


class VoteForm(forms.Form):
    votes_for = forms.IntegerField(label=_("Pour"), min_value=0)
    votes_against = forms.IntegerField(label=_("Contre"), min_value=0)
    abstentions = forms.IntegerField(label=_("Abstentions"), min_value=0)
    not_voting = forms.IntegerField(label=_("Ne prennent pas part au vote"), min_value=0, initial=0)
    casting_vote = forms.ChoiceField(
        label=_("Voix du président en cas de partage égal"),
        choices=[("", "—"), *CastingVote.choices],
        required=False,
    )


class CloseForm(forms.Form):
    minutes = forms.CharField(label=_("Procès-verbal"), widget=forms.Textarea(attrs={"rows": 8}))


class DelegationForm(forms.ModelForm):
    threshold_ht = FrenchDecimalField(label=_("Plafond HT (€)"), required=False, max_digits=14, decimal_places=2)

    class Meta:
        model = Delegation
        fields = [
            "delegate",
            "scope",
            "deliberation",
            "deliberation_reference",
            "threshold_ht",
            "valid_from",
            "valid_until",
        ]
        widgets = {"valid_from": _DATE, "valid_until": _DATE}

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        field = self.fields["deliberation"]
        field.queryset = AgendaItem.objects.filter(sequence__isnull=False).order_by("-year", "-sequence")  # type: ignore[attr-defined]
        field.label_from_instance = lambda item: f"{item.number} — {item.title}"  # type: ignore[attr-defined]

    def _post_clean(self) -> None:
        pass


class DelegatedDecisionForm(forms.ModelForm):
    amount_ht = FrenchDecimalField(label=_("Montant HT (€)"), required=False, max_digits=14, decimal_places=2)

    class Meta:
        model = DelegatedDecision
        fields = ["delegation", "object", "decided_on", "amount_ht", "contract"]
        widgets = {"decided_on": _DATE}

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        contract = self.fields["contract"]
        contract.label_from_instance = lambda c: f"{c.code} — {c.object[:80]}"  # type: ignore[attr-defined]

    def _post_clean(self) -> None:
        pass
