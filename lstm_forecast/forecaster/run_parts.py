"""The checks of a run's table-like parts as bundle.read_run reads them: history.csv,
series.csv and scaler.json, each damage one BundleError naming the file (and the line)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from lstm_forecast.errors import BundleError, LstmForecastError
from lstm_forecast.files.read import numeric_columns, read_table
from lstm_forecast.prep.windows import MAX_PRICE

REMEDY = "train the run again"


def read_history(path: Path) -> pd.DataFrame:
    """history.csv: epoch, loss[, val_loss], seconds, every value a number."""
    history = read_table(path, remedy=REMEDY)
    if "loss" not in history.columns:
        raise BundleError(f"{path}: damaged (no loss column); {REMEDY}")
    numeric_columns(history, history.columns, path, REMEDY)
    return history


def read_series(path: Path) -> pd.DataFrame:
    frame = read_table(path, remedy=REMEDY)
    if "date" not in frame.columns or frame.shape[1] < 2:
        raise BundleError(f"{path}: damaged (no date and price columns); train the run again")
    from lstm_forecast.data.dialect import parse_dates

    try:
        # as the loader reads dates: one UTC offset throughout is kept, offsets that change
        # (a named time zone over daylight saving time) are read as UTC
        dates = parse_dates(frame["date"].astype(str), path, "date")
        values = frame.drop(columns="date").set_axis(dates, axis=0).astype("float64")
    except (LstmForecastError, ValueError, TypeError) as e:
        raise BundleError(f"{path}: damaged ({e}); train the run again") from e
    if not values.index.is_monotonic_increasing or values.index.has_duplicates:
        raise BundleError(f"{path}: damaged (the dates are not in order); train the run again")
    target = values.iloc[:, 0].to_numpy()
    bad = ~np.isfinite(target) | (np.abs(target) >= MAX_PRICE)  # training refused these
    if bad.any():
        row = int(bad.argmax())
        raise BundleError(
            f"{path}: line {row + 2}, column {values.columns[0]!r}: {float(target[row])!r} is not a "
            f"price the run could have trained on; {REMEDY}"
        )
    return values.rename_axis("date")


def checked_scaler(params: dict, columns: int, directory: Path):
    """A scaler from scaler.json, checked: finite bounds, one per model input, min < max."""
    from lstm_forecast.prep.scaling import scaler_from_dict

    where = f"{directory}/scaler.json"
    try:
        low = np.asarray(params["data_min"], dtype=np.float64)
        high = np.asarray(params["data_max"], dtype=np.float64)
        bounds = np.asarray(params["feature_range"], dtype=np.float64)
        if bounds.shape != (2,) or not np.isfinite(bounds).all() or not bounds[0] < bounds[1]:
            raise ValueError(f"feature_range {params['feature_range']!r:.40} is not [low, high]")
        scaler = scaler_from_dict(params)
    except (KeyError, TypeError, ValueError, IndexError, OverflowError) as e:
        raise BundleError(f"{where}: damaged ({e}); train the run again") from e
    if low.shape != (columns,) or high.shape != (columns,):
        raise BundleError(
            f"{where}: {low.size} scaled columns, the config has {columns} model inputs; "
            "train the run again"
        )
    # min == max: a constant target (flat prices); sklearn scales a zero range by 1
    finite = np.isfinite(low).all() and np.isfinite(high).all()
    if not finite or max(np.abs(low).max(), np.abs(high).max()) >= MAX_PRICE or low[0] > high[0]:
        raise BundleError(f"{where}: bounds are not finite, too large, or min > max; {REMEDY}")
    return scaler
