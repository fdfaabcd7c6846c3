"""Chronological split, target transform, MinMax scaling (fit on train only) and sliding windows."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view
from sklearn.preprocessing import MinMaxScaler

from lstm_forecast.errors import DataError


@dataclass(frozen=True)
class Split:
    """A price series cut in time: rows [0, n_train) train the model, the rest test it."""

    prices: pd.Series  # float64 by date, oldest first: train rows then test rows
    n_train: int

    @property
    def train(self) -> pd.Series:
        return self.prices.iloc[: self.n_train]

    @property
    def test(self) -> pd.Series:
        return self.prices.iloc[self.n_train :]


def split_by_fraction(prices: pd.Series, test_fraction: float, source: str) -> Split:
    """The newest `test_fraction` of rows (at least one) become the test span."""
    n_test = max(1, round(len(prices) * test_fraction))
    if n_test >= len(prices):
        raise DataError(f"{source}: {len(prices)} rows are too few to keep {n_test} for testing")
    return Split(prices=prices, n_train=len(prices) - n_test)


def split_by_date(prices: pd.Series, test_start: str, source: str) -> Split:
    """Rows dated on or after `test_start` become the test span."""
    try:
        start = pd.Timestamp(test_start)
    except ValueError as e:
        raise DataError(
            f"test_start {test_start!r} is not a date; use ISO form like 2018-01-01"
        ) from e
    n_train = int(np.searchsorted(prices.index.to_numpy(), start.to_datetime64(), side="left"))
    first, last = prices.index[0].date(), prices.index[-1].date()
    if n_train == 0 or n_train == len(prices):
        raise DataError(
            f"{source}: test_start {start.date()} leaves no rows on one side; "
            f"the data runs from {first} to {last}"
        )
    return Split(prices=prices, n_train=n_train)


def join_train_test(train: pd.Series, test: pd.Series, test_source: str) -> Split:
    """The reference way: a separate test file that continues the training data in time."""
    if test.index[0] <= train.index[-1]:
        raise DataError(
            f"{test_source}: the test data starts on {test.index[0].date()}, not after the training "
            f"data ends ({train.index[-1].date()}); give a test CSV that continues the training CSV"
        )
    return Split(prices=pd.concat([train, test]), n_train=len(train))


def history_rows(length: int, transform: str) -> int:
    """Rows of actual prices needed before the first row the model can predict."""
    return length + (0 if transform == "level" else 1)


def to_model_space(prices: np.ndarray, transform: str) -> np.ndarray:
    """What the model learns, aligned with `prices` (NaN where undefined).

    level: the price itself. log_return: log(price_t / price_t-1), NaN at t = 0.
    """
    prices = np.asarray(prices, dtype=np.float64)
    if transform == "level":
        return prices.copy()
    if np.any(prices <= 0):
        raise DataError('log_return needs prices above zero; use target_transform = "level"')
    out = np.full_like(prices, np.nan)
    out[1:] = np.diff(np.log(prices))
    return out


def to_prices(model_values: np.ndarray, previous_prices: np.ndarray, transform: str) -> np.ndarray:
    """Invert to_model_space for predicted values, given the actual price before each one."""
    model_values = np.asarray(model_values, dtype=np.float64)
    if transform == "level":
        return model_values
    return np.asarray(previous_prices, dtype=np.float64) * np.exp(model_values)


def fit_scaler(train_model_values: np.ndarray) -> MinMaxScaler:
    """MinMax scaler to [0, 1] fit on the training rows alone (NaN rows are ignored)."""
    return MinMaxScaler(feature_range=(0, 1)).fit(np.asarray(train_model_values).reshape(-1, 1))


def scaler_to_dict(scaler: MinMaxScaler) -> dict:
    """The scaler's parameters as plain JSON-able data (no pickle)."""
    return {
        "kind": "MinMaxScaler",
        "feature_range": list(scaler.feature_range),
        "data_min": scaler.data_min_.tolist(),
        "data_max": scaler.data_max_.tolist(),
    }


def scaler_from_dict(params: dict) -> MinMaxScaler:
    """Rebuild a fitted MinMaxScaler: fitting on the two rows (min, max) gives the same transform."""
    scaler = MinMaxScaler(feature_range=tuple(params["feature_range"]))
    return scaler.fit(np.vstack([params["data_min"], params["data_max"]]))


def scale(scaler: MinMaxScaler, model_values: np.ndarray) -> np.ndarray:
    """Scale a 1-D series (NaN stays NaN)."""
    return scaler.transform(np.asarray(model_values).reshape(-1, 1))[:, 0]


def unscale(scaler: MinMaxScaler, scaled: np.ndarray) -> np.ndarray:
    """Inverse of `scale` for a 1-D array of model outputs."""
    return scaler.inverse_transform(np.asarray(scaled).reshape(-1, 1))[:, 0]


def windows_for_rows(scaled: np.ndarray, rows: np.ndarray, length: int) -> np.ndarray:
    """Input windows for predicting each row in `rows`: the `length` values just before it.

    Returns (len(rows), length, 1) float32; row i gets scaled[i - length : i].
    """
    rows = np.asarray(rows, dtype=np.intp)
    assert rows.size == 0 or rows.min() >= length, "row without enough history"
    every_window = sliding_window_view(
        scaled, length
    )  # (n - length + 1, length); k -> scaled[k:k+length]
    return every_window[rows - length][..., np.newaxis].astype(np.float32)


def training_windows(
    train_prices: np.ndarray, length: int, transform: str, source: str = "training data"
) -> tuple[np.ndarray, np.ndarray, MinMaxScaler]:
    """Windows and next-step targets from the training prices, and the scaler fit on them.

    Returns X (n, length, 1), y (n,), scaler; n = len(train_prices) - history_rows(...).
    """
    needed = history_rows(length, transform) + 1
    if len(train_prices) < needed:
        raise DataError(
            f"{source}: {len(train_prices)} training rows, but a window of {length} with "
            f"target_transform {transform!r} needs at least {needed}; "
            "give more data or a shorter [window] length"
        )
    model_values = to_model_space(train_prices, transform)
    scaler = fit_scaler(model_values)
    scaled = scale(scaler, model_values)
    rows = np.arange(history_rows(length, transform), len(train_prices))
    x = windows_for_rows(scaled, rows, length)
    y = scaled[rows].astype(np.float32)
    return x, y, scaler
