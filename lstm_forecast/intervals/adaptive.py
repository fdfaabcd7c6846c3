"""Adaptive conformal inference (Gibbs & Candès 2021, "Adaptive conformal inference under
distribution shift"): alpha_{t+1} = alpha_t + gamma (alpha - miss_t), for one forecast step, over
the per-step conformal bands of intervals.py."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from lstm_forecast.errors import ConfigError, DataError
from lstm_forecast.intervals.conformal import (
    DEFAULT_METHOD,
    _check_level,
    _check_method,
    _offsets_1d,
    log_errors,
    min_origins,
)

DEFAULT_GAMMA = 0.005  # ACI step size of Gibbs & Candès 2021 (their stock-volatility experiments)
DEFAULT_WINDOW = 250  # ACI scores kept: the latest trading year, so a new regime soon fills it


@dataclass(frozen=True)
class AdaptiveResult:
    alphas: np.ndarray  # (T,) miscoverage alpha_t each interval was built with
    lower: np.ndarray  # (T,) prices; 0 where alpha_t <= 0 (unbounded)
    upper: np.ndarray  # (T,) prices; inf where alpha_t <= 0 (unbounded)
    covered: np.ndarray  # (T,) bool: the actual fell inside
    next_alpha: float  # alpha_{T+1}: the level 1 - next_alpha for the next band, past the data


def adaptive_alphas(
    actual: np.ndarray,
    forecast: np.ndarray,
    calibration_errors: np.ndarray,
    level: float = 0.9,
    gamma: float = DEFAULT_GAMMA,
    window: int | None = DEFAULT_WINDOW,
    method: str = DEFAULT_METHOD,
) -> AdaptiveResult:
    """Adaptive conformal intervals for a sequence of one-step forecasts (Gibbs & Candès 2021).

    At time t the band is the conformal band at level 1 - alpha_t of the scores known then: the
    calibration errors (n,) followed by the errors of actual[:t] (the last `window` of them, or
    all with None). Then alpha_{t+1} = alpha_t + gamma * (alpha - miss_t), alpha = 1 - level.
    alpha_t <= 0 gives the unbounded band (0, inf), as in the paper: it cannot miss, so alpha_t
    climbs back, and the miss rate over T steps stays within
    (max(alpha, 1 - alpha) + gamma) / (gamma T) of alpha for any score sequence (the paper's
    bound). A finite stand-in (the largest score) would void that bound. alpha_t >= 1 gives the
    narrowest band (the smallest score). gamma = 0 is online split conformal (no adaptation).
    window: the latest scores kept (None: all); the default, one trading year, lets scores of a
    new volatility regime replace the old within a year, so fewer bands go unbounded.
    Each outcome must be known before the next band: for step h > 1 the feedback is h steps late.
    """
    _check_level(level)
    _check_method(method)
    if not 0.0 <= gamma < 1.0:
        raise ConfigError(f"ACI gamma must be in [0, 1), got {gamma}")
    if window is not None and window < min_origins(level, method):
        raise ConfigError(
            f"ACI window {window} is too short: a {level:.0%} {method} band needs "
            f"{min_origins(level, method)} scores"
        )
    actual = np.asarray(actual, dtype=np.float64)  # (T,)
    forecast = np.asarray(forecast, dtype=np.float64)  # (T,)
    if actual.shape != forecast.shape or actual.ndim != 1:
        raise DataError(f"actual {actual.shape} and forecast {forecast.shape} must be equal 1-D")
    new_errors = log_errors(actual, forecast)  # (T,)
    if not np.all(np.isfinite(new_errors)):
        raise DataError("adaptive intervals need finite positive actual and forecast prices")
    alphas, low, high, next_alpha = aci_offsets(
        new_errors, calibration_errors, level, gamma, window, method
    )
    with np.errstate(over="ignore"):  # an unbounded band: exp(inf)
        lower, upper = forecast * np.exp(low), forecast * np.exp(high)
    covered = (lower <= actual) & (actual <= upper)
    return AdaptiveResult(
        alphas=alphas, lower=lower, upper=upper, covered=covered, next_alpha=next_alpha
    )


def aci_offsets(
    new_scores: np.ndarray,
    calibration_scores: np.ndarray,
    level: float,
    gamma: float = DEFAULT_GAMMA,
    window: int | None = DEFAULT_WINDOW,
    method: str = DEFAULT_METHOD,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """adaptive_alphas() in score space: (alphas, lower offsets, upper offsets, next alpha),
    each offset a bound on the score itself (-inf / inf when unbounded), so that scores of any
    size (a standardized error of 800) never pass through exp()."""
    new_scores = np.asarray(new_scores, dtype=np.float64)  # (T,)
    calibration = np.asarray(calibration_scores, dtype=np.float64).ravel()
    scores = np.concatenate([calibration[np.isfinite(calibration)], new_scores])  # (n + T,)
    start = scores.size - new_scores.size  # scores[:start + t] are known at time t
    target = 1.0 - level
    alpha_t = target
    alphas, lower, upper = (np.empty(new_scores.size) for _ in range(3))
    for t in range(new_scores.size):
        known = scores[: start + t]
        if window is not None:
            known = known[-window:]
        alphas[t] = alpha_t
        clipped = min(max(alpha_t, 0.0), 1.0)
        if clipped <= 0.0:
            lower[t], upper[t] = -math.inf, math.inf
        else:
            lower[t], upper[t] = _offsets_1d(known, 1.0 - clipped, method)
        miss = not lower[t] <= new_scores[t] <= upper[t]
        alpha_t = alpha_t + gamma * (target - miss)
    return alphas, lower, upper, alpha_t
