"""Forms of the personal-data pages."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class RetentionRuleForm(forms.Form):
    months = forms.IntegerField(
        label=_("Durée de conservation (mois)"),
        min_value=0,
        max_value=1200,
        help_text=_("0 : dès l'échéance (sessions : dès leur expiration)."),
    )
    enabled = forms.BooleanField(label=_("Règle appliquée chaque nuit"), required=False)


class SearchForm(forms.Form):
    q = forms.CharField(
        label=_("Nom, identifiant, courriel ou matricule"),
        min_length=2,
        max_length=100,
        strip=True,
    )


class EraseForm(forms.Form):
    confirm = forms.BooleanField(
        label=_(
            "Je confirme l'effacement : le nom, le courriel, l'identifiant et le téléphone de cette personne seront "
            "remplacés par son pseudonyme partout, y compris dans le journal d'audit. Cette opération est définitive."
        ),
        required=True,
        error_messages={"required": _("Cochez la case pour confirmer l'effacement.")},
    )
