"""Forms of the finance pages; they only shape input, the services decide."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class ExecutionImportForm(forms.Form):
    file = forms.FileField(
        label=_("Fichier d'exécution"),
        help_text=_(
            "CSV ou XLSX avec les colonnes annee, section, sens, chapitre, montant (libelle facultatif), "
            "ou fichier SCDL budget 0.8.3 d'un compte administratif."
        ),
    )
    replace = forms.BooleanField(label=_("Remplacer un exercice déjà chargé"), required=False)


class LoanForm(forms.Form):
    lender = forms.CharField(label=_("Prêteur"), max_length=200)
    label = forms.CharField(label=_("Objet"), max_length=200, required=False)
    initial_capital = forms.DecimalField(label=_("Capital initial (€)"), max_digits=15, decimal_places=2, min_value=0)
    rate = forms.DecimalField(label=_("Taux (%)"), max_digits=6, decimal_places=3, min_value=0)
    start_year = forms.IntegerField(label=_("Année de mobilisation"), min_value=1900, max_value=2200)
    year = forms.IntegerField(label=_("Exercice des chiffres ci-dessous"), min_value=1900, max_value=2200)
    outstanding = forms.DecimalField(label=_("Encours au 31/12 (€)"), max_digits=15, decimal_places=2, min_value=0)
    capital_repaid = forms.DecimalField(label=_("Capital remboursé (€)"), max_digits=15, decimal_places=2, min_value=0)
    interest = forms.DecimalField(label=_("Intérêts (€)"), max_digits=15, decimal_places=2, min_value=0)


class PeriodForm(forms.Form):
    de = forms.IntegerField(label=_("De"), min_value=1900, max_value=2200, required=False)
    a = forms.IntegerField(label=_("À"), min_value=1900, max_value=2200, required=False)
