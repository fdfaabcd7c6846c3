"""Conformal prediction intervals for recursive price forecasts.

All errors live in log-price space, e = log(actual) - log(forecast), so a band is multiplicative:
[forecast * exp(lower_h), forecast * exp(upper_h)] scales with the price.

- Per-step split conformal, as Darts' `ConformalNaiveModel` does it (one set of scores per forecast
  step h; `symmetric=True` scores |e|, `symmetric=False` calibrates each tail on the signed
  errors at alpha / 2; quantiles with `method="higher"`). Nixtla's `ConformalIntervals`
  (statsforecast / NeuralForecast, "conformal_error" / "conformal_distribution") likewise takes
  absolute errors per horizon step from rolling cross-validation windows: our symmetric default.
  Unlike Darts we apply the finite-sample correction of split conformal (Lei et al. 2018;
  Angelopoulos & Bates, "A Gentle Introduction to Conformal Prediction"): with n scores the offset is the k-th smallest score,
  k = ceil((n + 1)(1 - alpha)), which covers a new exchangeable error with probability
  k / (n + 1) >= 1 - alpha. k > n means the interval is unbounded: `conformal_offsets` returns inf
  there, and `Calibration` raises a DataError that names how many origins are needed.
  Note: `np.quantile(scores, k / n, method="higher")` is NOT the k-th smallest score but the
  (k + 1)-th for k < n (numpy places q at index q * (n - 1)), i.e. one order statistic too wide
  (at n = 19 and 90 %: 95 % coverage instead of 90 %). `method="inverted_cdf"` is the k-th; we take
  the order statistic directly, which is exact and free of floating-point rounding in k / n.
- What scores are divided by (the spread at their origin): spread.py; online adaptation:
  adaptive.py, tracking.py, band.py; scores and the naive band: scores.py.
- `rolling_origin_errors` collects calibration errors from any point forecaster.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from lstm_forecast.errors import BundleError, ConfigError, DataError
from lstm_forecast.intervals.spread import SCALES, Spread, scales

METHODS = ("symmetric", "asymmetric")
# |e| pools both tails: a bounded 90 % band from 9 origins instead of 19, and a steadier quantile;
# in log space it is still a skewed band in price. "asymmetric" pays off for a biased forecaster.
DEFAULT_METHOD = "symmetric"
REMEDY = "train the run again"  # a damaged calibration.json: no command recalibrates a run
_RANK_ROUNDING = 1e-9  # (n + 1) * level = 18.000000000000004 must still give rank 18, not 19

# ---- the conformal quantile ---------------------------------------------------------------------


def conformal_rank(n: int, tail_level: float) -> int:
    """k = ceil((n + 1) * tail_level): the rank (1-based) of the score that bounds the interval.

    k > n: unbounded interval (too few scores); k < 1 (tail_level <= 0): the smallest score.
    """
    return max(1, math.ceil((n + 1) * tail_level - _RANK_ROUNDING))


def conformal_quantile(scores: np.ndarray, tail_level: float) -> float:
    """The k-th smallest finite score, k = conformal_rank(n, tail_level); inf when k > n.

    Equal to np.quantile(scores, k / n, method="inverted_cdf"); NaNs are left out.
    """
    scores = np.asarray(scores, dtype=np.float64)
    scores = scores[np.isfinite(scores)]  # (n,)
    rank = conformal_rank(scores.size, tail_level)
    if rank > scores.size:
        return math.inf
    return float(np.partition(scores, rank - 1)[rank - 1])


def _tail_level(level: float, method: str) -> float:
    """Level of each score quantile: `level` for |e|, (1 + level) / 2 for each signed tail."""
    return level if method == "symmetric" else (1.0 + level) / 2


def min_origins(level: float, method: str = DEFAULT_METHOD) -> int:
    """Fewest errors per step that give a bounded band: 9 at 90 % symmetric, 19 asymmetric."""
    _check_level(level)
    _check_method(method)
    tail_level = _tail_level(level, method)
    n = 1
    while conformal_rank(n, tail_level) > n:
        n += 1
    return n


def _offsets_1d(errors: np.ndarray, level: float, method: str) -> tuple[float, float]:
    """(lower, upper) log offsets from one step's signed errors (n,); -inf / inf when too few."""
    tail_level = _tail_level(level, method)
    if method == "symmetric":
        radius = conformal_quantile(np.abs(errors), tail_level)
        return -radius, radius
    # each tail gets alpha / 2: the lower offset bounds -e from above, the upper bounds e
    return -conformal_quantile(-errors, tail_level), conformal_quantile(errors, tail_level)


def conformal_offsets(
    errors: np.ndarray, level: float, method: str = DEFAULT_METHOD
) -> tuple[np.ndarray, np.ndarray]:
    """Per-step log offsets of a split-conformal band from rolling-origin errors.

    errors: (origins, steps) log(actual) - log(forecast); NaNs (no actual yet) are left out.
    Returns (lower, upper), each (steps,); -inf / inf at steps with too few errors for `level`.
    """
    _check_level(level)
    _check_method(method)
    errors = np.asarray(errors, dtype=np.float64)
    if errors.ndim != 2:
        raise DataError(f"calibration errors must be (origins, steps), got shape {errors.shape}")
    pairs = [_offsets_1d(errors[:, step], level, method) for step in range(errors.shape[1])]
    lower, upper = np.array(pairs, dtype=np.float64).reshape(-1, 2).T  # (steps,) each
    return lower, upper


# ---- the calibration a run stores ---------------------------------------------------------------


@dataclass(frozen=True)
class Calibration:
    """Rolling-origin errors of one forecaster, per step, and the band they give.

    Stored in a run as JSON (`to_dict` / `from_dict`), never pickled.
    """

    # errors[h - 1]: the finite log(actual) - log(forecast) errors of step h, one per origin
    errors: tuple[tuple[float, ...], ...]
    # central coverage of the band `band()` gives when no level is passed
    level: float = 0.9
    # "symmetric": one quantile of |e| (both tails share it); "asymmetric": one per signed tail
    method: str = DEFAULT_METHOD
    # forecast origins the errors came from (step h has at most this many errors)
    origins: int = 0
    # how each error was divided, and each band is scaled, at its origin: a spread model's kind
    # (spread.SCALES: "ewma-model", "ewma", "garch", ...), with `spread` holding its parameters;
    # "volatility": the EWMA volatility of the target's returns at every step (runs trained
    # before the spread models); "none": raw log errors
    scale: str = "none"
    # weights[h - 1]: how much of the model's step-h move away from the last price the point
    # forecast keeps (combine); the errors are those of the combined forecast. () = all of it
    weights: tuple[float, ...] = ()
    # the fitted spread model of the scale kinds of spread.SCALES (None for the others)
    spread: Spread | None = None
    # whose errors: "model" (the run's held-out forecasts, with the random walk's for steps 2..
    # when calibration_origins = "all"), or "random walk" alone (a run too short for the model's:
    # calibrate.random_walk_calibration)
    source: str = "model"

    @classmethod
    def from_errors(
        cls, errors: np.ndarray, level: float = 0.9, method: str = DEFAULT_METHOD
    ) -> Calibration:
        """From rolling-origin errors (origins, steps); raises DataError if too few for `level`."""
        errors = np.asarray(errors, dtype=np.float64)
        if errors.ndim != 2 or errors.shape[1] < 1:
            raise DataError(
                f"calibration errors must be (origins, steps), got shape {errors.shape}"
            )
        per_step = tuple(
            tuple(float(e) for e in errors[np.isfinite(errors[:, step]), step])
            for step in range(errors.shape[1])
        )
        calibration = cls(errors=per_step, level=level, method=method, origins=errors.shape[0])
        calibration.offsets()  # validates level and method, and that every step is bounded
        return calibration

    @cached_property
    def _arrays(self) -> tuple[np.ndarray, ...]:
        """The errors of each step as arrays, made once: a pooled calibration holds thousands
        per step, and a forecast asks for its offsets every time."""
        return tuple(np.asarray(step, dtype=np.float64) for step in self.errors)

    @property
    def steps(self) -> int:
        """How many forecast steps were calibrated (H_cal)."""
        return len(self.errors)

    def offsets(
        self, level: float | None = None, steps: int | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Log offsets (lower, upper), each (steps,), of the band at `level` (default self.level).

        Steps past H_cal reuse step H_cal's offsets times sqrt(h / H_cal): the random-walk growth
        of the spread. An extrapolation, not a conformal guarantee; calibrate as many steps as
        you forecast to avoid it.
        """
        level = self.level if level is None else level
        _check_level(level)
        _check_method(self.method)
        steps = self.steps if steps is None else steps
        if steps < 1:
            raise ConfigError(f"a band needs at least 1 step, got {steps}")
        if self.steps == 0:
            raise DataError("the calibration holds no steps; train the run again")
        pairs = []
        for step, errors in enumerate(self._arrays[:steps], start=1):
            lower, upper = _offsets_1d(errors, level, self.method)
            if math.isinf(upper) or math.isinf(lower):
                needed = min_origins(level, self.method)
                raise DataError(
                    f"step {step} has {len(errors)} calibration errors, and a {level:.0%} "
                    f"{self.method} conformal band needs at least {needed}: calibrate on more "
                    "origins (a longer calibration span) or lower [forecast] level"
                )
            pairs.append((lower, upper))
        lower, upper = np.array(pairs, dtype=np.float64).T  # (min(steps, H_cal),) each
        if steps > self.steps:
            # (steps - H_cal,) growth factors sqrt(h / H_cal) for h = H_cal + 1 .. steps
            growth = np.sqrt(np.arange(self.steps + 1, steps + 1) / self.steps)
            lower = np.concatenate([lower, lower[-1] * growth])
            upper = np.concatenate([upper, upper[-1] * growth])
        return lower, upper

    def scales(
        self, target: np.ndarray, base: np.ndarray | None, origins: np.ndarray, steps: int
    ) -> np.ndarray:
        """(origins, steps) what the step-h error of a forecast from each origin row of
        `target` is divided by (and its band multiplied by): the spread at that origin, from the
        rows up to it only. `base`: the residual target's base column (None: the target)."""
        return scales(self.scale, self.spread, target, base, origins, steps)

    def band(
        self,
        point_forecast: np.ndarray,
        level: float | None = None,
        volatility: float | np.ndarray = 1.0,
    ) -> tuple[np.ndarray, np.ndarray]:
        """(lower, upper) prices, each (steps,), around a point forecast of prices (steps,);
        `volatility`: the scale of each step's offsets (`scales()` at the origin), one number or
        (steps,)."""
        point_forecast = np.asarray(point_forecast, dtype=np.float64)
        if point_forecast.ndim != 1 or point_forecast.size == 0:
            raise DataError(
                f"point forecast must be a 1-D array of prices, got shape {point_forecast.shape}"
            )
        bad = np.flatnonzero(~(np.isfinite(point_forecast) & (point_forecast > 0)))
        if bad.size:
            raise DataError(
                f"point forecast step {bad[0] + 1} is {point_forecast[bad[0]]}: a conformal band "
                "in log-price space needs finite prices above 0"
            )
        lower, upper = self.offsets(level, point_forecast.size)
        if self.scale != "none":  # scores were errors / the spread at their origin
            lower, upper = lower * volatility, upper * volatility
        return point_forecast * np.exp(lower), point_forecast * np.exp(upper)

    def combine(self, paths: np.ndarray, last_price: float) -> np.ndarray:
        """Price paths (n, steps) pulled toward `last_price` step by step: a forecast
        combination with the random walk, last × (path / last) ** weights[h - 1]. Steps past
        the calibrated ones keep the last weight."""
        paths = np.asarray(paths, dtype=np.float64)
        if not self.weights or last_price <= 0 or np.any(paths <= 0):
            return paths  # no log move to weigh (a diff or level path can cross zero)
        steps = paths.shape[-1]
        weights = np.asarray(self.weights[:steps], dtype=np.float64)
        weights = np.concatenate([weights, np.full(steps - weights.size, weights[-1])])
        return last_price * np.exp(weights * np.log(paths / last_price))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: lists and floats only."""
        return {
            "level": self.level,
            "method": self.method,
            "origins": self.origins,
            "scale": self.scale,
            "weights": list(self.weights),
            **({} if self.spread is None else {"spread": self.spread.to_dict()}),
            "source": self.source,
            "errors": [list(step) for step in self.errors],
        }

    @classmethod
    def from_dict(cls, raw: dict[str, Any], source: str = "calibration") -> Calibration:
        """Inverse of `to_dict`; BundleError naming `source` when a field is missing or wrong."""
        missing = [key for key in ("level", "method", "origins", "errors") if key not in raw]
        if missing:
            raise BundleError(f"{source}: missing {', '.join(missing)}; train the run again")
        scale = str(raw.get("scale", "none"))
        spread = None
        if scale in SCALES and scale != "none":
            default = {"kind": scale, "step_one": None, "path": None}
            spread = Spread.from_dict(raw.get("spread", default), source, expected=scale)
        elif scale not in ("volatility", "none"):
            raise BundleError(f"{source}: scale {scale!r} is unknown; train the run again")
        try:
            errors = tuple(tuple(float(e) for e in step) for step in raw["errors"])
            calibration = cls(
                errors=errors,
                level=float(raw["level"]),
                method=str(raw["method"]),
                origins=int(raw["origins"]),
                scale=scale,
                weights=tuple(float(w) for w in raw.get("weights", ())),
                spread=spread,
                source=str(raw.get("source", "model")),
            )
        except (TypeError, ValueError, OverflowError) as e:  # 1e400 reads as inf: int() overflows
            raise BundleError(f"{source}: unreadable calibration ({e}); {REMEDY}") from e
        if not 0.0 < calibration.level < 1.0 or not 0 <= calibration.origins < 2**53:
            raise BundleError(f"{source}: level or origins out of range; train the run again")
        if calibration.source not in ("model", "random walk"):
            raise BundleError(f"{source}: source {calibration.source!r} is unknown; train again")
        if raw["method"] not in METHODS:
            raise BundleError(f"{source}: method {raw['method']!r} is not one of {METHODS}")
        if not errors or not all(errors):  # a step without errors bounds no band
            raise BundleError(f"{source}: the calibration holds a step without errors; {REMEDY}")
        if not all(math.isfinite(e) for step in errors for e in step):
            raise BundleError(f"{source}: calibration errors must be finite numbers")
        if not all(0.0 <= w <= 1.0 for w in calibration.weights):
            raise BundleError(f"{source}: combination weights must be in [0, 1]")
        return calibration


def _check_level(level: float) -> None:
    if not 0.0 < level < 1.0:
        raise ConfigError(f"[forecast] level must be between 0 and 1 (0.9 = 90 %), got {level}")


def _check_method(method: str) -> None:
    if method not in METHODS:
        raise ConfigError(f"conformal method must be one of {METHODS}, got {method!r}")


# ---- collecting calibration errors --------------------------------------------------------------


def log_errors(actual: np.ndarray, forecast: np.ndarray) -> np.ndarray:
    """log(actual) - log(forecast), elementwise; NaN actuals stay NaN."""
    return np.log(np.asarray(actual, dtype=np.float64)) - np.log(
        np.asarray(forecast, dtype=np.float64)
    )


def rolling_origin_errors(
    forecast_fn: Callable[[int, int], np.ndarray],
    prices: np.ndarray,
    origins: list[int],
    steps: int,
) -> np.ndarray:
    """Log errors (origins, steps) of `forecast_fn` from each origin row.

    forecast_fn(origin_row, steps) returns point forecasts (steps,) of prices for rows
    origin_row + 1 .. origin_row + steps, using rows up to origin_row only. Rows past the data's
    end have no actual: NaN.
    """
    prices = np.asarray(prices, dtype=np.float64)  # (rows,)
    if steps < 1:
        raise ConfigError(f"steps must be at least 1, got {steps}")
    errors = np.full((len(origins), steps), np.nan)  # (origins, steps)
    for index, origin in enumerate(origins):
        if not 0 <= origin < prices.size:
            raise DataError(f"origin row {origin} is outside the {prices.size} price rows")
        forecast = np.asarray(forecast_fn(origin, steps), dtype=np.float64)
        if forecast.shape != (steps,):
            raise ValueError(f"forecast_fn returned shape {forecast.shape}, expected ({steps},)")
        if not np.all(np.isfinite(forecast) & (forecast > 0)):
            raise DataError(
                f"the forecast from row {origin} has a price <= 0 or not finite ({forecast.min()}); "
                "log-price errors need positive forecasts"
            )
        actual = prices[origin + 1 : origin + 1 + steps]  # (<= steps,)
        errors[index, : actual.size] = log_errors(actual, forecast[: actual.size])
    return errors
