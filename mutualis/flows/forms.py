"""Forms of the flows' pages: the act upload, a document to sign, a connector's settings."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from mutualis.core.widgets import DateInput
from mutualis.flows.adapters.base import COMMON_SETTINGS
from mutualis.flows.enums import FLOW_STEPS, StepName
from mutualis.flows.services import MAX_ATTACHMENTS, MAX_FILE_BYTES
from mutualis.helpdesk.forms_tickets import MultipleFileField

NATURE_CHOICES = [
    ("", _("— choisir —")),
    (1, _("1 · Délibération")),
    (2, _("2 · Acte réglementaire")),
    (3, _("3 · Acte individuel")),
    (4, _("4 · Contrat, convention, avenant")),
    (5, _("5 · Document budgétaire et financier")),
    (6, _("6 · Autre")),
]
FILE_HELP = _("PDF de %(mb)d Mo au plus.") % {"mb": MAX_FILE_BYTES // (1024 * 1024)}


class _StepsWidget(forms.CheckboxSelectMultiple):
    """The steps as checkboxes, those no connector can run yet shown disabled, not offered."""

    def __init__(self, unavailable: set[str]) -> None:
        super().__init__()
        self.unavailable = unavailable

    def create_option(self, name: str, value: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
        option = super().create_option(name, value, *args, **kwargs)
        if value in self.unavailable:
            option["attrs"]["disabled"] = True
        return option


def _steps_field(flow: str) -> forms.MultipleChoiceField:
    unavailable = {str(s.name) for s in FLOW_STEPS[flow] if s.port is None}
    choices = []
    for step in FLOW_STEPS[flow]:
        label = step.name.label if isinstance(step.name, StepName) else step.name
        if str(step.name) in unavailable:
            label = _("%(step)s (prochaine version)") % {"step": label}
        choices.append((step.name, label))
    publishes = any(s.name == StepName.PUBLICATION for s in FLOW_STEPS[flow])
    return forms.MultipleChoiceField(
        label=_("Étapes"),
        choices=choices,
        widget=_StepsWidget(unavailable),
        help_text=_(
            "La publication met l'acte en ligne sur la page publique de l'adhérent, pour les natures qu'il "
            "publie (par défaut : délibérations, actes réglementaires, documents budgétaires) ; pour les "
            "autres natures, l'étape est passée."
        )
        if publishes
        else "",
    )


class DocumentForm(forms.Form):
    """A document to sign: an object, the PDF and its annexes."""

    # The length is the service's to check (499, S²low's limit), with its message.
    subject = forms.CharField(label=_("Objet"), max_length=5000, help_text=_("499 caractères au plus."))
    main = forms.FileField(
        label=_("Document (PDF)"),
        help_text=FILE_HELP,
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,application/pdf"}),
    )
    attachments = MultipleFileField(
        label=_("Annexes (PDF)"),
        help_text=_("%(n)d annexes au plus, en PDF.") % {"n": MAX_ATTACHMENTS},
    )

    def __init__(self, *args: Any, flow: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["steps"] = _steps_field(flow)
        available = [s.name for s in FLOW_STEPS[flow] if s.port is not None]
        self.initial.setdefault("steps", available)


class ActForm(DocumentForm):
    """An act for the prefecture: what @CTES asks, checked by services.act_check."""

    number = forms.CharField(
        label=_("Numéro de l'acte"),
        max_length=15,
        help_text=_("Majuscules, chiffres et « _ », 15 caractères au plus, unique : 2026_DE_042."),
    )
    nature = forms.TypedChoiceField(label=_("Nature de l'acte"), choices=NATURE_CHOICES, coerce=int)
    decision_date = forms.DateField(label=_("Date de la décision"), widget=DateInput())
    classification = forms.CharField(
        label=_("Classification (matière)"),
        max_length=20,
        help_text=_("Code de la classification de la préfecture, au moins deux niveaux : 1.1, 7.1.2."),
    )
    field_order = ["number", "nature", "subject", "decision_date", "classification", "main", "attachments", "steps"]


class PesForm(forms.Form):
    """A PES Aller as the finance software produced it; the service reads its subject from it."""

    main = forms.FileField(
        label=_("Fichier PES (XML)"),
        widget=forms.ClearableFileInput(attrs={"accept": ".xml,application/xml,text/xml"}),
        help_text=_(
            "Le PES Aller produit par le logiciel de finances (dépenses, recettes, budget ou pièces "
            "justificatives), signé par lui s'il doit l'être : il est vérifié puis transmis tel quel."
        ),
    )

    def __init__(self, *args: Any, flow: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["steps"] = _steps_field(flow)
        self.initial.setdefault("steps", [s.name for s in FLOW_STEPS[flow] if s.port is not None])


class ConnectorForm(forms.Form):
    """A connector's label and the adapter's settings; secret ones are never shown back."""

    label = forms.CharField(label=_("Libellé"), max_length=120)

    def __init__(self, *args: Any, adapter: Any, editing: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for setting in (*adapter.settings, *COMMON_SETTINGS):
            help_text = str(setting.help or "")
            # A PEM (certificate, key, authority) spans lines: a text area keeps them.
            multiline = "PEM" in str(setting.label) or "PEM" in help_text
            widget: forms.Widget
            if multiline:
                widget = forms.Textarea(attrs={"rows": 6, "autocomplete": "off", "spellcheck": "false"})
            elif setting.secret:
                widget = forms.PasswordInput(render_value=False)
            else:
                widget = forms.TextInput()
            if setting.secret and editing:
                help_text = (help_text + " " if help_text else "") + str(
                    _("Laissez vide pour garder la valeur enregistrée.")
                )
            self.fields[f"s_{setting.name}"] = forms.CharField(
                label=setting.label,
                required=setting.required and not (setting.secret and editing),
                widget=widget,
                help_text=help_text,
                strip=not multiline,
            )

    def values(self) -> dict[str, str]:
        return {name[2:]: value for name, value in self.cleaned_data.items() if name.startswith("s_")}
