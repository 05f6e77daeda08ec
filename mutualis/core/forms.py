"""Showing a service's ValidationError on the form that fed it; numbers typed the French way."""

import re
from typing import Any

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError


def add_service_errors(form: forms.BaseForm, error: ValidationError) -> None:
    """Field errors go next to their field when the form shows it, else at the top naming it."""
    if not hasattr(error, "error_dict"):
        for message in error.messages:
            form.add_error(None, message)
        return
    for field, errors in error.error_dict.items():
        message = " ".join(m for item in errors for m in item.messages)
        if field in form.fields:
            form.add_error(field, message)
        elif field == NON_FIELD_ERRORS:
            form.add_error(None, message)
        else:
            form.add_error(None, f"{field} : {message}")


class FrenchDecimalField(forms.DecimalField):
    """A number as people type it in France: « 1 234,5 » (spaces between thousands) or « 1234.5 ».
    Django drops thousands separators only while USE_THOUSAND_SEPARATOR is on, and it is off so that
    years never print as « 2 022 » (config/settings.py): this field drops them itself."""

    def to_python(self, value: Any) -> Any:
        if isinstance(value, str):
            value = re.sub(r"[ \u00a0\u202f]", "", value.strip())
        return super().to_python(value)
