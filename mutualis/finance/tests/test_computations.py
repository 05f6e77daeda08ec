"""The pure finance engine: the reference operator's figures, then properties over any input."""

from decimal import Decimal as D
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mutualis.finance import computations as calc

# The reference operator's 2022 principal budget (results table of its activity report).
REFERENCE = {
    "operating": (D("3329960.40"), D("3202777.11"), D("136955.44")),
    "investment": (D("1129305.49"), D("1086477.78"), D("452968.04")),
    "rar_recettes": D("0.00"),
    "rar_depenses": D("578436.20"),
}


def test_it_computes_the_reference_2022_results_and_allocation():
    r = calc.compute_results(**REFERENCE)

    assert r.fonctionnement.resultat_exercice == D("127183.29")
    assert r.fonctionnement.resultat_cumule == D("264138.73")
    assert r.investissement.resultat_exercice == D("42827.71")
    assert r.investissement.resultat_cumule == D("495795.75")
    assert r.besoin_financement_investissement == D("82640.45")
    assert r.affectation_1068 == D("82640.45")
    assert r.report_fonctionnement == D("181498.28")
    assert r.resultat_global_net_rar == D("181498.28")


def test_it_computes_the_annex_budget_results():
    r = calc.compute_results(
        operating=(D("1500000.00"), D("95000.00"), D(0)),
        investment=(D("0.00"), D("742627.83"), D(0)),
        rar_depenses=D("303798.61"),
    )

    assert r.besoin_financement_investissement == D("1046426.44")
    assert r.report_fonctionnement == D("358573.56")


def test_it_reports_no_need_when_investment_is_in_surplus():
    r = calc.compute_results(operating=(D(100), D(50), D(0)), investment=(D(80), D(10), D(0)), rar_depenses=D(20))

    assert r.besoin_financement_investissement == D("0.00")
    assert r.affectation_1068 == D("0.00")
    assert r.report_fonctionnement == D(50)


def test_it_allocates_only_the_operating_surplus_when_it_cannot_cover_the_need():
    r = calc.compute_results(operating=(D(100), D(70), D(0)), investment=(D(0), D(50), D(0)))

    assert r.besoin_financement_investissement == D(50)
    assert r.affectation_1068 == D(30)
    assert r.report_fonctionnement == D(0)


def test_it_refuses_negative_restes_a_realiser():
    with pytest.raises(calc.FinanceInputError):
        calc.compute_results(operating=(D(0), D(0), D(0)), investment=(D(0), D(0), D(0)), rar_depenses=D(-1))


def test_it_prints_the_reference_five_year_evolution():
    # Operating expenses 2018–2022: the report prints +13,8 % over the period, +3,5 % a year.
    ev = calc.evolution({2018: D(2814257), 2019: D(3155909), 2020: D(3193633), 2021: D(3000051), 2022: D(3203353)})

    assert ev.yearly == {2019: D("12.1"), 2020: D("1.2"), 2021: D("-6.1"), 2022: D("6.8")}
    assert ev.first_to_last == D("13.8")
    assert ev.average_yearly == D("3.5")


def test_it_averages_the_exact_rates_not_the_rounded_ones():
    # Two exact rates of 0.05 % and 0.0499… %: printed 0.1 each; their exact mean still rounds to 0.1.
    ev = calc.evolution({1: D(10000), 2: D("10005.00"), 3: D("10010.0025")})

    assert ev.yearly == {2: D("0.1"), 3: D("0.1")}
    assert ev.average_yearly == D("0.1")


def test_it_rounds_half_away_from_zero():
    assert calc.round_fraction(Fraction(1375, 100)) == D("13.8")
    assert calc.round_fraction(Fraction(-1375, 100)) == D("-13.8")
    assert calc.round_fraction(Fraction(1374, 100)) == D("13.7")


def test_it_says_nothing_of_an_evolution_from_zero():
    ev = calc.evolution({2019: D(0), 2020: D(10), 2021: D(20)})

    assert ev.yearly[2020] is None
    assert ev.yearly[2021] == D("100.0")
    assert ev.average_yearly == D("100.0")
    assert ev.first_to_last is None


def test_it_computes_savings_and_alerts_above_the_ceiling():
    debt = calc.debt_position(
        real_operating_revenue=D(1000),
        real_operating_expenses=D(800),
        capital_repaid=D(50),
        outstanding=D(1300),
        ceiling_years=D(6),
    )

    assert (debt.gross_savings, debt.net_savings, debt.ratio_years, debt.alert) == (D(200), D(150), D("6.50"), True)


def test_it_does_not_alert_at_the_ceiling_and_alerts_without_savings():
    at = calc.debt_position(
        real_operating_revenue=D(1000),
        real_operating_expenses=D(800),
        capital_repaid=D(0),
        outstanding=D(1200),
        ceiling_years=D(6),
    )
    none = calc.debt_position(
        real_operating_revenue=D(800),
        real_operating_expenses=D(800),
        capital_repaid=D(0),
        outstanding=D(1),
        ceiling_years=D(6),
    )

    assert (at.ratio_years, at.alert) == (D("6.00"), False)
    assert (none.ratio_years, none.alert) == (None, True)


def test_it_gives_the_remainder_cents_to_the_largest_remainders():
    # 100 € in three equal parts: 33,33 each and one cent left, to the first in the given order.
    assert calc.allocate(D(100), {"a": 1, "b": 1, "c": 1}) == {"a": D("33.34"), "b": D("33.33"), "c": D("33.33")}
    # 10 € by 1/6, 2/6, 3/6: exact 1,6666…, 3,3333…, 5 → 1,67 (largest remainder), 3,33, 5,00.
    assert calc.allocate(D(10), {"a": 1, "b": 2, "c": 3}) == {"a": D("1.67"), "b": D("3.33"), "c": D("5.00")}


def test_it_refuses_a_key_whose_weights_do_not_sum_to_100():
    with pytest.raises(calc.FinanceInputError, match="totalisent 90 %"):
        calc.key_shares(weights={"population": D(60), "agents": D(30)}, bases={"population": {1: 10}, "agents": {1: 1}})


def test_it_names_the_member_without_population_when_the_key_needs_it():
    with pytest.raises(calc.FinanceInputError, match="Bravo : la population non renseigné"):
        calc.key_shares(
            weights={"population": D(50), "applications": D(50)},
            bases={"population": {1: 100, 2: None}, "applications": {1: 3, 2: 2}},
            names={1: "Alpha", 2: "Bravo"},
        )


def test_it_ignores_a_missing_population_when_the_key_does_not_use_it():
    shares = calc.key_shares(
        weights={"population": D(0), "applications": D(100)},
        bases={"population": {1: None, 2: None}, "applications": {1: 3, 2: 1}},
    )

    assert shares == {1: Fraction(3, 4), 2: Fraction(1, 4)}


def test_it_blends_criteria_by_their_weights():
    shares = calc.key_shares(
        weights={"population": D(50), "agents": D(25), "applications": D(25)},
        bases={"population": {1: 300, 2: 100}, "agents": {1: 1, 2: 1}, "applications": {1: 0, 2: 4}},
    )

    assert shares == {
        1: Fraction(1, 2) * Fraction(3, 4) + Fraction(1, 8),
        2: Fraction(1, 8) + Fraction(1, 8) + Fraction(1, 4),
    }
    assert sum(shares.values()) == 1


def test_it_splits_the_tno_cofinancing_by_fixed_amounts_or_percentages():
    fixed = calc.cofinancing(
        D(95000),
        {
            "metropole": calc.CofinancingShare(fixed=D(50350)),
            "ville": calc.CofinancingShare(fixed=D(29070)),
            "sitiv": calc.CofinancingShare(fixed=D(15580)),
        },
    )
    percents = calc.cofinancing(
        D(95000),
        {
            "metropole": calc.CofinancingShare(percent=D(53)),
            "ville": calc.CofinancingShare(percent=D("30.6")),
            "sitiv": calc.CofinancingShare(percent=D("16.4")),
        },
    )

    assert fixed == percents == {"metropole": D(50350), "ville": D(29070), "sitiv": D(15580)}


def test_it_refuses_shares_that_do_not_cover_the_cofinanced_amount():
    with pytest.raises(calc.FinanceInputError, match="totalisent"):
        calc.cofinancing(D(100), {"a": calc.CofinancingShare(fixed=D(60)), "b": calc.CofinancingShare(fixed=D(30))})
    with pytest.raises(calc.FinanceInputError, match="100 %"):
        calc.cofinancing(D(100), {"a": calc.CofinancingShare(percent=D(60)), "b": calc.CofinancingShare(percent=D(30))})


# -- properties ---------------------------------------------------------------------------------
cents = st.integers(min_value=-(10**11), max_value=10**11).map(lambda c: D(c) / 100)
positive_cents = st.integers(min_value=0, max_value=10**11).map(lambda c: D(c) / 100)
weights = st.dictionaries(
    st.text(min_size=1, max_size=4), st.integers(min_value=0, max_value=10**6), min_size=1, max_size=12
).filter(lambda w: sum(w.values()) > 0)


@given(total=cents, weights=weights)
def test_it_always_allocates_exactly_the_total_to_the_cent(total, weights):
    parts = calc.allocate(total, weights)

    assert sum(parts.values()) == total
    assert all(p == p.quantize(D("0.01")) for p in parts.values())
    # No part strays more than a cent from its exact share.
    weight_total = sum(weights.values())
    for key, part in parts.items():
        exact = Fraction(total) * weights[key] / weight_total
        assert abs(Fraction(part) - exact) < Fraction(1, 100)


@given(
    operating=st.tuples(positive_cents, positive_cents, cents),
    investment=st.tuples(positive_cents, positive_cents, cents),
    rar_r=positive_cents,
    rar_d=positive_cents,
)
def test_it_covers_the_financing_need_exactly_or_with_all_the_surplus(operating, investment, rar_r, rar_d):
    r = calc.compute_results(operating=operating, investment=investment, rar_recettes=rar_r, rar_depenses=rar_d)

    surplus = max(r.fonctionnement.resultat_cumule, D(0))
    assert r.affectation_1068 + r.report_fonctionnement == r.fonctionnement.resultat_cumule
    assert r.affectation_1068 == min(r.besoin_financement_investissement, surplus)
    assert r.besoin_financement_investissement >= 0
    if surplus >= r.besoin_financement_investissement:
        # Covered: the corrected investment result plus the allocation is never negative.
        assert r.investissement_corrige + r.affectation_1068 >= 0
    assert r.resultat_global_net_rar == r.fonctionnement.resultat_cumule + r.investissement_corrige


members = st.lists(
    st.tuples(st.integers(min_value=0, max_value=500000), st.integers(min_value=0, max_value=5000), st.integers(0, 40)),
    min_size=1,
    max_size=15,
).filter(lambda ms: all(sum(m[i] for m in ms) > 0 for i in range(3)))
percent_split = st.tuples(st.integers(0, 100), st.integers(0, 100)).filter(lambda t: t[0] + t[1] <= 100)


@given(total=positive_cents, people=members, split=percent_split, price=positive_cents)
def test_it_makes_contributions_add_up_to_the_cent(total, people, split, price):
    weights = {"population": D(split[0]), "agents": D(split[1]), "applications": D(100 - split[0] - split[1])}
    bases = {
        "population": {i: m[0] for i, m in enumerate(people)},
        "agents": {i: m[1] for i, m in enumerate(people)},
        "applications": {i: m[2] for i, m in enumerate(people)},
    }
    shares = calc.key_shares(weights=weights, bases=bases)
    subscriptions = {i: ["appli"] for i, m in enumerate(people) if m[2]}

    result = calc.contributions(
        mutualised_total=total, shares=shares, subscriptions=subscriptions, prices={"appli": price}
    )

    assert sum(shares.values()) == 1
    assert sum(c.mutualised for c in result.values()) == total
    assert sum(c.total for c in result.values()) == total + price * len(subscriptions)


@given(
    total=positive_cents,
    fixed=st.lists(positive_cents, max_size=3),
    percents=st.lists(st.integers(1, 100), min_size=1, max_size=5).filter(lambda p: sum(p) <= 100),
)
def test_it_makes_cofinancing_add_up_to_the_cent(total, fixed, percents):
    percents = [*percents[:-1], 100 - sum(percents[:-1])]
    shares = {f"f{i}": calc.CofinancingShare(fixed=v) for i, v in enumerate(fixed)}
    shares |= {f"p{i}": calc.CofinancingShare(percent=D(v)) for i, v in enumerate(percents)}
    if sum(fixed, D(0)) > total:
        with pytest.raises(calc.FinanceInputError):
            calc.cofinancing(total, shares)
        return

    assert sum(calc.cofinancing(total, shares).values()) == total
