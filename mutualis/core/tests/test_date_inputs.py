"""Date inputs: an HTML <input type="date"> takes an ISO value whatever the page's language
(Chromium drops the French "04/12/2026" and shows an empty field), one widget for every form."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.utils import translation

from mutualis.core.views import AuditFilterForm
from mutualis.helpdesk.forms_tickets import TaskForm
from mutualis.helpdesk.views.configuration import ClosureForm
from mutualis.procurement.forms import RenewalForm

DAY = dt.date(2026, 12, 4)


@pytest.mark.parametrize(
    ("form_class", "field"),
    [(TaskForm, "done_on"), (AuditFilterForm, "since"), (ClosureForm, "start"), (RenewalForm, "decided_on")],
)
@pytest.mark.parametrize("language", ["fr", "en"])
def test_it_renders_a_date_input_value_in_iso(db, form_class, field, language):
    with translation.override(language):
        html = str(form_class(initial={field: DAY})[field])

    assert 'type="date"' in html
    assert 'value="2026-12-04"' in html


def test_it_uses_the_one_date_widget_everywhere():
    root = Path(__file__).resolve().parents[2]
    offenders = [
        str(path.relative_to(root))
        for path in root.rglob("*.py")
        if "tests" not in path.parts and path.name != "widgets.py" and "forms.DateInput(" in path.read_text()
    ]

    assert offenders == []
