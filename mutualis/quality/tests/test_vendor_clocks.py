"""The vendors' compliance per vendor × maintenance contract × month (issue 14 point 6): figures
against a hand computation, the export, the query count, and members kept out."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from mutualis.ola.tests.conftest import at, ola, open_ticket, resume, wait_vendor  # noqa: F401
from mutualis.quality.kpis import Month
from mutualis.quality.vendor_clocks import vendor_compliance

HOUR = 3600
PAGE = "/qualite/editeurs/?month=2026-11"


@pytest.fixture
def episodes(world, ola):  # noqa: F811
    ticket = open_ticket(world, ola.application, now=at(10, 9))
    wait_vendor(world, ticket, at(10, 16))
    resume(world, ticket, at(12, 10))  # 3 h: in time (4 h committed)
    wait_vendor(world, ticket, at(12, 11))
    resume(world, ticket, at(13, 11))  # 8 h: late
    wait_vendor(world, ticket, at(16, 9))  # still running: not in the report
    bare = open_ticket(world, ola.bare_application, now=at(16, 9))
    wait_vendor(world, bare, at(16, 10))
    resume(world, bare, at(16, 11))  # 1 h, no contract: counted, not measured
    october = open_ticket(world, ola.application, now=at(29, 9, month=10))
    wait_vendor(world, october, at(29, 10, month=10))
    resume(world, october, at(29, 11, month=10))  # 1 h in October, in time


def test_it_computes_the_figures_per_vendor_contract_and_month(world, episodes):
    rows = vendor_compliance(first=Month(2026, 10), last=Month(2026, 11))
    assert rows == [
        {
            "month": "2026-10",
            "vendor": "Arpège",
            "contract": "M-ARPEGE",
            "episodes": 1,
            "measured": 1,
            "in_time": 1,
            "late": 0,
            "compliance_pct": 100.0,
            "median_s": 3600.0,
            "p90_s": 3600.0,
        },
        {
            "month": "2026-11",
            "vendor": "Arpège",
            "contract": "",
            "episodes": 1,
            "measured": 0,
            "in_time": 0,
            "late": 0,
            "compliance_pct": None,
            "median_s": 3600.0,
            "p90_s": 3600.0,
        },
        {
            "month": "2026-11",
            "vendor": "Arpège",
            "contract": "M-ARPEGE",
            "episodes": 2,
            "measured": 2,
            "in_time": 1,
            "late": 1,
            "compliance_pct": 50.0,
            "median_s": 5.5 * HOUR,  # (3 h + 8 h) / 2
            "p90_s": 7.5 * HOUR,  # 3 h + 0.9 × 5 h
        },
    ]
    assert vendor_compliance(first=Month(2026, 12), last=Month(2026, 12)) == []

    totals = vendor_compliance(first=Month(2026, 10), last=Month(2026, 11), by_month=False)
    contract = next(r for r in totals if r["contract"] == "M-ARPEGE")
    assert (contract["month"], contract["episodes"], contract["in_time"], contract["late"]) == ("", 3, 2, 1)
    assert contract["compliance_pct"] == 66.7
    assert (contract["median_s"], contract["p90_s"]) == (3 * HOUR, 7 * HOUR)  # of 1 h, 3 h, 8 h: 3 h + 0.8 × 5 h


def test_the_page_shows_the_figures_and_exports_them(client, world, episodes):
    client.force_login(world.staff)
    body = client.get(PAGE).content.decode()
    assert "50,0 %" in body and "5,5 h" in body and "7,5 h" in body
    assert "aucun contrat de maintenance" in body
    csv = client.get(PAGE + "&format=csv")
    assert csv["Content-Type"].startswith("text/csv")
    text = csv.content.decode("utf-8-sig")
    assert "2026-11;Arpège;M-ARPEGE;2;2;1;1;50,0;5,5;7,5" in text
    assert "2026-11;Arpège;aucun contrat de maintenance;1;0;0;0;;1,0;1,0" in text
    xlsx = client.get(PAGE + "&format=xlsx")
    assert xlsx.content[:2] == b"PK"


def test_the_quality_index_links_to_it(client, world):
    client.force_login(world.staff)
    assert "/qualite/editeurs/" in client.get("/qualite/?month=2026-11").content.decode()


def test_members_do_not_see_it(client, world, episodes):
    for who in (world.manager_a, world.elected_a, world.agent_a):
        client.force_login(who)
        assert client.get(PAGE).status_code == 404
        assert client.get(PAGE + "&format=csv").status_code == 404


def test_it_keeps_the_query_count_flat(client, world, ola, episodes):  # noqa: F811
    client.force_login(world.staff)
    client.get(PAGE)
    with CaptureQueriesContext(connection) as small:
        client.get(PAGE)
    for day in (17, 18, 19):
        ticket = open_ticket(world, ola.application, now=at(day, 9))
        wait_vendor(world, ticket, at(day, 10))
        resume(world, ticket, at(day, 15))
    with CaptureQueriesContext(connection) as large:
        response = client.get(PAGE)
    assert sum(r["episodes"] for r in response.context["rows"]) == 7
    assert len(large) == len(small)
