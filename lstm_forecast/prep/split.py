"""Splitting prices into a training and a test span (by date or by fraction), and joining a training and a test file into one frame."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from lstm_forecast.data.frequency import on_clock_of
from lstm_forecast.errors import DataError


@dataclass(frozen=True)
class Split:
    """Data cut in time: rows [0, n_train) train the model, the rest test it."""

    frame: pd.DataFrame  # float64 by date, oldest first: the target price, then feature columns
    n_train: int

    @property
    def prices(self) -> pd.Series:
        return self.frame.iloc[:, 0]

    @property
    def train(self) -> pd.Series:
        return self.prices.iloc[: self.n_train]

    @property
    def test(self) -> pd.Series:
        return self.prices.iloc[self.n_train :]

    @property
    def train_frame(self) -> pd.DataFrame:
        return self.frame.iloc[: self.n_train]


def as_frame(data: pd.Series | pd.DataFrame) -> pd.DataFrame:
    """A price series as a one-column frame; frames pass through."""
    return data.to_frame() if isinstance(data, pd.Series) else data


def refuse_constant(frame: pd.Series | pd.DataFrame, source: str) -> None:
    """DataError when the target (the first column) has one value on every row: every baseline
    is exact, so no skill is defined and nothing can be judged (`tune` refuses it; a run still
    trains on it and forecasts it flat)."""
    target = as_frame(frame).iloc[:, 0]
    if len(target) > 1 and target.nunique(dropna=True) == 1:
        first, last = target.index[0], target.index[-1]
        raise DataError(
            f"{source}: column {target.name!r} is {target.iloc[0]:g} on all {len(target)} rows "
            f"({first.date()} .. {last.date()}); a price that never moves gives a search "
            "nothing to judge: check the column (--target) and the file"
        )


def split_by_fraction(prices: pd.Series | pd.DataFrame, test_fraction: float, source: str) -> Split:
    """The newest `test_fraction` of rows (at least one) become the test span."""
    n_test = max(1, round(len(prices) * test_fraction))
    if n_test >= len(prices):
        raise DataError(
            f"{source}: {'1 row is' if len(prices) == 1 else f'{len(prices)} rows are'} too few "
            f"to keep {n_test} "
            "for testing and train on the rest; give more data (a window needs more rows than "
            "its length)"
        )
    return Split(frame=as_frame(prices), n_train=len(prices) - n_test)


def split_by_date(prices: pd.Series | pd.DataFrame, test_start: str, source: str) -> Split:
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
    return Split(frame=as_frame(prices), n_train=n_train)


def join_train_test(
    train: pd.Series | pd.DataFrame, test: pd.Series | pd.DataFrame, test_source: str
) -> Split:
    """The reference way: a separate test file that continues the training data in time.
    The test rows take the training file's clock (with or without UTC offsets)."""
    test = test.set_axis(on_clock_of(test.index, train.index), axis=0)
    missing = [c for c in as_frame(train).columns if c not in as_frame(test).columns]
    if missing:
        raise DataError(
            f"{test_source}: no {', '.join(map(repr, missing))} column, which the training file "
            "has and the model reads; give the test file the same columns"
        )
    if test.index[0] <= train.index[-1]:
        raise DataError(
            f"{test_source}: the test data starts on {test.index[0].date()}, not after the training "
            f"data ends ({train.index[-1].date()}); give a test CSV that continues the training CSV"
        )
    return Split(frame=pd.concat([as_frame(train), as_frame(test)]), n_train=len(train))
