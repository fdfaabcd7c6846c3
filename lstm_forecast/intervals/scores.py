"""Scores that judge prediction intervals (coverage, mean width, the Winkler score), and the naive
random-walk band an interval has to beat. NaN actuals (rows past the data's end) are left out."""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np

from lstm_forecast.errors import ConfigError, DataError
from lstm_forecast.intervals.conformal import _check_level


def _finite_rows(actual, lower, upper) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The three as float arrays of one shape, rows without an actual (NaN) left out."""
    actual, lower, upper = (np.asarray(a, dtype=np.float64).ravel() for a in (actual, lower, upper))
    if not actual.shape == lower.shape == upper.shape:
        raise DataError(
            f"actual, lower, upper differ in length: {actual.size}, {lower.size}, {upper.size}"
        )
    known = ~np.isnan(actual)
    return actual[known], lower[known], upper[known]


def coverage(actual: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> float:
    """Share of actuals inside [lower, upper]; NaN actuals left out; NaN when none is left."""
    actual, lower, upper = _finite_rows(actual, lower, upper)
    return float(np.mean((lower <= actual) & (actual <= upper))) if actual.size else math.nan


def mean_width(lower: np.ndarray, upper: np.ndarray) -> float:
    """Mean of upper - lower, in price units (inf if any band is unbounded)."""
    return float(np.mean(np.asarray(upper, dtype=np.float64) - np.asarray(lower, dtype=np.float64)))


def winkler_score(actual: np.ndarray, lower: np.ndarray, upper: np.ndarray, alpha: float) -> float:
    """Mean Winkler score: width, plus (2 / alpha) times the distance to the band when outside.

    Lower is better; alpha = 1 - level of the band. NaN actuals are left out.
    """
    if not 0.0 < alpha < 1.0:
        raise ConfigError(f"alpha must be between 0 and 1 (0.1 for a 90 % band), got {alpha}")
    actual, lower, upper = _finite_rows(actual, lower, upper)
    if not actual.size:
        return math.nan
    below = np.maximum(lower - actual, 0.0)  # (rows,) distance under the band, 0 inside
    above = np.maximum(actual - upper, 0.0)  # (rows,) distance over the band
    return float(np.mean(upper - lower + (2.0 / alpha) * (below + above)))


def log_return_std(prices: np.ndarray) -> float:
    """Sample std (ddof 1) of daily log returns: the naive band's sigma, from training prices."""
    prices = np.asarray(prices, dtype=np.float64)
    if prices.size < 3 or not np.all(np.isfinite(prices) & (prices > 0)):
        raise DataError("sigma of log returns needs at least 3 finite prices above 0")
    return float(np.std(np.diff(np.log(prices)), ddof=1))


def naive_band(
    last_price: float, sigma: float, steps: int, level: float = 0.9
) -> tuple[np.ndarray, np.ndarray]:
    """Random-walk band: last_price * exp(-/+ z sigma sqrt(h)), h = 1..steps; each (steps,).

    z is the standard normal quantile of (1 + level) / 2 (1.645 at 90 %).
    """
    _check_level(level)
    if steps < 1 or not last_price > 0 or not sigma >= 0:
        raise ConfigError(
            f"naive band needs steps >= 1, last_price > 0, sigma >= 0; got {steps}, {last_price}, {sigma}"
        )
    z = NormalDist().inv_cdf((1.0 + level) / 2)
    spread = z * sigma * np.sqrt(np.arange(1, steps + 1))  # (steps,)
    return last_price * np.exp(-spread), last_price * np.exp(spread)


def band_scores(actual: np.ndarray, lower: np.ndarray, upper: np.ndarray, level: float) -> dict:
    """How a band at `level` held: coverage, mean width and Winkler score, over the same rows."""
    return {
        "coverage": coverage(actual, lower, upper),
        "width": mean_width(lower, upper),
        "winkler": winkler_score(actual, lower, upper, 1.0 - level),
    }


MISSED_P = 0.01  # a band "held short" when the binomial test says so at this level


def held_short(coverage: float, level: float, rows: int) -> bool:
    """Whether a band that covered `coverage` of `rows` rows held significantly less than its
    `level` promised (one-sided binomial test, p < MISSED_P; scipy, statsmodels' dependency)."""
    from scipy.stats import binomtest

    if rows < 1 or coverage is None or coverage != coverage:  # undefined: not a miss
        return False
    held = round(coverage * rows)
    return bool(binomtest(held, rows, level, alternative="less").pvalue < MISSED_P)
