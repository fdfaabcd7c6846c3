"""The one place a band is made of a calibration: one-step bands (a row each, each with the
volatility at its own origin) and recursive bands (a path of steps from one origin), and the one
adaptive level (adaptive conformal inference over the one-step errors seen so far).

Every caller goes through here: `train`'s one-step band on the test span, `Forecaster.forecast`'s
path band and its adaptive level, the backtest's one-step and recursive bands per fold.
"""

from __future__ import annotations

import numpy as np

from lstm_forecast.intervals.adaptive import adaptive_alphas
from lstm_forecast.intervals.conformal import Calibration, volatility


def volatility_before(calibration, prices: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """The scale of each row's band: the volatility at the row before it (its forecast origin),
    from prices up to that row only; 1 for a calibration of raw errors."""
    rows = np.asarray(rows, dtype=np.intp)
    if calibration.scale != "volatility":
        return np.ones(rows.size)
    return volatility(np.asarray(prices, dtype=np.float64)[: rows.max()])[rows - 1]


def adaptive_online(calibration, actual, predicted, scale, level: float, gamma: float):
    """Adaptive conformal inference over one-step predictions, on the calibration's own scores
    (errors divided by `scale` when it is volatility-scaled). Returns (lower, upper, next_alpha)
    with the bands in prices."""
    actual, predicted = np.asarray(actual, np.float64), np.asarray(predicted, np.float64)
    scores = (np.log(actual) - np.log(predicted)) / scale  # what the calibration holds
    ones = np.ones_like(scores)
    result = adaptive_alphas(np.exp(scores), ones, np.asarray(calibration.errors[0]), level, gamma)
    with np.errstate(divide="ignore"):  # an unbounded band's lower end is 0: log is -inf
        lower = predicted * np.exp(np.log(result.lower) * scale)  # from score units to prices
        upper = predicted * np.exp(np.log(result.upper) * scale)
    return lower, upper, result.next_alpha


def bounded_level(calibration, level: float) -> float:
    """`level` clipped to what the calibration's errors can bound at every step: with m errors
    a band of level up to m / (m + 1) is finite. Adaptive levels can ask for more."""
    fewest = min(len(errors) for errors in calibration.errors)
    return float(np.clip(level, 0.01, fewest / (fewest + 1) - 1e-6))


def one_step_band(
    calibration: Calibration,
    predicted: np.ndarray,
    prices: np.ndarray,
    rows: np.ndarray,
    level: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(lower, upper, scale) of the one-step predictions of the integer positions `rows` of
    `prices`: the calibration's step-1 band at `level`, each row scaled by the volatility at its
    origin (the row before it), measured on the prices up to that origin only."""
    scale = volatility_before(calibration, prices, rows)
    low, high = calibration.offsets(level, 1)
    predicted = np.asarray(predicted, dtype=np.float64)
    return predicted * np.exp(low[0] * scale), predicted * np.exp(high[0] * scale), scale


def origin_scale(calibration: Calibration, prices: np.ndarray, first_row: int) -> float:
    """The scale of a recursive band whose first forecast row is `first_row` of `prices`: the
    volatility at its origin (the row before), from the prices up to there."""
    return float(volatility_before(calibration, prices, [first_row])[0])


def path_band(
    calibration: Calibration, path: np.ndarray, level: float, scale: float
) -> tuple[np.ndarray, np.ndarray]:
    """(lower, upper) around a recursive forecast `path` (steps,): step h's band at `level`,
    times `scale` (origin_scale()) when the calibration is volatility-scaled."""
    return calibration.band(path, level, scale)


def adaptive_level(
    calibration: Calibration,
    actual: np.ndarray,
    predicted: np.ndarray,
    scale: np.ndarray,
    level: float,
    gamma: float,
) -> float:
    """The level adaptive conformal inference (Gibbs & Candes 2021) reaches after the one-step
    predictions so far (`actual`, `predicted`, each row's `scale`), starting from `level`;
    capped where the calibration's origins still bound the band."""
    if len(actual) == 0:
        return level
    *_, next_alpha = adaptive_online(calibration, actual, predicted, scale, level, gamma)
    return bounded_level(calibration, 1.0 - next_alpha)
