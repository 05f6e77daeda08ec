"""Absurd months, years and ids typed into a URL, a form or a command line are the client's error
(4xx or CommandError), never a 500."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from mutualis.lib.periods import MAX_YEAR, MIN_YEAR, parse_year
from mutualis.quality.kpis import Month

ABSURD_URLS = [
    "/qualite/?month=0001-01",
    "/qualite/?month=9999-12",
    "/qualite/?month=2026-13",
    "/qualite/adherents/alpha/?month=0001-01",
    "/qualite/adherents/alpha/?month=9999-12",
    "/qualite/engagements/?month=0001-01",
    "/qualite/engagements/?month=9999-12",
    "/qualite/temps-passe/?year=9999",
    "/qualite/temps-passe/?year=9999&format=xlsx",
    "/qualite/temps-passe/?year=0&format=csv",
    "/qualite/temps-passe/?year=99999999999999999999",
    "/marches/decp/0.json",
    "/marches/decp/99999999999.json",
    "/assistance/modeles/texte/?template=abc",
    "/assistance/modeles/texte/?template=99999999999999999999999",
]


@pytest.mark.parametrize("path", ABSURD_URLS)
def test_it_answers_a_client_error_to_an_absurd_period_or_id(client, world, path):
    client.force_login(world.admin)
    response = client.get(path)
    assert response.status_code < 500
    if "/assistance/" in path:
        assert response.status_code == 200  # the fragment, with an empty body
    else:
        assert response.status_code == 404


def test_it_still_shows_the_current_period_without_a_parameter(client, world):
    client.force_login(world.admin)
    for path in ("/qualite/", "/qualite/temps-passe/", "/qualite/engagements/", "/assistance/modeles/texte/"):
        assert client.get(path).status_code == 200


@pytest.mark.parametrize(
    "command",
    [
        ["helpdesk_kpis", "--from", "0001-01", "--to", "2026-01"],
        ["helpdesk_kpis", "--from", "2026-01", "--to", "9999-12"],
        ["quality_monthly_reports", "--month", "9999-12"],
        ["quality_monthly_reports", "--month", "0001-01"],
        ["procurement_export_decp", "--year", "0"],
        ["procurement_export_decp", "--year", "99999999999"],
        ["procurement_export_decp", "--year", "deux-mille"],
    ],
)
def test_it_refuses_an_absurd_period_on_the_command_line(world, command):
    with pytest.raises(CommandError, match="(mois|année) (invalide|hors limites)"):
        call_command(*command, stdout=StringIO(), stderr=StringIO())


def test_it_bounds_months_and_years_to_the_same_range():
    assert Month.parse(f"{MIN_YEAR}-01") == Month(MIN_YEAR, 1)
    assert Month.parse(f"{MAX_YEAR}-12") == Month(MAX_YEAR, 12)
    assert parse_year(str(MAX_YEAR)) == MAX_YEAR
    for value in (f"{MIN_YEAR - 1}-12", f"{MAX_YEAR + 1}-01", "2026-00", "2026-1-1", ""):
        with pytest.raises(ValueError):
            Month.parse(value)
    for year in (str(MIN_YEAR - 1), str(MAX_YEAR + 1), "x"):
        with pytest.raises(ValueError):
            parse_year(year)
