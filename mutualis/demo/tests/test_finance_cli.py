"""The CLI on the demo data set: the reference operator's 2022 results and five-year analysis."""

import io
import json

import pytest
from django.core.management import CommandError, call_command

from mutualis.demo.loader import load_demo

pytestmark = pytest.mark.django_db


def _json(*args: str) -> dict:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return json.loads(out.getvalue())


def test_it_prints_the_2022_results_and_their_allocation():
    load_demo()

    document = _json("finance_results", "--budget", "principal", "--year", "2022", "--format", "json")

    assert {k: v for k, v in document.items() if k != "warnings"} == {
        "budget": "principal",
        "year": 2022,
        "fonctionnement": {
            "recettes": "3329960.40",
            "depenses": "3202777.11",
            "resultat_exercice": "127183.29",
            "report_anterieur": "136955.44",
            "resultat_cumule": "264138.73",
        },
        "investissement": {
            "recettes": "1129305.49",
            "depenses": "1086477.78",
            "resultat_exercice": "42827.71",
            "report_anterieur": "452968.04",
            "resultat_cumule": "495795.75",
            "rar_recettes": "0.00",
            "rar_depenses": "578436.20",
        },
        "besoin_financement_investissement": "82640.45",
        "affectation_1068": "82640.45",
        "report_fonctionnement": "181498.28",
        "resultat_global_net_rar": "181498.28",
    }


def test_it_flags_the_sources_own_inconsistencies_with_their_gap():
    load_demo()

    warnings = _json("finance_results", "--budget", "principal", "--year", "2022", "--format", "json")["warnings"]
    gaps = {(w["check"], w["gap"]) for w in warnings}

    # The five-year table's 2022 operating expenses against the execution table.
    assert ("total_saisi", "575.89") in gaps
    assert ("total_saisi", "2570.22") in gaps
    # Restes à réaliser: 486 107 + 92 329 is 0,20 € short of 578 436,20.
    assert ("rar_parts", "-0.20") in gaps
    # 2022's R001 against 2021's cumulative investment result from the five-year table.
    assert any(check == "report_investissement" for check, _gap in gaps)
    assert all(set(w) == {"check", "message", "expected", "found", "gap"} for w in warnings)


def test_it_prints_the_annex_budget_results():
    load_demo()

    document = _json("finance_results", "--budget", "tno", "--year", "2022", "--format", "json")

    assert document["besoin_financement_investissement"] == "1046426.44"
    assert document["affectation_1068"] == "1046426.44"
    assert document["report_fonctionnement"] == "358573.56"
    assert document["warnings"] == []


def test_it_prints_the_five_year_evolution_as_the_report_does():
    load_demo()

    document = _json("finance_evolution", "--budget", "principal", "--from", "2018", "--to", "2022", "--format", "json")

    expenses = document["fonctionnement.depenses"]
    assert expenses["totals"]["2018"] == "2814257.00"
    assert expenses["yearly_evolution_pct"] == {"2019": "12.1", "2020": "1.2", "2021": "-6.1", "2022": "6.8"}
    assert expenses["first_to_last_evolution_pct"] == "13.8"
    assert expenses["average_yearly_evolution_pct"] == "3.5"
    assert set(document) == {
        "budget",
        "from",
        "to",
        "fonctionnement.depenses",
        "fonctionnement.recettes",
        "investissement.depenses",
        "investissement.recettes",
    }


def test_it_answers_an_unknown_budget_or_year_clearly():
    load_demo()

    with pytest.raises(CommandError, match="budget « inconnu » introuvable"):
        call_command("finance_results", "--budget", "inconnu", "--year", "2022")
    with pytest.raises(CommandError, match="exercice 1999"):
        call_command("finance_results", "--budget", "principal", "--year", "1999")
    with pytest.raises(CommandError, match="aucune donnée pour 2017"):
        call_command("finance_evolution", "--budget", "principal", "--from", "2017", "--to", "2022")


def test_it_loads_the_demo_idempotently():
    load_demo()
    first = _json("finance_results", "--budget", "principal", "--year", "2022", "--format", "json")
    load_demo()

    assert _json("finance_results", "--budget", "principal", "--year", "2022", "--format", "json") == first


def test_it_restores_the_m57_chapters_a_flush_removed():
    from mutualis.finance.models import Chapter

    Chapter.objects.all().delete()

    load_demo()

    assert Chapter.objects.filter(code="1068").count() == 0
    assert Chapter.objects.filter(section="fonctionnement", code="65").exists()
    assert _json("finance_results", "--budget", "principal", "--year", "2022", "--format", "json")[
        "affectation_1068"
    ] == ("82640.45")
