"""The one place a band is made of a calibration: one-step bands (a row each, each with the
spread at its own origin) and recursive bands (a path of steps from one origin), and the one
adaptive level (adaptive conformal inference over the one-step errors seen so far).

`target` is the price series a band is for (the frame's first column), `base` the residual
target's base column (the Close under an Open target; None: the target itself): the spread
of step 1 is that of the price over its base (intervals.spread).

Every caller goes through here: `train`'s one-step band on the test span, `Forecaster.forecast`'s
path band and its adaptive level, the backtest's one-step and recursive bands per fold.
"""

from __future__ import annotations

import numpy as np

from lstm_forecast.errors import DataError
from lstm_forecast.intervals.adaptive import aci_offsets
from lstm_forecast.intervals.conformal import Calibration


def series(frame, inputs) -> tuple[np.ndarray, np.ndarray | None]:
    """(target, base) of a model frame for the band functions (inputs: prep.windows.Inputs)."""
    target = frame.iloc[:, 0].to_numpy(np.float64)
    return target, (inputs.base_values(frame) if inputs.base else None)


def scale_before(calibration, target, base, rows: np.ndarray) -> np.ndarray:
    """(rows,) the scale of each row's one-step band: the spread at the row before it (its
    forecast origin), from the rows up to there only; 1 for a calibration of raw errors."""
    rows = np.asarray(rows, dtype=np.intp)
    if rows.size == 0:
        return np.ones(0)
    end = rows.max()  # nothing after the newest origin is read
    target = np.asarray(target, dtype=np.float64)[:end]
    base = None if base is None else np.asarray(base, dtype=np.float64)[:end]
    return calibration.scales(target, base, rows - 1, 1)[:, 0]


def adaptive_online(calibration, actual, predicted, scale, level: float, gamma: float):
    """Adaptive conformal inference over one-step predictions, on the calibration's own scores
    (errors divided by each row's `scale`, scale_before()). Returns (lower, upper, next_alpha)
    with the bands in prices."""
    actual, predicted = np.asarray(actual, np.float64), np.asarray(predicted, np.float64)
    scores = (np.log(actual) - np.log(predicted)) / scale  # what the calibration holds
    if not np.all(np.isfinite(scores)):
        raise DataError("adaptive intervals need finite positive actual and forecast prices")
    _, low, high, next_alpha = aci_offsets(scores, np.asarray(calibration.errors[0]), level, gamma)
    with np.errstate(over="ignore"):  # an unbounded band: exp(inf)
        lower = predicted * np.exp(low * scale)  # from score units to prices
        upper = predicted * np.exp(high * scale)
    return lower, upper, next_alpha


def bounded_level(calibration, level: float) -> float:
    """`level` clipped to what the calibration's errors can bound at every step: with m errors
    a band of level up to m / (m + 1) is finite. Adaptive levels can ask for more."""
    fewest = min(len(errors) for errors in calibration.errors)
    return float(np.clip(level, 0.01, fewest / (fewest + 1) - 1e-6))


def one_step_band(
    calibration: Calibration,
    predicted: np.ndarray,
    target: np.ndarray,
    base: np.ndarray | None,
    rows: np.ndarray,
    level: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(lower, upper, scale) of the one-step predictions of the integer positions `rows` of
    `target`: the calibration's step-1 band at `level`, each row scaled by the spread at its
    origin (the row before it), measured on the rows up to that origin only."""
    scale = scale_before(calibration, target, base, rows)
    low, high = calibration.offsets(level, 1)
    predicted = np.asarray(predicted, dtype=np.float64)
    return predicted * np.exp(low[0] * scale), predicted * np.exp(high[0] * scale), scale


def origin_scale(calibration: Calibration, target, base, first_row: int, steps: int) -> np.ndarray:
    """(steps,) the scale of each step of a recursive band whose first forecast row is
    `first_row`: the spread at its origin (the row before), from the rows up to there."""
    target = np.asarray(target, dtype=np.float64)[:first_row]
    base = None if base is None else np.asarray(base, dtype=np.float64)[:first_row]
    return calibration.scales(target, base, [first_row - 1], steps)[0]


def path_band(
    calibration: Calibration, path: np.ndarray, level: float, scale: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(lower, upper) around a recursive forecast `path` (steps,): step h's band at `level`,
    times step h's `scale` (origin_scale())."""
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


def online_band(
    calibration: Calibration,
    actual: np.ndarray,
    predicted: np.ndarray,
    scale: np.ndarray,
    level: float,
    online: str = "aci",
    gamma: float = 0.005,
    rate: float = 0.003,
    offsets: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(lower, upper) of one-step predictions in time order whose actuals arrive one by one
    (a test span, new data, a backtest's folds): the calibration's step-1 band, each row scaled
    by its `scale` (scale_before()), adapted online by the misses of the rows before it:
    "aci" moves the level (adaptive conformal inference, `gamma`), "track" the quantile itself
    (conformal PID's quantile tracker, `rate`: intervals.tracking), "none" keeps it static.
    Rows without a finite actual or prediction keep the static band and teach nothing.
    `offsets`: each row's static (lower, upper) log offsets in score units, when the rows come
    from several calibrations (a backtest's refits); default the calibration's step 1. ACI
    works on the scores themselves (from `calibration`'s, then the rows'), whatever they are."""
    from lstm_forecast.intervals.tracking import track

    actual, predicted = np.asarray(actual, np.float64), np.asarray(predicted, np.float64)
    scale = np.asarray(scale, np.float64)
    if offsets is None:
        first = calibration.offsets(level, 1)
        offsets = (np.full(actual.size, first[0][0]), np.full(actual.size, first[1][0]))
    low, high = (np.asarray(o, np.float64) for o in offsets)  # (rows,) each
    lower, upper = predicted * np.exp(low * scale), predicted * np.exp(high * scale)
    known = np.isfinite(actual) & np.isfinite(predicted) & (actual > 0) & (predicted > 0)
    if online == "none" or not known.any():
        return lower, upper
    a, p, s = actual[known], predicted[known], scale[known]
    if online == "aci":
        lower[known], upper[known], _ = adaptive_online(calibration, a, p, s, level, gamma)
    else:
        radius = np.maximum(-low[known], high[known])  # (known,) each row's static quantile
        used, _ = track(np.abs(np.log(a) - np.log(p)) / s, radius, level, rate)
        widen = used - radius  # the tracker's correction, added to both tails
        lower[known] = p * np.exp((low[known] - widen) * s)
        upper[known] = p * np.exp((high[known] + widen) * s)
    return lower, upper
