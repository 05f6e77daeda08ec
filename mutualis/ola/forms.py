"""The commitment form of a maintenance contract's page."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from mutualis.ola.models import Commitment
from mutualis.ola.services import COMMITMENT_FIELDS


class CommitmentForm(forms.ModelForm):
    class Meta:
        model = Commitment
        fields = COMMITMENT_FIELDS
        # Two fields named « unité » in the model: each label says which delay it counts.
        labels = {
            "respond_unit": _("unité du délai de réponse"),
            "fix_unit": _("unité du délai de correction"),
        }
        help_texts = {
            "ticket_type": _("Vide : tous les types."),
            "priority": _("De 1 à 6 ; vide : toutes les priorités."),
            "respond_value": _("Facultatif : affiché comme échéance, non mesuré."),
        }
