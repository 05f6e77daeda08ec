"""SQLite's percentile_cont agrees with linear interpolation between closest ranks."""

import statistics

from hypothesis import given
from hypothesis import strategies as st

from mutualis.quality.sqlite_functions import PercentileCont


def percentile(values, fraction):
    aggregate = PercentileCont()
    for value in values:
        aggregate.step(value, fraction)
    return aggregate.finalize()


@given(st.lists(st.integers(min_value=0, max_value=10**7), min_size=2, max_size=300))
def test_it_interpolates_as_percentile_cont(values):
    deciles = statistics.quantiles(values, n=10, method="inclusive")
    assert abs(percentile(values, 0.9) - deciles[8]) < 1e-6
    assert abs(percentile(values, 0.5) - statistics.median(values)) < 1e-6


def test_it_ignores_nulls_and_answers_null_when_empty():
    assert percentile([None, 4, None, 2], 0.5) == 3
    assert percentile([None], 0.5) is None
