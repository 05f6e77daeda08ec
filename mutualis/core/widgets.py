"""Form widgets shared by every app: the date input. (Selects are Django's own; their template is
core/templates/django/forms/widgets/select.html.)"""

from __future__ import annotations

from typing import Any

from django import forms

ISO_DATE = "%Y-%m-%d"


class DateInput(forms.DateInput):
    """<input type="date">, whose value must be ISO (2026-12-04) whatever the language: Django's
    DateInput writes the localized "04/12/2026", which Chromium drops, leaving the field empty."""

    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None, format: str | None = None) -> None:  # noqa: A002
        super().__init__(attrs, format or ISO_DATE)
