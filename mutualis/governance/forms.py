"""Forms to seat a person on a body and to end a mandate."""

from django import forms
from django.utils.translation import gettext_lazy as _

from mutualis.core.widgets import DateInput
from mutualis.governance.models import Body, BodyKind, Mandate
from mutualis.members.models import Organisation

_DATE = DateInput()


class MandateForm(forms.ModelForm):
    person_name = forms.CharField(label=_("Personne (nom complet)"), max_length=200)

    class Meta:
        model = Mandate
        fields = ["body", "role", "organisation", "title", "commission_led", "start_on", "end_on"]
        widgets = {"start_on": _DATE, "end_on": _DATE}

    field_order = ["person_name", "body", "role", "organisation", "title", "commission_led", "start_on", "end_on"]

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["organisation"].queryset = Organisation.objects.all()  # type: ignore[attr-defined]
        self.fields["commission_led"].queryset = Body.objects.filter(kind=BodyKind.COMMISSION)  # type: ignore[attr-defined]

    def _post_clean(self) -> None:
        pass


class MandateEndForm(forms.Form):
    end_on = forms.DateField(label=_("Fin du mandat"), widget=_DATE)
