"""The commitment form of a maintenance contract's page."""

from __future__ import annotations

from django import forms

from mutualis.ola.models import Commitment
from mutualis.ola.services import COMMITMENT_FIELDS


class CommitmentForm(forms.ModelForm):
    class Meta:
        model = Commitment
        fields = COMMITMENT_FIELDS
