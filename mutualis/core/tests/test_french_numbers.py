"""A number typed the French way is read, though Django no longer groups the numbers it prints."""

from decimal import Decimal

import pytest
from django.utils import translation

from mutualis.core.forms import FrenchDecimalField


@pytest.mark.parametrize(
    ("typed", "read"),
    [("1 234,5", "1234.5"), ("1\u00a0234,5", "1234.5"), ("1\u202f234", "1234"), ("-12,25", "-12.25"), ("7.5", "7.5")],
)
def test_it_reads_a_number_typed_with_thousands_spaces(typed, read):
    with translation.override("fr"):
        assert FrenchDecimalField(localize=True).clean(typed) == Decimal(read)
