"""Forms for organisations and contacts; validation lives in the models, writes in services."""

from django import forms
from django.utils.translation import gettext_lazy as _

from mutualis.core.widgets import DateInput
from mutualis.members.models import Contact, Organisation
from mutualis.members.services import CONTACT_FIELDS, MEMBER_EDITABLE_FIELDS, OPERATOR_EDITABLE_FIELDS


class OrganisationForm(forms.ModelForm):
    website = forms.URLField(label=_("site web"), required=False, assume_scheme="https")

    class Meta:
        model = Organisation
        fields = list(OPERATOR_EDITABLE_FIELDS)
        widgets = {
            "joined_on": DateInput(),
            "left_on": DateInput(),
            "notes": forms.Textarea(attrs={"rows": 4}),
        }

    def __init__(self, *args: object, member_only: bool = False, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        if member_only:
            for name in list(self.fields):
                if name not in MEMBER_EDITABLE_FIELDS:
                    del self.fields[name]

    def _post_clean(self) -> None:
        # Model validation runs in the service, where it belongs; keep the form to field parsing.
        pass


class OrganisationCreateForm(OrganisationForm):
    class Meta(OrganisationForm.Meta):
        fields = ["slug", *OPERATOR_EDITABLE_FIELDS]


class ContactForm(forms.ModelForm):
    class Meta:
        model = Contact
        fields = list(CONTACT_FIELDS)

    def _post_clean(self) -> None:
        pass
