"""Forms of the finance pages; they only shape input, the services decide."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from mutualis.catalog.models import Application
from mutualis.core.uploads import validate_upload
from mutualis.finance.computations import CofinancingShare
from mutualis.finance.models import BudgetYear, ContributionKey
from mutualis.members.models import Organisation


class ExecutionImportForm(forms.Form):
    file = forms.FileField(
        label=_("Fichier d'exécution"),
        validators=[validate_upload],
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

    YEAR_FIELDS = ("year", "outstanding", "capital_repaid", "interest")

    def __init__(self, *args: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.editing = editing
        if editing:
            # Editing a loan: its terms, plus optionally one year's figures (added or corrected).
            for name in self.YEAR_FIELDS:
                self.fields[name].required = False
            self.fields["year"].help_text = _(
                "Facultatif : renseignez l'exercice et ses trois montants pour ajouter ou corriger une annuité."
            )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.editing:
            given = [name for name in self.YEAR_FIELDS if data.get(name) is not None]
            if given and len(given) < len(self.YEAR_FIELDS) and not any(n in self.errors for n in self.YEAR_FIELDS):
                raise forms.ValidationError(
                    _("Pour une annuité, renseignez l'exercice, l'encours, le capital remboursé et les intérêts.")
                )
        return data

    def year_figures(self) -> dict[str, Any] | None:
        data = self.cleaned_data
        if data.get("year") is None:
            return None
        return {name: data[name] for name in self.YEAR_FIELDS}


class PeriodForm(forms.Form):
    de = forms.IntegerField(label=_("De"), min_value=1900, max_value=2200, required=False)
    a = forms.IntegerField(label=_("À"), min_value=1900, max_value=2200, required=False)


def _weight(label: Any) -> forms.DecimalField:
    return forms.DecimalField(label=label, max_digits=5, decimal_places=2, min_value=0, max_value=100, initial=0)


class ContributionKeyForm(forms.Form):
    slug = forms.SlugField(
        label=_("Identifiant"), max_length=60, help_text=_("Lettres, chiffres et tirets ; il ne change plus ensuite.")
    )
    name = forms.CharField(label=_("Nom"), max_length=200)
    population_weight = _weight(_("Poids de la population (%)"))
    agents_weight = _weight(_("Poids du nombre d'agents (%)"))
    applications_weight = _weight(_("Poids des applications souscrites (%)"))

    def __init__(self, *args: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if editing:
            del self.fields["slug"]
        self.fields["applications_weight"].help_text = _("Les trois poids doivent totaliser 100 %.")


class ContributionCallForm(forms.Form):
    budget_year = forms.ModelChoiceField(label=_("Exercice"), queryset=BudgetYear.objects.none())
    label = forms.CharField(label=_("Libellé"), max_length=200)
    mutualised_amount = forms.DecimalField(
        label=_("Coût mutualisé à répartir (€)"), max_digits=15, decimal_places=2, min_value=0
    )
    key = forms.ModelChoiceField(label=_("Clé de répartition"), queryset=ContributionKey.objects.order_by("name"))
    note = forms.CharField(label=_("Note"), widget=forms.Textarea(attrs={"rows": 3}), required=False)

    def __init__(self, *args: Any, budget_years: QuerySet[BudgetYear] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if budget_years is None:
            del self.fields["budget_year"]
        else:
            field = self.fields["budget_year"]
            field.queryset = budget_years  # type: ignore[attr-defined]
            field.label_from_instance = lambda item: f"{item.year} — {item.budget}"  # type: ignore[attr-defined]


class ApplicationPricesForm(forms.Form):
    """One price field per catalogue application; left empty, the application has no personalised part."""

    def __init__(self, *args: Any, rows: list[tuple[Application, Decimal | None]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.applications = {}
        for application, price in rows:
            name = f"price_{application.pk}"
            self.applications[name] = application
            self.fields[name] = forms.DecimalField(
                label=_("%(a)s — prix par adhérent abonné (€)") % {"a": application.name},
                max_digits=15,
                decimal_places=2,
                min_value=0,
                required=False,
                initial=price,
            )

    def prices(self) -> dict[Application, Decimal | None]:
        return {application: self.cleaned_data.get(name) for name, application in self.applications.items()}


class CofinancingForm(forms.Form):
    label = forms.CharField(label=_("Libellé"), max_length=200)
    amount = forms.DecimalField(label=_("Montant à cofinancer (€)"), max_digits=15, decimal_places=2, min_value=0)
    called_in = forms.IntegerField(label=_("Appelé en"), min_value=1900, max_value=2200, required=False)


class CofinancingShareForm(forms.Form):
    partner = forms.ModelChoiceField(label=_("Partenaire"), queryset=Organisation.objects.none(), required=False)
    fixed_amount = forms.DecimalField(
        label=_("Montant fixe (€)"), max_digits=15, decimal_places=2, min_value=0, required=False
    )
    percent = forms.DecimalField(
        label=_("Pourcentage du reste (%)"), max_digits=6, decimal_places=3, min_value=0, max_value=100, required=False
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["partner"].queryset = Organisation.objects.collectivities().order_by("name")  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        fixed, percent = data.get("fixed_amount"), data.get("percent")
        if data.get("partner") is None:
            if fixed is not None or percent is not None:
                raise forms.ValidationError(_("Choisissez le partenaire de cette part."))
        elif (fixed is None) == (percent is None):
            raise forms.ValidationError(_("Donnez soit un montant fixe, soit un pourcentage, pas les deux."))
        return data


class BaseCofinancingShareFormSet(forms.BaseFormSet):
    def clean(self) -> None:
        if any(self.errors):
            return
        partners = [form.cleaned_data["partner"] for form in self.forms if form.cleaned_data.get("partner")]
        if not partners:
            raise forms.ValidationError(_("Indiquez au moins un partenaire."))
        twice = sorted({p.name for p in partners if partners.count(p) > 1})
        if twice:
            raise forms.ValidationError(_("Partenaire donné deux fois : %(p)s.") % {"p": ", ".join(twice)})

    def shares(self) -> dict[Organisation, CofinancingShare]:
        return {
            form.cleaned_data["partner"]: CofinancingShare(
                fixed=form.cleaned_data.get("fixed_amount"), percent=form.cleaned_data.get("percent")
            )
            for form in self.forms
            if form.cleaned_data.get("partner")
        }


CofinancingShareFormSet = forms.formset_factory(
    CofinancingShareForm, formset=BaseCofinancingShareFormSet, extra=3, max_num=100, validate_max=True
)
