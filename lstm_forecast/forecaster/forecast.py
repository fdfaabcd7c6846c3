"""Recursive forecasts past the last date, with Monte-Carlo-dropout prediction intervals.

Each forecast step feeds the model's output back as the newest value of the window. With
`samples` > 0 the model's own Dropout layers stay on: every sample path draws its own dropout
masks, and the spread of the paths gives the interval. The whole horizon loop, all samples as one
batch, is one compiled TensorFlow function (XLA), never `model.predict` in a Python loop.
"""

from __future__ import annotations

import datetime
import functools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from lstm_forecast.data.calendar import future_timestamps
from lstm_forecast.data.frequency import (
    Frequency,
    infer_frequency,
    timestamp_string,
    timestamp_strings,
)
from lstm_forecast.errors import ConfigError, DataError
from lstm_forecast.forecaster.programs import compiled_paths
from lstm_forecast.prep.split import as_frame
from lstm_forecast.prep.windows import Inputs

SAMPLES_PER_CHUNK = 50  # samples per compiled call; chunks run on parallel threads
LAYER_SEEDS_PER_CHUNK = 64  # seeds reserved per chunk: one per layer
MAX_YEARS = 10  # a forecast longer than this many years of rows is refused (not a forecast)


def sample_paths(
    model,
    window: np.ndarray,
    steps: int,
    samples: int,
    scaler,
    normalized: np.ndarray | None = None,
    seed: int = 0,
) -> np.ndarray:
    """Model-space target paths of `steps` values after `window`.

    window: (length, columns) unscaled model-space values, the target first (a 1-D window is
    the target alone). `scaler` is the run's; `normalized` (columns,) marks the columns that
    per-window normalisation divides (default none).
    samples > 0: that many paths with the Dropout layers on (Monte-Carlo dropout), masks drawn
    from `seed`; samples == 0: one deterministic path with dropout off.
    Returns (max(samples, 1), steps).

    XLA runs each call on one core, so the samples go in chunks of SAMPLES_PER_CHUNK to a thread
    each; every chunk draws its masks from (seed, chunk), so the numbers do not depend on how many
    cores the machine has.
    """
    import tensorflow as tf

    window, normalized = _window_columns(window, normalized)
    compiled = compiled_paths(model, samples > 0, bool(normalized[0]))
    constants = (
        tf.constant(scaler.scale_, tf.float32),
        tf.constant(scaler.min_, tf.float32),
        tf.constant(normalized),
    )

    def chunk_paths(chunk: int, size: int) -> np.ndarray:
        start = tf.constant(np.broadcast_to(window, (size, *window.shape)), tf.float32)
        chunk_seed = tf.constant([seed, chunk * LAYER_SEEDS_PER_CHUNK], tf.int32)
        return compiled(start, steps, chunk_seed, constants).numpy()

    sizes = [
        min(SAMPLES_PER_CHUNK, samples - first) for first in range(0, samples, SAMPLES_PER_CHUNK)
    ]
    if len(sizes) <= 1:
        return chunk_paths(0, max(samples, 1))
    return np.concatenate(list(thread_pool().map(chunk_paths, range(len(sizes)), sizes)))


def _window_columns(window, normalized) -> tuple[np.ndarray, np.ndarray]:
    """(length, columns) float64 window (a 1-D one is the target alone) and its (columns,)
    normalisation mask (default: none)."""
    window = np.asarray(window, np.float64)
    window = window[:, None] if window.ndim == 1 else window
    return window, np.zeros(window.shape[1], bool) if normalized is None else normalized


@functools.lru_cache(maxsize=1)
def thread_pool():
    from concurrent.futures import ThreadPoolExecutor

    from lstm_forecast.model.backend import available_cores

    return ThreadPoolExecutor(max_workers=available_cores(), thread_name_prefix="forecast")


# ---- from paths to prices and dates -------------------------------------------------------------


def interval(paths: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Median and central `level` interval of price paths (samples, steps), per step."""
    tail = (1.0 - level) / 2
    lower, median, upper = np.quantile(paths, [tail, 0.5, 1.0 - tail], axis=0)
    return median, lower, upper


# ---- a forecast from a price series -------------------------------------------------------------


@dataclass(frozen=True)
class Forecast:
    table: pd.DataFrame  # date, actual, predicted, lower, upper: history rows, then forecast rows
    paths: np.ndarray  # (samples, steps) price paths
    origin: pd.Timestamp  # last date the forecast knew
    level: float  # of the lower..upper interval
    frequency: Frequency | None = None  # the data's step, which the forecast dates continue

    @property
    def future(self) -> pd.DataFrame:
        """The forecast rows alone, numbered from 0 (`table` starts with the history rows the
        forecast continues, which have no prediction: they are there to be drawn)."""
        return self.table[self.table["predicted"].notna()].reset_index(drop=True)


def forecast_series(
    model,
    scaler,
    frame: pd.DataFrame,
    origin_row: int,
    steps: int,
    inputs: Inputs,
    samples: int = 100,
    level: float = 0.9,
    seed: int = 0,
    calendar: str = "",
    source: str = "data",
    shrinkage: float = 1.0,
    band: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]] | None = None,
    combine: Callable[[np.ndarray, float], np.ndarray] | None = None,
) -> Forecast:
    """Forecast `steps` rows after row `origin_row` of `frame` from the rows up to it.

    `frame`: the target price first, then feature columns (or a price Series). Dates: the
    frame's own dates while it has rows after the origin (their actual prices are filled in),
    then timestamps past its end that continue the data's own step and pattern (business days,
    every day, weeks, month ends, session or round-the-clock bars; see frequency.py), or the
    sessions of exchange `calendar`; times of day and time zone are kept. The table starts with
    the window of actual prices the forecast started from (predicted empty), then the forecast
    rows. The interval: the Monte-Carlo dropout paths' central `level` share when samples > 0,
    else `band(point forecast)` (a conformal band), else none. `combine(paths, last price)`
    pulls the price paths toward the last price step by step (Calibration.combine).
    """
    steps = int(steps)  # a numpy integer from the caller: TensorFlow's loop takes Python ints
    if steps < 1:
        raise ConfigError(f"the forecast needs at least 1 step (--steps), got {steps}")
    frame = as_frame(frame)
    prices = frame.iloc[:, 0]
    needed = inputs.history_rows
    if origin_row + 1 < needed:
        raise DataError(
            f"{source}: the forecast origin {timestamp_string(prices.index[origin_row], prices.index)} has "
            f"{origin_row + 1} prices up to it, and the model needs {needed}; "
            "pick a later --origin or give more data"
        )
    frequency = infer_frequency(prices.index, source)
    most = int(MAX_YEARS * frequency.periods_per_year)
    if steps > most:
        raise ConfigError(
            f"--steps {steps} reaches more than {MAX_YEARS} years past the data ({most} rows of "
            f"{frequency.describe()}); a recursive forecast says nothing that far: ask for fewer"
        )
    known = frame.iloc[: origin_row + 1]  # nothing after the origin is read
    window = inputs.matrix(known)[-inputs.length :]  # (length, columns)
    model_paths = sample_paths(model, window, steps, samples, scaler, inputs.normalized, seed=seed)
    paths = to_prices(model_paths, inputs, float(inputs.base_values(known)[-1]), shrinkage)
    if combine is not None:
        paths = combine(paths, float(prices.iloc[origin_row]))
    median, lower, upper = interval(paths, level)
    if not samples:
        lower, upper = band(median) if band else (np.full(steps, np.nan),) * 2

    later = prices.iloc[origin_row + 1 : origin_row + 1 + steps]
    past_end = future_timestamps(prices.index[-1], steps - len(later), frequency, calendar)
    dates = later.index.append(past_end) if len(past_end) else later.index
    actual = np.concatenate([later.to_numpy(), np.full(steps - len(later), np.nan)])
    history = prices.iloc[origin_row + 1 - needed : origin_row + 1]
    table = pd.concat(
        [
            pd.DataFrame({"date": history.index, "actual": history.to_numpy()}),
            pd.DataFrame(
                {
                    "date": dates,
                    "actual": actual,
                    "predicted": median,
                    "lower": lower,
                    "upper": upper,
                }
            ),
        ],
        ignore_index=True,
    )
    table["date"] = timestamp_strings(history.index.append(dates), like=prices.index)
    return Forecast(
        table=table[["date", "actual", "predicted", "lower", "upper"]],
        paths=paths,
        origin=prices.index[origin_row],
        level=level,
        frequency=frequency,
    )


def to_prices(model_paths: np.ndarray, inputs: Inputs, last_base, shrinkage: float) -> np.ndarray:
    """Price paths from model-space paths; log-ratio outputs are shrunk toward the baseline.
    `last_base`: the base price each path starts from, a number or (paths, 1)."""
    if inputs.target_transform.log_ratio:
        model_paths = shrinkage * model_paths
    return inputs.target_transform.inverse_path(model_paths, last_base)


def origin_row(prices: pd.Series, origin: str | None, source: str) -> int:
    """Row of the last price on or before `origin` (an ISO date or timestamp, read in the data's
    time zone when it has no offset); None means the last row."""
    if origin is None:
        return len(prices) - 1
    # a number would be read as nanoseconds since 1970, a bool as 1 ns: only dates are dates
    dated = isinstance(origin, str | datetime.date | np.datetime64) and origin != ""
    try:
        if not dated:
            raise ValueError(origin)
        date = pd.Timestamp(origin)
    except ValueError as e:
        raise DataError(
            f"--origin {origin!r} is not a date; use ISO form like 2017-12-29 "
            "(or 2017-12-29 15:30 for intraday data)"
        ) from e
    index = pd.DatetimeIndex(prices.index)
    if index.tz is not None:
        date = date.tz_localize(index.tz) if date.tz is None else date.tz_convert(index.tz)
    elif date.tz is not None:
        date = date.tz_convert(None)  # naive data: compare in UTC
    row = int(index.searchsorted(date, side="right")) - 1
    shown, first, last = timestamp_strings(pd.DatetimeIndex([date, index[0], index[-1]]), index)
    if row < 0:
        raise DataError(f"{source}: --origin {shown} is before the data starts ({first})")
    if date > index[-1]:
        raise DataError(
            f"{source}: --origin {shown} is after the data ends ({last}); "
            "leave out --origin to forecast from the last date"
        )
    return row
