"""Selects go through the project's select.html, which writes the markup Django's own templates write."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from django import forms
from django.forms.renderers import DjangoTemplates, get_default_renderer
from django.utils.safestring import mark_safe

CHOICES = [
    ("", "toutes"),
    ("saint-fons", "Saint-Fons"),
    ("a&b", 'L\'Arbresle "<script>"'),
    ("safe", mark_safe("<em>déjà sûr</em>")),
    (7, "Sept"),
    ("Est", [("bron", "Bron"), ("vaulx", "Vaulx-en-Velin")]),
]


class Where(forms.Form):
    where = forms.ChoiceField(required=False, choices=CHOICES, widget=forms.Select(attrs={"class": "wide"}))
    several = forms.MultipleChoiceField(required=False, choices=CHOICES)
    known = forms.NullBooleanField(required=False)


class OwnOption(forms.Select):
    option_template_name = "django/forms/widgets/input.html"  # any other option template


def test_it_uses_the_projects_select_template():
    template = get_default_renderer().get_template("django/forms/widgets/select.html")
    assert template.origin.name.endswith("mutualis/core/templates/django/forms/widgets/select.html")


@pytest.mark.parametrize(
    "data",
    [
        None,
        {"where": "saint-fons"},
        {"where": "a&b", "several": ["7", "bron"]},
        {"where": "vaulx", "known": "true"},
        {"where": "nowhere"},
    ],
)
def test_it_renders_what_djangos_own_templates_render(data):
    ours, django = Where(data), Where(data, renderer=DjangoTemplates())
    for name in ("where", "several", "known"):
        assert str(ours[name]) == str(django[name]), name


def test_a_widget_with_its_own_option_template_keeps_it():
    widget = OwnOption(choices=[("bron", "Bron")])
    assert tags(widget.render("where", "bron")) == tags(widget.render("where", "bron", renderer=DjangoTemplates()))
    assert "<input" in widget.render("where", "bron")


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
