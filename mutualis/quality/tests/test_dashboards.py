"""The dashboards: the same figures as `helpdesk_kpis` and as by hand, links to the tickets
behind them, a constant number of queries, and tenancy."""

import json
import re
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from mutualis.helpdesk import selectors as helpdesk_selectors
from mutualis.quality.kpis import MEASURES
from mutualis.quality.tests.test_kpis import at, fixture, solved_ticket  # noqa: F401 (fixture)
from mutualis.testing.factories import PASSWORD


def login(client, user):
    assert client.login(username=user.username, password=PASSWORD)


def cli(*args):
    out = StringIO()
    call_command("helpdesk_kpis", "--format", "json", *args, stdout=out)
    return json.loads(out.getvalue())


def november(response):
    return next(row for row in response.context["data"]["series"] if row["month"] == "2026-11")


def test_it_shows_the_cli_figures_and_the_hand_computation(fixture, world, client):  # noqa: F811
    login(client, world.staff)
    response = client.get("/qualite/", {"month": "2026-11"})
    assert response.status_code == 200
    row = november(response)
    [from_cli] = [r for r in cli("--from", "2025-12", "--to", "2026-11", "--by", "month") if r["month"] == "2026-11"]
    assert {m: row[m] for m in MEASURES} == {m: from_cli[m] for m in MEASURES}
    # By hand (see test_kpis): 3 opened, 3 solved, 1 left open since October; TTR 1 h, 2 h, 3.5 h.
    assert (row["opened"], row["solved"], row["backlog_end"]) == (3, 3, 1)
    assert row["ttr_median_s"] == 7200 and row["ttr_p90_s"] == 7200 + 0.8 * 5400
    assert row["blocking_2d_pct"] == 100.0 and row["sla_tto_pct"] == 100.0
    october = next(r for r in response.context["data"]["series"] if r["month"] == "2026-10")
    assert (october["opened"], october["backlog_end"]) == (1, 1)
    assert response.context["data"]["peak"] == 11  # November, the last of the twelve months
    totals = response.context["data"]["totals"]
    [cli_totals] = cli("--from", "2025-12", "--to", "2026-11", "--by", "")
    assert {m: totals[m] for m in MEASURES} == {m: cli_totals[m] for m in MEASURES}
    by_member = {r["collectivity"]: r for r in response.context["data"]["collectivities"]}
    for r in cli("--from", "2025-12", "--to", "2026-11", "--by", "collectivity"):
        assert {m: by_member[r["collectivity"]][m] for m in MEASURES} == {m: r[m] for m in MEASURES}


def test_it_shows_a_member_against_the_operator(fixture, world, client):  # noqa: F811
    login(client, world.manager_a)
    response = client.get("/qualite/adherents/alpha/", {"month": "2026-11"})
    assert response.status_code == 200
    row = november(response)
    [from_cli] = [
        r
        for r in cli("--from", "2025-12", "--to", "2026-11", "--by", "month", "--collectivity", "alpha")
        if r["month"] == "2026-11"
    ]
    assert {m: row[m] for m in MEASURES} == {m: from_cli[m] for m in MEASURES}
    assert (row["opened"], row["solved"]) == (2, 2)
    assert row["ttr_median_s"] == (3600 + 7200) / 2
    # The operator: three opened in November over two members.
    assert response.context["data"]["members"] == 2 and row["average_opened"] == 1.5
    assert row["operator_sla_ttr_pct"] == 100.0


def test_it_links_every_figure_to_its_tickets(fixture, world, client):  # noqa: F811
    login(client, world.staff)
    html = client.get("/qualite/", {"month": "2026-11"}).content.decode()
    for query, expected in (
        ("opened=2026-11", 3),
        ("solved=2026-11", 3),
        ("backlog=2026-11", 1),
        ("opened=2026-10", 1),
    ):
        assert f"/assistance/?view=all&amp;{query}" in html
        queue = client.get(f"/assistance/?view=all&{query}")
        assert queue.status_code == 200
        assert queue.context["page"].paginator.count == expected, query
    # The member's own links go to "Mes demandes", filtered the same way.
    login(client, world.manager_a)
    html = client.get("/qualite/adherents/alpha/", {"month": "2026-11"}).content.decode()
    assert "/assistance/?view=all&amp;opened=2026-11&amp;collectivity=alpha" in html
    page = client.get("/assistance/?view=all&opened=2026-11&collectivity=alpha")
    assert page.context["page"].paginator.count == 2


def test_it_filters_the_queue_by_month_range(fixture, world):  # noqa: F811
    def count(**filters):
        return helpdesk_selectors.ticket_queue(actor=world.staff, view="all", **filters).count()

    assert count(opened="2026-10..2026-11") == 4
    assert count(solved="2026-11", collectivity="bravo") == 1
    assert count(backlog="2026-10") == 1
    assert count(opened="2026-13") == 4  # malformed: ignored
    assert helpdesk_selectors.period_filters({"opened": "2026-11", "solved": "x", "view": "all"}) == {
        "opened": "2026-11"
    }


def test_it_draws_accessible_svg_figures(fixture, world, client):  # noqa: F811
    login(client, world.staff)
    html = client.get("/qualite/", {"month": "2026-11"}).content.decode()
    figures = re.findall(r"<figure.*?</figure>", html, re.S)
    assert len(figures) == 3
    for figure in figures:
        assert "<figcaption" in figure and "<table>" in figure and 'scope="col"' in figure
    # Each chart is an <img> with its text alternative, fetched on its own (quality:chart).
    sources = [re.search(r'<img class="q-chart" src="([^"]+)"[^>]* alt="[^"]+', figure) for figure in figures]
    assert all(sources)
    svg = client.get(sources[0].group(1))
    assert svg.status_code == 200 and svg["Content-Type"].startswith("image/svg+xml")
    assert svg.content.decode().startswith('<svg role="img" aria-label=')
    assert "<text" in svg.content.decode()  # svg.fonttype none: labels stay text
    assert 'class="q-peak"' in figures[0] and "pic" in figures[0]


def _more_tickets(world, count):
    for day in range(count):
        solved_ticket(
            world,
            opened=at(6 + day % 5, 2 + day, 9),
            taken=at(6 + day % 5, 2 + day, 10),
            solved=at(6 + day % 5, 2 + day, 15),
            member=world.member_b if day % 2 else world.member_a,
        )


@pytest.mark.parametrize("path", ["/qualite/?month=2026-11", "/qualite/adherents/alpha/?month=2026-11"])
def test_it_keeps_the_query_count_constant(fixture, world, client, path):  # noqa: F811
    login(client, world.staff)
    client.get(path)  # warm the session and the content types
    with CaptureQueriesContext(connection) as small:
        before = client.get(path)
    _more_tickets(world, 12)
    with CaptureQueriesContext(connection) as large:
        after = client.get(path)

    def opened(response):
        return sum(r["opened"] for r in response.context["data"]["series"])

    assert opened(after) >= opened(before) + 6
    assert len(large) == len(small)


def test_it_answers_404_for_another_member_or_an_agent(fixture, world, client):  # noqa: F811
    login(client, world.manager_a)
    assert client.get("/qualite/").url == "/qualite/adherents/alpha/"
    assert client.get("/qualite/adherents/bravo/").status_code == 404
    login(client, world.agent_a)
    assert client.get("/qualite/").status_code == 404
    assert client.get("/qualite/adherents/alpha/").status_code == 404
    login(client, world.elected_a)
    assert client.get("/qualite/adherents/alpha/").status_code == 200
