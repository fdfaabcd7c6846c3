"""Numbers printed with the decimals their price scale needs."""

import math

import numpy as np
import pandas as pd
import pytest

from lstm_forecast.numbers import (
    decimals_for,
    format_percent,
    format_price,
    price_format,
    reference_price,
)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (2745.1234, "2,745.12"),  # an index: cents
        (1.234564, "1.23456"),  # FX: five decimals
        (0.00001234, "0.0000123400"),  # a tiny coin: six significant digits
        (185.6432, "185.643"),
        (-37.63, "-37.6300"),  # negative prices keep their scale
        (0.0, "0.00"),
        (1234567.891, "1,234,567.89"),
    ],
)
def test_a_price_prints_with_six_significant_digits_and_at_least_cents(value, text):
    assert format_price(value) == text


def test_an_error_prints_on_the_scale_of_the_prices_not_its_own():
    assert format_price(0.0012, scale=1.2) == "0.00120"  # not "0.001"
    fmt = price_format(reference_price([1.1, 1.25, 1.3]))
    assert [fmt(1.2), fmt(0.0012), fmt(float("nan"))] == ["1.20000", "0.00120", "-"]


def test_missing_values_print_as_a_dash():
    assert format_price(float("nan")) == "-"
    assert format_price(None) == "-"
    assert format_price(np.float32("nan"), scale=100) == "-"
    assert format_percent(math.nan) == "-"


def test_decimals_follow_the_magnitude():
    assert [decimals_for(x) for x in (12345.0, 999.9, 1.0, 0.5, 1e-8)] == [2, 3, 5, 6, 13]
    assert decimals_for(float("nan")) == decimals_for(0.0) == decimals_for(math.inf) == 2


def test_reference_price_is_the_median_size_of_the_finite_values():
    assert reference_price(pd.Series([1.0, -3.0, np.nan, 2.0, np.inf])) == 2.0
    assert reference_price(x for x in (10.0, 30.0)) == 20.0
    assert math.isnan(reference_price([]))


def test_files_get_no_thousands_separators_and_percentages_a_sign():
    assert format_price(2745.1234, thousands=False) == "2745.12"
    assert format_percent(0.0123) == "+1.2 %" and format_percent(-0.5) == "-50.0 %"
