"""Naive baselines a forecast has to beat, and the choice of the strongest on the training span.

Each baseline predicts row t from the rows before it:
  persistence     the previous value of the target ("tomorrow = today")
  drift           the previous value plus the mean daily change of the training span
  previous_close  when the target is the Open and the data has a Close: the previous Close
                  ("tomorrow's open = today's close"), often far better than persistence because
                  the close is the last price before the open.

The strongest baseline is chosen on the training span alone (never by looking at the test span):
the least RMSE over the last CHOICE_ROWS training rows, ignoring each baseline's worst
CHOICE_TRIM share of those rows. See baseline_scores() for why.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from lstm_forecast.errors import DataError

BASELINE_LABELS = {
    "persistence": "tomorrow = today",
    "drift": "today + mean change",
    "previous_close": "tomorrow's open = today's close",
}
# The order ties are broken in: the simplest baseline wins a tie.
BASELINE_ORDER = ("persistence", "drift", "previous_close")
CHOICE_ROWS = 250  # about one trading year: the end of the training span the choice looks at
CHOICE_TRIM = 0.05  # share of each baseline's largest squared errors the choice ignores


def previous_close_applies(target_column: str, close_column: str | None) -> bool:
    """Whether the previous-close baseline makes sense: the target is the Open and there is a
    Close column."""
    return bool(close_column) and target_column.strip().lower() == "open"


def training_drift(frame: pd.DataFrame | pd.Series, target_column: str | None = None) -> float:
    """Mean daily change of the target over `frame` (the drift baseline's step)."""
    values = _as_frame(frame, target_column)[0].to_numpy(dtype=np.float64)
    return float(np.mean(np.diff(values))) if values.size >= 2 else 0.0


def baseline_predictions(
    frame: pd.DataFrame | pd.Series,
    target_column: str | None = None,
    close_column: str | None = None,
    rows: np.ndarray | None = None,
    drift: float = 0.0,
) -> dict[str, np.ndarray]:
    """Each baseline's predictions of the target at the integer positions `rows` of `frame`.

    Parameters
    ----------
    frame: prices by date, oldest first (a Series is the target alone).
    target_column: the column forecast (default: the first column, or the Series' name).
    close_column: the Close column, if the data has one; used only when the target is the Open.
    rows: positions (>= 1, since every baseline needs the row before); default every row but
        the first.
    drift: mean daily change of the training span (see training_drift()).

    Returns {name: predictions (len(rows),)} for "persistence", "drift" and, when it applies,
    "previous_close".
    """
    target, close = _as_frame(frame, target_column, close_column)
    values = target.to_numpy(dtype=np.float64)
    rows = np.arange(1, len(values)) if rows is None else np.asarray(rows, dtype=np.int64)
    if rows.size and (rows.min() < 1 or rows.max() >= len(values)):
        raise ValueError(
            f"baseline rows must lie in 1..{len(values) - 1} (each needs the row before); "
            f"got {rows.min()}..{rows.max()}"
        )
    previous_close = None if close is None else close.to_numpy(dtype=np.float64)[rows - 1]
    return from_previous(values[rows - 1], drift, previous_close)


def from_previous(
    previous: np.ndarray, drift: float = 0.0, previous_close: np.ndarray | None = None
) -> dict[str, np.ndarray]:
    """Every baseline's predictions from the rows before the predicted ones: the one place a
    baseline is defined (a new one is added here, with its label in BASELINE_LABELS and its
    place in BASELINE_ORDER). `previous`: the target's price on the row before; `drift`: the
    training span's mean change; `previous_close`: the row before's Close, when the target is
    the Open and the data has one."""
    previous = np.asarray(previous, dtype=np.float64)
    predictions = {"persistence": previous, "drift": previous + drift}
    if previous_close is not None:
        predictions["previous_close"] = np.asarray(previous_close, dtype=np.float64)
    return predictions


def baseline_scores(
    train_frame: pd.DataFrame | pd.Series,
    target_column: str | None = None,
    close_column: str | None = None,
    drift: float | None = None,
) -> dict[str, float]:
    """Each baseline's choice score on the training span: RMSE over the last CHOICE_ROWS rows,
    ignoring its largest CHOICE_TRIM share of squared errors (lower is better).

    Why not the RMSE over the whole training span: real files are messy. The reference Google
    file's Close is not split-adjusted before 2014-03-27 while its Open is (Close ~ 2 x Open),
    so over the whole span previous close looks 30 times worse than persistence although it is
    better by a third over the last year and on the test span. The rows that matter are the
    latest (the test span follows them), so the choice looks at the last year only; trimming the
    worst 5 % makes it survive a few bad rows or a split inside that year too. The score stays a
    squared-error one, the loss the headline RMSE and the Diebold-Mariano test use.

    `drift`: the drift baseline's step; default the mean daily change of `train_frame`.
    Rows where any baseline has no prediction (a missing Close) are left out for all of them.
    """
    target, _ = _as_frame(train_frame, target_column)
    if drift is None:
        drift = training_drift(target)
    rows = np.arange(max(1, len(target) - CHOICE_ROWS), len(target))
    predictions = baseline_predictions(train_frame, target_column, close_column, rows, drift)
    actual = target.to_numpy(dtype=np.float64)[rows]
    with np.errstate(over="ignore"):  # a wild price (1e300) overflows: inf, then not usable
        squared = {name: (p - actual) ** 2 for name, p in predictions.items()}  # each (rows,)
    usable = np.all([np.isfinite(s) for s in squared.values()], axis=0)
    if not usable.any():
        raise DataError(
            f"the training span has {len(target)} row{'s' * (len(target) != 1)}: too few to "
            "compare the baselines on (and to train); give more data, or keep fewer rows for "
            "testing ([data] test_fraction, test_start)"
        )
    return {name: _trimmed_rmse(s[usable]) for name, s in squared.items()}


def choose_baseline(
    train_frame: pd.DataFrame | pd.Series,
    target_column: str | None = None,
    close_column: str | None = None,
    drift: float | None = None,
) -> str:
    """The name of the strongest baseline on the training span (least baseline_scores())."""
    scores = baseline_scores(train_frame, target_column, close_column, drift)
    return min((name for name in BASELINE_ORDER if name in scores), key=scores.__getitem__)


def _trimmed_rmse(squared_errors: np.ndarray) -> float:
    kept = int(np.ceil(len(squared_errors) * (1 - CHOICE_TRIM)))
    return float(np.sqrt(np.mean(np.sort(squared_errors)[:kept])))


def _as_frame(
    frame: pd.DataFrame | pd.Series, target_column: str | None, close_column: str | None = None
) -> tuple[pd.Series, pd.Series | None]:
    """The target column and, when the previous-close baseline applies, the Close column."""
    if isinstance(frame, pd.Series):
        frame = frame.to_frame()
    target_column = frame.columns[0] if target_column is None else target_column
    for column in (target_column, close_column):
        if column is not None and column not in frame.columns:
            raise ValueError(f"no column {column!r}; columns are {list(frame.columns)}")
    close = (
        frame[close_column] if previous_close_applies(str(target_column), close_column) else None
    )
    return frame[target_column], close


def baseline_column(table: pd.DataFrame, baseline: str, drift: float = 0.0) -> np.ndarray:
    """The strongest baseline's predictions of a predictions table's rows (persistence and,
    when the data has it, previous_close columns), row by row."""
    if baseline == "drift":
        return (table["persistence"] + drift).to_numpy()
    return table[baseline].to_numpy()
