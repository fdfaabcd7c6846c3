"""Prices and errors printed with as many decimals as the series' price scale needs.

A table uses one reference magnitude (the series' typical price) for all its numbers, so its
columns line up and an RMSE of 0.0012 on a 1.2 price prints as 0.00120, not 0.001:

    fmt = price_format(reference_price(prices))
    print(fmt(last), fmt(rmse))
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable

import numpy as np

SIGNIFICANT_DIGITS = 6  # of the reference price: 2,745.12 / 1.23456 / 0.0000123400
MIN_DECIMALS = 2  # never fewer, even for prices in the thousands (cents)
MISSING = "-"  # how NaN (and None) print


def decimals_for(reference: float, digits: int = SIGNIFICANT_DIGITS) -> int:
    """Decimals that show `digits` significant digits of `reference` (at least MIN_DECIMALS).

    2745.12 -> 2, 1.2 -> 5, 0.00001234 -> 10; zero, NaN or infinite -> MIN_DECIMALS.
    """
    if not math.isfinite(reference) or reference == 0:
        return MIN_DECIMALS
    leading = math.floor(math.log10(abs(reference)))  # 3 for 2745, 0 for 1.2, -5 for 1.2e-5
    return max(MIN_DECIMALS, digits - 1 - leading)


def reference_price(values: Iterable[float]) -> float:
    """The typical size of `values` (the median absolute finite value; NaN when there is none)."""
    array = np.abs(np.asarray(values if hasattr(values, "__array__") else list(values), float))
    finite = array[np.isfinite(array)]
    return float(np.median(finite)) if finite.size else math.nan


HUGE = 1e15  # prices at least this large print in scientific notation


def price_format(reference: float, thousands: bool = True) -> Callable[[float | None], str]:
    """A formatter printing every number with the decimals `reference` needs.

    `thousands` groups digits with commas (2,745.12), for people; turn it off for files.
    """
    decimals = decimals_for(reference)
    spec = f"{',' if thousands else ''}.{decimals}f"

    def format_number(value: float | None) -> str:
        if value is None or (isinstance(value, float | np.floating) and math.isnan(value)):
            return MISSING
        if abs(value) >= HUGE:  # a typo in a file (1e300): not three hundred digits
            return format(value, ".4g")
        return format(value, spec)

    return format_number


def format_price(value: float | None, scale: float | None = None, thousands: bool = True) -> str:
    """`value` with the decimals for `scale` (default: the value itself); NaN prints as "-"."""
    reference = scale if scale is not None else math.nan if value is None else value
    return price_format(reference, thousands)(value)


def format_percent(fraction: float | None, decimals: int = 1) -> str:
    """A signed percentage as the reports print it: 0.0123 -> "+1.2 %"; NaN prints as "-"."""
    if fraction is None or math.isnan(fraction):
        return MISSING
    return f"{100 * fraction:+.{decimals}f} %"


def format_skill(value: float | None) -> str:
    """A skill as the terminal prints it: +0.003; "undefined" where it has no value (a baseline
    that was exact, a price that never moved)."""
    if value is None or value != value:
        return "undefined"
    return f"{value:+.3f}"
