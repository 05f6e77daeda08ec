"""SIREN/SIRET check digits (Luhn, La Poste's exception) and INSEE commune codes."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mutualis.lib.identifiers import insee_error, luhn_complete, luhn_ok, siren_error, siret_error

digits = st.text(alphabet="0123456789", min_size=1, max_size=20)


@given(prefix=digits)
def test_it_completes_any_prefix_into_a_valid_luhn_number(prefix):
    assert luhn_ok(luhn_complete(prefix))


@given(prefix=digits, data=st.data())
def test_it_detects_any_single_altered_digit(prefix, data):
    number = luhn_complete(prefix)
    index = data.draw(st.integers(min_value=0, max_value=len(number) - 1))
    other = data.draw(st.sampled_from([d for d in "0123456789" if d != number[index]]))
    assert not luhn_ok(number[:index] + other + number[index + 1 :])


@given(prefix=st.text(alphabet="0123456789", min_size=8, max_size=8))
def test_it_accepts_every_luhn_complete_siren(prefix):
    assert siren_error(luhn_complete(prefix)) is None


@given(prefix=st.text(alphabet="0123456789", min_size=13, max_size=13).filter(lambda p: not p.startswith("356000000")))
def test_it_accepts_every_luhn_complete_siret(prefix):
    assert siret_error(luhn_complete(prefix)) is None


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("21690123", "9 chiffres"),
        ("2169012345", "9 chiffres"),
        ("21690a123", "9 chiffres"),
        ("216901230", "clé de contrôle"),
    ],
)
def test_it_explains_why_a_siren_is_invalid(value, message):
    error = siren_error(value)
    assert error is not None and message in error


@pytest.mark.parametrize("value", ["356000000", "552032534", "542065479"])
def test_it_accepts_real_sirens(value):
    assert siren_error(value) is None


def test_it_rejects_a_siret_with_a_bad_check_digit_or_length():
    valid = luhn_complete("2169025990001")
    wrong = valid[:-1] + str((int(valid[-1]) + 1) % 10)
    assert "clé de contrôle" in siret_error(wrong)
    assert "14 chiffres" in siret_error(valid[:-1])


def test_it_applies_la_poste_sum_rule_instead_of_luhn():
    # La Poste's establishments share SIREN 356000000; their digits sum to a multiple of 5.
    assert not luhn_ok("35600000000010")
    assert siret_error("35600000000010") is None
    assert "clé de contrôle" in siret_error("35600000000011")


@pytest.mark.parametrize("value", ["69123", "2A004", "2B033", "97411"])
def test_it_accepts_insee_codes(value):
    assert insee_error(value) is None


@pytest.mark.parametrize("value", ["6912", "691234", "2C004", "ab123", "2a004", ""])
def test_it_rejects_malformed_insee_codes(value):
    assert "5 caractères" in insee_error(value)
