"""Chronological split, target transform, MinMax scaling (fit on train only) and sliding windows."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view
from sklearn.preprocessing import MinMaxScaler

from lstm_forecast.config.schema import Config
from lstm_forecast.data.features import Feature, compute
from lstm_forecast.data.features import history_rows as feature_history_rows
from lstm_forecast.data.frequency import timestamp_string
from lstm_forecast.data.quality import SUSPICIOUS_MOVE  # the data-quality report's threshold
from lstm_forecast.errors import DataError
from lstm_forecast.prep.scaling import fit_scaler, scale, scale_target
from lstm_forecast.prep.split import as_frame
from lstm_forecast.prep.transforms import TargetTransform, get_transform

CLOSE = "Close"  # the name the Close column beside an Open target has in a model frame


@dataclass(frozen=True)
class Inputs:
    """How a frame (target price first, then feature columns) becomes model inputs.

    Column 0 of the model matrix is the target in model space (`transform`), the other columns
    the features. With `normalize`, each window's level-like columns (the target when
    transform is "level", raw columns and moving averages) are divided by their value at the
    window's last row, and so is a level target. A MinMax scaler per column, fit on the training
    windows and targets, maps everything to [0, 1].
    """

    length: int
    transform: str = "log_return"
    features: tuple[Feature, ...] = ()
    normalize: bool = False
    base: str = ""  # column of the "residual" transform's base; "" = the target itself

    @classmethod
    def from_config(cls, config) -> Inputs:
        residual = config.window.target_transform == "residual"
        return cls(
            length=config.window.length,
            transform=config.window.target_transform,
            features=config.data.parsed_features,
            normalize=config.window.normalize,
            base=CLOSE if residual and config.window.base == "previous_close" else "",
        )

    def base_values(self, frame: pd.DataFrame) -> np.ndarray:
        """The base series of the target transform: the price each prediction builds on is its
        value on the row before (the target itself, or the Close for "previous_close")."""
        frame = as_frame(frame)
        if self.base and self.base not in frame.columns:
            raise DataError(
                f"the residual target's base needs a {self.base!r} column beside the target"
            )
        column = frame[self.base] if self.base else frame.iloc[:, 0]
        return column.to_numpy(np.float64)

    def check_prices(self, frame: pd.DataFrame, source: str) -> None:
        """One line naming the first price at or below zero (column, date, value) where the
        target transform divides by prices or takes their logs: the target, and the residual's
        base column."""
        if not self.target_transform.positive_only:
            return
        frame = as_frame(frame)
        columns = [frame.columns[0], *([self.base] if self.base in frame.columns[1:] else [])]
        for column in columns:
            values = frame[column]
            bad = values[values <= 0]
            if len(bad):
                when = timestamp_string(bad.index[0], like=frame.index)
                rows = f"{len(bad)} row{'s' if len(bad) > 1 else ''} at or below zero"
                raise DataError(
                    f"{source}: column {column!r} is {bad.iloc[0]:g} on {when} ({rows}); "
                    f"the {self.transform} target transform needs prices above zero; "
                    "correct the row, or train with --set window.target_transform=diff"
                )

    @property
    def target_transform(self) -> TargetTransform:
        return get_transform(self.transform)

    @property
    def history_rows(self) -> int:
        """Rows of data needed before the first row the model can predict."""
        undefined = max(self.target_transform.lag, feature_history_rows(self.features))
        return self.length + undefined

    @property
    def normalized(self) -> np.ndarray:
        """(columns,) bool: which columns per-window normalisation divides."""
        target = self.normalize and self.transform == "level"
        return np.array([target] + [self.normalize and f.level_like for f in self.features])

    def matrix(self, frame: pd.DataFrame) -> np.ndarray:
        """(rows, columns) model-space values; NaN where a value is undefined."""
        frame = as_frame(frame)
        base = self.base_values(frame) if self.base else None
        target = self.target_transform.forward(frame.iloc[:, 0].to_numpy(), base)
        return np.column_stack([target] + [compute(f, frame) for f in self.features])

    def windows(self, matrix: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Unscaled input windows for predicting each of `rows` (the `length` rows before it),
        normalised when asked, and each window's divisor of the target (1 when not normalised).

        Returns (len(rows), length, columns) float64 and (len(rows),).
        """
        rows = np.asarray(rows, dtype=np.intp)
        assert rows.size == 0 or rows.min() >= self.length, "row without enough history"
        # (rows - length + 1, columns, length): window k holds matrix[k : k + length]
        every_window = sliding_window_view(matrix, self.length, axis=0)
        windows = every_window[rows - self.length].transpose(0, 2, 1)
        return normalize_windows(windows, self.normalized)


def normalize_windows(windows: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Divide the masked columns of each window (n, length, columns) by their last value."""
    last = windows[:, -1, :]  # (n, columns)
    if not mask.any():
        return windows, np.ones(len(windows))
    if np.any(last[:, mask] <= 0):
        raise DataError(
            "per-window normalisation divides by the last value of each window, and a value is "
            "zero or negative; set [window] normalize = false or use another feature"
        )
    divisor = np.where(mask, last, 1.0)  # (n, columns)
    return windows / divisor[:, None, :], divisor[:, 0]


# MinMaxScaler.transform is `values * scale_ + min_` per column. It is written out here once, for
# NumPy arrays and TensorFlow tensors alike, because the compiled forecast loop (forecast.py)
# must scale inside the TensorFlow graph, where sklearn cannot run.


# A log-ratio target (log return, residual) of this size or more is a split, a data error, or a
# base column that does not match the target (the reference Google file's Close is not
# split-adjusted before 2014-03-27 while its Open is); windows that hold one are not trained on.


def training_rows(matrix: np.ndarray, inputs: Inputs) -> np.ndarray:
    """Rows the model is trained to predict: every row with a full window before it, less those
    whose window or target holds a NaN or (log-ratio targets) a suspicious move."""
    rows = np.arange(inputs.history_rows, len(matrix))
    bad = ~np.isfinite(matrix).all(axis=1)
    if inputs.target_transform.log_ratio:
        bad |= np.abs(np.nan_to_num(matrix[:, 0])) >= np.log1p(SUSPICIOUS_MOVE)
    # a row is unusable when its target or any row of its window is bad
    bad_before = np.concatenate([[0], np.cumsum(bad)])  # bad rows among the first k rows
    window_bad = bad_before[rows + 1] - bad_before[rows - inputs.length] > 0
    return rows[~window_bad]


def training_windows(
    train_frame: pd.DataFrame | pd.Series | np.ndarray,
    inputs: Inputs,
    source: str = "training data",
) -> tuple[np.ndarray, np.ndarray, MinMaxScaler]:
    """Windows and next-step targets from the training rows, and the scaler fit on them.

    Returns X (n, length, columns) float32, y (n,) float32, scaler;
    n = rows - inputs.history_rows.
    """
    if isinstance(train_frame, np.ndarray):
        train_frame = pd.Series(train_frame)
    frame = as_frame(train_frame)
    needed = inputs.history_rows + 1
    if len(frame) < needed:
        raise DataError(
            f"{source}: {len(frame)} training rows, but a window of {inputs.length} with "
            f"target_transform {inputs.transform!r} needs at least {needed}; "
            "give more data or a shorter [window] length"
        )
    matrix = inputs.matrix(frame)
    rows = training_rows(matrix, inputs)
    if rows.size == 0:
        raise DataError(
            f"{source}: no training window is free of moves of {SUSPICIOUS_MOVE:.0%} or more "
            "between the target and its base (a split or a data error); check the file with "
            "`lstm-forecast inspect`"
        )
    x, divisor = inputs.windows(matrix, rows)  # (n, length, columns), (n,)
    y = matrix[rows, 0] / divisor
    columns = matrix.shape[1]
    targets = np.full((len(y), columns), np.nan)
    targets[:, 0] = y
    # every training value the model sees or learns, per column
    scaler = fit_scaler(np.vstack([x.reshape(-1, columns), targets]))
    return scale(scaler, x).astype(np.float32), scale_target(scaler, y).astype(np.float32), scaler


def model_columns(
    prices: pd.DataFrame | pd.Series, config: Config, source: str = "prices"
) -> pd.DataFrame:
    """The target column first, then the columns the features read, matched by name
    (case-insensitive); a Series or a frame already in that order passes through. The rows
    are checked as the CSV reader checks a file's (checked_rows)."""
    from lstm_forecast.data.read import feature_columns

    if not isinstance(prices, pd.DataFrame | pd.Series):
        raise DataError(
            f"{source}: prices must be a pandas DataFrame or Series with dates as the index, "
            f"got {type(prices).__name__}; read a CSV with lstm_forecast.read_prices(path, config)"
        )
    frame = as_frame(prices)
    if not isinstance(frame.index, pd.DatetimeIndex):
        raise DataError(f"{source}: prices need a DatetimeIndex (dates as the index, oldest first)")
    wanted = [config.data.target, *feature_columns(config.data)]
    by_name = {str(column).strip().lower(): column for column in frame.columns}
    close = _close_column(frame.columns) if config.data.target.strip().lower() == "open" else None
    if all(name.strip().lower() in by_name for name in wanted):
        chosen = [by_name[name.strip().lower()] for name in wanted]
        if close is not None and close not in chosen:  # the previous-close baseline's column
            chosen.append(close)
        frame = frame[chosen].rename(columns={close: CLOSE} if close else {})
    elif frame.shape[1] != len(wanted):  # else: target first, then features, under other names
        shown = f"columns {', '.join(map(str, frame.columns))}" if frame.shape[1] else "no columns"
        raise DataError(f"{source}: prices have {shown}; the config needs {', '.join(wanted)}")
    return checked_rows(frame, source)


MAX_PRICE = 1e100  # larger: a unit or exponent error (1e300 typed for 300), and errors overflow


def checked_rows(frame: pd.DataFrame, source: str) -> pd.DataFrame:
    """`frame` as float64 with one row per date, oldest first, every value a finite number, or
    one DataError naming the first offence and how to fix it (the checks the CSV reader makes
    on a file, for prices handed over in Python)."""
    if frame.empty:
        raise DataError(f"{source}: no rows of prices")
    if frame.columns.duplicated().any():
        name = frame.columns[frame.columns.duplicated()][0]
        raise DataError(
            f"{source}: the column {name!r} appears more than once; keep one, e.g. "
            "prices.loc[:, ~prices.columns.duplicated()]"
        )
    for name, dtype in frame.dtypes.items():  # a string column is parsed below, value by value
        text = pd.api.types.is_object_dtype(dtype) or pd.api.types.is_string_dtype(dtype)
        real = pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_complex_dtype(dtype)
        if not (text or real):
            raise DataError(
                f"{source}: column {name!r} holds {dtype} values, not prices; give real numbers"
            )
    index = frame.index

    def when(timestamp) -> str:
        return timestamp_string(timestamp, like=index.dropna())

    if index.hasnans:
        raise DataError(
            f"{source}: a date is missing (NaT); drop the row: prices[prices.index.notna()]"
        )
    repeated = index.duplicated()
    if repeated.any():
        raise DataError(
            f"{source}: the date {when(index[repeated][0])} appears more than once; keep one row "
            "per date, e.g. prices[~prices.index.duplicated(keep='last')]"
        )
    if not index.is_monotonic_increasing:
        later = int(np.flatnonzero(np.diff(index.asi8) < 0)[0])
        raise DataError(
            f"{source}: dates must run oldest first, but {when(index[later + 1])} follows "
            f"{when(index[later])}; sort them with prices.sort_index()"
        )
    numbers = frame.apply(pd.to_numeric, errors="coerce").astype("float64")
    bad = ~np.isfinite(numbers.to_numpy())
    if bad.any():
        row, column = (int(i[0]) for i in np.nonzero(bad))
        value = frame.iloc[row, column]
        raise DataError(
            f"{source}: column {frame.columns[column]!r} is "
            f"{repr(value) if isinstance(value, str) else value} on {when(index[row])}, not a "
            "finite number; drop or fill such rows (e.g. prices.dropna())"
        )
    huge = np.abs(numbers.to_numpy()) >= MAX_PRICE
    if huge.any():
        row, column = (int(i[0]) for i in np.nonzero(huge))
        raise DataError(
            f"{source}: column {frame.columns[column]!r} is {numbers.iloc[row, column]:g} on "
            f"{when(index[row])}: no price is that large (squared errors overflow); check the "
            "file's units or exponents"
        )
    return numbers


def _close_column(columns) -> str | None:
    """The Close column (also Nasdaq's "Close/Last"), or None."""
    for column in columns:
        if "close" in str(column).strip().lower().split("/"):
            return column
    return None


def same_columns(prices, config, known: pd.DataFrame, inputs: Inputs, source: str) -> pd.DataFrame:
    """`prices` in the columns of the data a model knows (target, feature columns, Close), with
    its step; or one line naming the missing column or the other step."""
    from lstm_forecast.data.frequency import check_same_step

    frame = model_columns(prices, config, source)
    missing = [column for column in known.columns if column not in frame.columns]
    if missing:
        raise DataError(
            f"{source}: no {', '.join(map(repr, missing))} column; this run was trained with "
            f"{', '.join(map(str, known.columns))}"
        )
    frame = frame[list(known.columns)]
    inputs.check_prices(frame, source)
    check_same_step(frame.index, known.index, source)
    return frame
