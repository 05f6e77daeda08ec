"""Forms of the identity pages."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from mutualis.catalog.models import Application
from mutualis.identity.models import AgentStatus, DirectoryAttribute


class AgentFilterForm(forms.Form):
    q = forms.CharField(label=_("Rechercher"), required=False)
    statut = forms.ChoiceField(label=_("Statut"), required=False, choices=[("", "—"), *AgentStatus.choices])


class AttributeReleaseForm(forms.Form):
    application = forms.ModelChoiceField(label=_("Application"), queryset=Application.objects.order_by("name"))
    attribute = forms.ChoiceField(label=_("Attribut"), choices=DirectoryAttribute.choices)
    purpose = forms.CharField(
        label=_("Finalité"), max_length=300, help_text=_("Pourquoi l'application en a besoin (RGPD).")
    )
