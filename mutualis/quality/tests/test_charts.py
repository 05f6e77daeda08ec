"""The charts are drawn once per set of figures and kept in the cache: the same bytes as a fresh
drawing, drawn again when a figure changes, and the dashboard draws nothing on its second view."""

import re
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


def _chart_urls(response):
    return re.findall(r'<img class="q-chart" src="([^"]+)"', response.content.decode())


def test_the_dashboard_answers_without_drawing_and_its_charts_are_drawn_once(fixture, world, client, drawings):  # noqa: F811
    assert client.login(username=world.staff.username, password=PASSWORD)
    first = client.get("/qualite/", {"month": "2026-11"})
    assert first.status_code == 200 and drawings.call_count == 0  # the page waits for no chart
    urls = _chart_urls(first)
    assert len(urls) == 3  # volume, service levels, top applications
    assert all(client.get(url).status_code == 200 for url in urls) and drawings.call_count == 3
    again = client.get("/qualite/", {"month": "2026-11"})
    assert _chart_urls(again) == urls
    assert all(client.get(url).status_code == 200 for url in urls) and drawings.call_count == 3
    # A ticket solved in November moves the volume and the service levels: new charts, drawn once.
    solved_ticket(world, opened=at(11, 24, 9), taken=at(11, 24, 9, 10), solved=at(11, 24, 11))
    moved = _chart_urls(client.get("/qualite/", {"month": "2026-11"}))
    assert moved[0] != urls[0]
    assert client.get(moved[0]).status_code == 200 and drawings.call_count == 4


def test_a_chart_is_served_only_to_the_scope_of_the_page_that_asked(fixture, world, client, drawings):  # noqa: F811
    assert client.login(username=world.staff.username, password=PASSWORD)
    urls = _chart_urls(client.get("/qualite/", {"month": "2026-11"}))
    client.logout()
    assert client.login(username=world.manager_a.username, password=PASSWORD)
    assert client.get(urls[0]).status_code == 404  # the operator's figures, asked by a member
    assert client.get(urls[0].replace(urls[0].rsplit("/", 1)[1], "0" * 64 + ".svg")).status_code == 404
    client.logout()
    assert client.login(username=world.staff.username, password=PASSWORD)
    # The arguments travel signed in the URL: altering a figure breaks the signature.
    altered = urls[0].replace("%5B", "%5C", 1) if "%5B" in urls[0] else urls[0][:-10] + "A" + urls[0][-9:]
    assert client.get(altered).status_code == 404
    assert client.get("/qualite/graphiques/inconnu/" + "0" * 64 + ".svg").status_code == 404
    assert drawings.call_count == 0


def test_a_chart_needs_nothing_but_its_url(fixture, world, client, drawings):  # noqa: F811
    # Another app server, with a cache of its own, draws the chart from the URL alone.
    assert client.login(username=world.staff.username, password=PASSWORD)
    urls = _chart_urls(client.get("/qualite/", {"month": "2026-11"}))
    cache.clear()
    answer = client.get(urls[0])
    assert answer.status_code == 200 and drawings.call_count == 1
    assert answer.content.decode().startswith('<svg role="img" aria-label="Demandes ouvertes et résolues par mois"')
