"""Forms of the public pages: the list's filter and the « vérifier un acte » upload."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from mutualis.publication.models import Nature


class ListFilter(forms.Form):
    nature = forms.TypedChoiceField(
        label=_("Nature"),
        choices=[("", _("toutes"))] + list(Nature.choices),
        coerce=int,
        required=False,
        empty_value=None,
    )
    annee = forms.TypedChoiceField(
        label=_("Année de la décision"), choices=[], coerce=int, required=False, empty_value=None
    )

    def __init__(self, *args: object, years: list[int], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["annee"].choices = [("", _("toutes"))] + [(y, str(y)) for y in years]  # type: ignore[attr-defined]


class VerifyForm(forms.Form):
    file = forms.FileField(
        label=_("Le PDF à vérifier"),
        help_text=_("Le fichier est lu pour en calculer l'empreinte, puis oublié : il n'est pas conservé."),
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,application/pdf"}),
    )
