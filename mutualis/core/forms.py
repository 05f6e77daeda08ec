"""Showing a service's ValidationError on the form that fed it."""

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
