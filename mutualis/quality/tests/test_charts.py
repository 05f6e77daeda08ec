"""The charts are drawn once per set of figures and kept in the cache: the same bytes as a fresh
drawing, drawn again when a figure changes, and the dashboard draws nothing on its second view."""

from unittest import mock

import pytest
from django.core.cache import cache
from matplotlib.figure import Figure

from mutualis.quality import charts
from mutualis.quality.tests.test_kpis import at, fixture, solved_ticket  # noqa: F401 (fixture)
from mutualis.testing.factories import PASSWORD

VOLUME = {
    "labels": ["oct.", "nov.", "déc."],
    "opened": [3, 7, 4],
    "solved": [2, 6, 5],
    "peak": 1,
    "label": "Demandes ouvertes et résolues par mois",
    "opened_label": "ouvertes",
    "solved_label": "résolues",
    "peak_label": "pic",
}


@pytest.fixture
def drawings():
    """Counts the figures matplotlib actually renders."""
    cache.clear()
    with mock.patch.object(Figure, "savefig", autospec=True, side_effect=Figure.savefig) as savefig:
        yield savefig
    cache.clear()


def test_it_draws_the_same_figures_once(drawings):
    first = charts.volume_chart(**VOLUME)
    second = charts.volume_chart(**VOLUME)
    assert drawings.call_count == 1
    assert first == second == charts.volume_chart.__wrapped__(**VOLUME)  # what a fresh drawing gives
    assert first.startswith('<svg role="img" aria-label="Demandes ouvertes et résolues par mois"')


def test_it_draws_again_when_a_figure_or_a_label_changes(drawings):
    base = charts.volume_chart(**VOLUME)
    more = charts.volume_chart(**{**VOLUME, "opened": [3, 8, 4]})
    english = charts.volume_chart(**{**VOLUME, "opened_label": "opened"})
    assert drawings.call_count == 3
    assert len({base, more, english}) == 3
    rates = {"résolution dans les délais": [90.0, None, 100.0]}
    assert charts.rate_chart(labels=VOLUME["labels"], series=rates, label="Respect") != charts.rate_chart(
        labels=VOLUME["labels"], series={"résolution dans les délais": [90.0, 50.0, 100.0]}, label="Respect"
    )
    assert drawings.call_count == 5


def test_the_dashboard_draws_its_charts_on_its_first_view_only(fixture, world, client, drawings):  # noqa: F811
    assert client.login(username=world.staff.username, password=PASSWORD)
    first = client.get("/qualite/", {"month": "2026-11"})
    drawn = drawings.call_count
    assert first.status_code == 200 and drawn == 3  # volume, service levels, top applications
    again = client.get("/qualite/", {"month": "2026-11"})
    assert drawings.call_count == drawn
    assert again.context["charts"] == first.context["charts"]
    # A ticket solved in November moves the volume and the service levels: drawn again.
    solved_ticket(world, opened=at(11, 24, 9), taken=at(11, 24, 9, 10), solved=at(11, 24, 11))
    moved = client.get("/qualite/", {"month": "2026-11"})
    assert drawings.call_count > drawn
    assert moved.context["charts"]["volume"] != first.context["charts"]["volume"]
