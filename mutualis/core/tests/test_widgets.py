"""The long select writes the markup Django's own Select writes, and validates the same."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from django import forms
from django.utils.safestring import mark_safe

from mutualis.core.widgets import LongChoiceField, LongSelect

CHOICES = [
    ("", "toutes"),
    ("saint-fons", "Saint-Fons"),
    ("a&b", 'L\'Arbresle "<script>"'),
    ("safe", mark_safe("<em>déjà sûr</em>")),
    (7, "Sept"),
]


class Django(forms.Form):
    where = forms.ChoiceField(required=False, choices=CHOICES)


class Ours(forms.Form):
    where = LongChoiceField(required=False)

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["where"].choices = CHOICES


@pytest.mark.parametrize(
    "data", [None, {"where": "saint-fons"}, {"where": "a&b"}, {"where": "7"}, {"where": "nowhere"}]
)
def test_it_renders_what_django_renders(data):
    django_form, our_form = Django(data), Ours(data)
    assert django_form.is_valid() == our_form.is_valid()
    assert tags(str(our_form["where"])) == tags(str(django_form["where"]))


def tags(markup: str) -> list[tuple[str, ...]]:
    """The markup as (event, tag, sorted attributes | text): whitespace between tags and the order
    of attributes do not count."""
    events: list[tuple[str, ...]] = []

    class Parser(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            events.append(("start", tag, repr(sorted(attrs, key=lambda a: a[0]))))

        def handle_endtag(self, tag: str) -> None:
            events.append(("end", tag))

        def handle_data(self, data: str) -> None:
            if data.strip():
                events.append(("text", data))

    Parser(convert_charrefs=True).feed(markup)
    return events


def test_it_refuses_a_value_outside_its_choices():
    form = Ours({"where": "villeurbanne"})
    assert not form.is_valid()
    assert "villeurbanne" in form.errors["where"][0]


def test_grouped_choices_go_through_django():
    widget = LongSelect(choices=[("Est", [("bron", "Bron")]), ("", "—")])
    html = widget.render("where", "bron")
    assert '<optgroup label="Est">' in html
    assert '<option value="bron" selected>Bron</option>' in html
