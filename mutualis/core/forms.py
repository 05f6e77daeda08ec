"""Helpers to show a service's ValidationError on the form that fed it."""

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError


def add_service_errors(form: forms.BaseForm, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            target = field if field in form.fields else None
            if field == NON_FIELD_ERRORS:
                target = None
            for item in errors:
                message = " ".join(item.messages)
                form.add_error(target, message if target else f"{field} : {message}" if field != NON_FIELD_ERRORS else message)
    else:
        for message in error.messages:
            form.add_error(None, message)
