"""Form widgets shared by every app: the date and month inputs. (Selects are Django's own; their template is
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


class MonthInput(forms.DateInput):
    """<input type="month">: a month picker whose value is 2026-12 whatever the language (the day is
    the first of the month); pair it with `input_formats=MONTH_INPUT_FORMATS`."""

    input_type = "month"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__({"pattern": "[0-9]{4}-[0-9]{2}", **(attrs or {})}, "%Y-%m")


MONTH_INPUT_FORMATS = ["%Y-%m", "%Y-%m-%d"]
