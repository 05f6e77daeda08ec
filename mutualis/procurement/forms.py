"""Forms of the register pages; they only shape input, the services decide."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from mutualis.catalog.models import Application, Vendor
from mutualis.core.uploads import validate_upload
from mutualis.core.widgets import DateInput
from mutualis.governance.models import Body
from mutualis.procurement.enums import Procedure, RenewalChoice
from mutualis.procurement.models import Contract, Threshold


class RegisterFilterForm(forms.Form):
    annee = forms.TypedChoiceField(label=_("Année de notification"), required=False, coerce=int, empty_value=None)
    titulaire = forms.ChoiceField(label=pgettext_lazy("contract", "Titulaire"), required=False)
    procedure = forms.ChoiceField(label=_("Procédure"), required=False)
    application = forms.ChoiceField(label=_("Application"), required=False)
    echeance = forms.TypedChoiceField(
        label=_("Fin prochaine"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", _("toutes")), ("30", _("dans 30 jours")), ("60", _("dans 60 jours")), ("90", _("dans 90 jours"))],
    )

    def __init__(
        self,
        *args: Any,
        years: list[int],
        vendors: list[tuple[str, str]],
        applications: list[tuple[str, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        # `self.fields` is typed as plain Field; these four are the ChoiceFields declared above.
        choice_fields = {
            name: cast(forms.ChoiceField, self.fields[name])
            for name in ("annee", "titulaire", "procedure", "application")
        }
        everything = [("", _("toutes"))]
        choice_fields["annee"].choices = [*everything, *((str(y), str(y)) for y in years)]
        choice_fields["titulaire"].choices = [("", _("tous")), *vendors]
        choice_fields["procedure"].choices = [*everything, *Procedure.choices]
        choice_fields["application"].choices = [*everything, *applications]


class ContractForm(forms.ModelForm):
    holders = forms.ModelMultipleChoiceField(
        label=pgettext_lazy("contract", "Titulaires"),
        queryset=Vendor.objects.order_by("name"),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 6}),
    )
    new_holder_name = forms.CharField(label=_("Nouveau titulaire : nom"), required=False, max_length=200)
    new_holder_siret = forms.CharField(label=_("Nouveau titulaire : SIRET"), required=False, max_length=14)
    applications = forms.ModelMultipleChoiceField(
        label=_("Applications couvertes"),
        queryset=Application.objects.order_by("name"),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 8}),
    )

    class Meta:
        model = Contract
        fields = [
            "code",
            "object",
            "kind",
            "procedure",
            "award_mode",
            "amount_kind",
            "max_amount_ht",
            "budget_scope",
            "cpv_code",
            "notified_on",
            "starts_on",
            "duration_months",
            "planned_end_on",
            "renewals_allowed",
            "renewal_period_months",
            "award_body",
            "awarded_on",
            "buyer_siret",
            "decp_details",
            "notes",
        ]
        widgets = {
            "object": forms.Textarea(attrs={"rows": 3}),
            "notified_on": DateInput(),
            "starts_on": DateInput(),
            "planned_end_on": DateInput(),
            "awarded_on": DateInput(),
            "decp_details": forms.Textarea(attrs={"rows": 4}),
            "notes": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # A foreign key's form field is a ModelChoiceField; `self.fields` is typed as plain Field.
        cast(forms.ModelChoiceField, self.fields["award_body"]).queryset = Body.objects.order_by("position", "name")
        if self.instance.pk:
            self.fields["holders"].initial = list(self.instance.holders.all())
            self.fields["applications"].initial = list(self.instance.applications.all())

    def _post_clean(self) -> None:
        # The service validates the model (and reports what it refuses); skip ModelForm's own pass.
        pass


class LotForm(forms.Form):
    number = forms.IntegerField(label=_("Numéro de lot"), min_value=1)
    object = forms.CharField(label=_("Objet"), max_length=1000)
    amount_ht = forms.DecimalField(label=_("Montant HT (€)"), required=False, max_digits=14, decimal_places=2)
    holder = forms.ModelChoiceField(
        label=pgettext_lazy("contract", "Titulaire"), queryset=Vendor.objects.order_by("name"), required=False
    )
    application = forms.ModelChoiceField(
        label=_("Application"), queryset=Application.objects.order_by("name"), required=False
    )


class RenewalForm(forms.Form):
    decided_on = forms.DateField(label=_("Décidé le"), widget=DateInput())
    decision = forms.ChoiceField(label=_("Décision"), choices=RenewalChoice.choices)
    body = forms.ModelChoiceField(
        label=_("Instance"), queryset=Body.objects.order_by("position", "name"), required=False
    )
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class DecpImportForm(forms.Form):
    file = forms.FileField(label=_("Fichier DECP 2.0.3 (JSON)"), validators=[validate_upload])


class ThresholdForm(forms.ModelForm):
    class Meta:
        model = Threshold
        fields = ["kind", "amount_ht", "valid_from", "source"]
        widgets = {"valid_from": DateInput()}

    def _post_clean(self) -> None:
        # The service validates (positive amount, one value per kind and date).
        pass
