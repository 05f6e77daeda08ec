"""Forms for applications and subscriptions; validation in the models, writes in services."""

from django import forms
from django.utils.translation import gettext_lazy as _

from mutualis.catalog.models import Application, Domain, Licence, Subscription, Vendor
from mutualis.catalog.services import APPLICATION_FIELDS, SUBSCRIPTION_FIELDS
from mutualis.core.widgets import DateInput
from mutualis.members.models import Organisation

_DATE = DateInput()


class ApplicationForm(forms.ModelForm):
    class Meta:
        model = Application
        fields = ["slug", *APPLICATION_FIELDS]
        widgets = {"description": forms.Textarea(attrs={"rows": 4})}

    def _post_clean(self) -> None:
        pass


class ApplicationEditForm(ApplicationForm):
    class Meta(ApplicationForm.Meta):
        fields = list(APPLICATION_FIELDS)


class SubscriptionForm(forms.ModelForm):
    class Meta:
        model = Subscription
        fields = ["collectivity", *SUBSCRIPTION_FIELDS]
        widgets = {"started_on": _DATE, "ended_on": _DATE, "note": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        if "collectivity" in self.fields:  # the edit form leaves the pair alone
            self.fields["collectivity"].queryset = Organisation.objects.collectivities()  # type: ignore[attr-defined]

    def _post_clean(self) -> None:
        pass


class SubscriptionEditForm(SubscriptionForm):
    class Meta(SubscriptionForm.Meta):
        fields = list(SUBSCRIPTION_FIELDS)


class CatalogFilterForm(forms.Form):
    domaine = forms.ChoiceField(label=_("Domaine"), required=False)
    licence = forms.ChoiceField(label=_("Licence"), required=False, choices=[("", _("toutes")), *Licence.choices])
    adherent = forms.ChoiceField(label=_("Adhérent"), required=False)
    q = forms.CharField(label=_("Recherche"), required=False)

    def __init__(self, *args: object, domains: list[tuple[str, str]], members: list[tuple[str, str]], **kwargs: object):
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["domaine"].choices = [("", _("tous")), *domains]  # type: ignore[attr-defined]
        self.fields["adherent"].choices = [("", _("tous")), *members]  # type: ignore[attr-defined]


class VendorForm(forms.ModelForm):
    class Meta:
        model = Vendor
        fields = ["slug", "name", "siren"]

    def _post_clean(self) -> None:
        pass


class VendorEditForm(forms.ModelForm):
    """Name and identifiers; the service checks them (check digits, SIRET within the SIREN)."""

    # Longer than the digits: spaces as printed on invoices ("552 045 999 00086") are dropped below.
    siren = forms.CharField(label=_("SIREN"), max_length=12, required=False)
    siret = forms.CharField(
        label=_("SIRET"),
        max_length=20,
        required=False,
        help_text=_("Établissement titulaire des marchés (données DECP)."),
    )

    class Meta:
        model = Vendor
        fields = ["name", "siren", "siret"]

    def clean_siren(self) -> str:
        return "".join(self.cleaned_data["siren"].split())  # "552 045 999" as printed on invoices

    def clean_siret(self) -> str:
        return "".join(self.cleaned_data["siret"].split())

    def _post_clean(self) -> None:
        pass


class DomainForm(forms.ModelForm):
    class Meta:
        model = Domain
        fields = ["slug", "name", "position"]

    def _post_clean(self) -> None:
        pass
