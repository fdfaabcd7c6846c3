"""One-step-ahead predictions from actual history, as the reference example makes them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from lstm_forecast.errors import DataError
from lstm_forecast.windows import Inputs, as_frame, scale, to_prices, unscale

PREDICT_BATCH_SIZE = 256  # windows per forward pass (train and predict use the same)


def predict_rows(
    model, scaler, frame: pd.DataFrame, rows: np.ndarray, inputs: Inputs
) -> np.ndarray:
    """Predicted price of each row in `rows`, each from the actual data before it.

    `frame`: the target price first, then feature columns (or a price Series). `rows` index
    into it; each needs inputs.history_rows rows before it.
    """
    frame = as_frame(frame)
    rows = np.asarray(rows, dtype=np.intp)
    windows, divisor = inputs.windows(inputs.matrix(frame), rows)  # (rows, length, columns)
    scaled = scale(scaler, windows).astype(np.float32)
    outputs = model.predict(scaled, batch_size=PREDICT_BATCH_SIZE, verbose=0)[:, 0]
    prices = frame.iloc[:, 0].to_numpy(np.float64)
    return to_prices(unscale(scaler, outputs) * divisor, prices[rows - 1], inputs.transform)


MAX_CONTINUATION_GAP_DAYS = 7  # a CSV starting within a week after the run's data continues it


def history_before(run_frame: pd.DataFrame, new: pd.DataFrame) -> pd.DataFrame:
    """The run's rows that may serve as history for `new`: those dated before `new` starts.

    Used when `new` is the same series as the run's: either it overlaps the run's data with the
    same prices on the common dates, or it starts within MAX_CONTINUATION_GAP_DAYS after the run's
    data ends (the reference test file). Otherwise (another ticker, a later year) nothing.
    The prices (first columns) decide; both may be price Series.
    """
    run_frame, new = as_frame(run_frame), as_frame(new)
    run_series, new_series = run_frame.iloc[:, 0], new.iloc[:, 0]
    earlier = run_frame[run_frame.index < new.index[0]]
    common = new.index.intersection(run_frame.index)
    if len(common):
        same = np.allclose(new_series[common].to_numpy(), run_series[common].to_numpy(), rtol=1e-6)
        return earlier if same else earlier.iloc[:0]
    gap_days = (new.index[0] - run_series.index[-1]).days
    return earlier if 0 < gap_days <= MAX_CONTINUATION_GAP_DAYS else earlier.iloc[:0]


def predict_series(
    model, scaler, new: pd.DataFrame, history: pd.DataFrame, inputs: Inputs, source: str
) -> pd.DataFrame:
    """Predictions for every row of `new` that has enough actual data before it.

    The rows before a row are `new`'s own earlier rows, preceded by `history` (which must end
    before `new` starts), so a file that continues the training data is predicted from its first
    row, exactly as the reference concatenates train and test. Both are frames with the target
    price first (or price Series), with the same columns.

    Returns columns date, actual, predicted, persistence (previous actual); rows without enough
    history have empty predicted values.
    """
    new, history = as_frame(new), as_frame(history)
    history = history.set_axis(new.columns, axis=1)  # same columns by position (names may vary)
    frame = pd.concat([history, new])
    prices = frame.iloc[:, 0]
    first_row = len(history)
    needed = inputs.history_rows
    rows = np.arange(max(first_row, needed), len(prices))
    if rows.size == 0:
        raise DataError(
            f"{source}: no row has the {needed} earlier prices the model needs "
            f"({len(new)} rows in the file, {len(history)} earlier rows from the run)"
        )
    values = prices.to_numpy()
    predicted = np.full(len(prices), np.nan)
    predicted[rows] = predict_rows(model, scaler, frame, rows, inputs)
    persistence = np.concatenate([[np.nan], values[:-1]])
    table = pd.DataFrame(
        {
            "date": prices.index.strftime("%Y-%m-%d"),
            "actual": values,
            "predicted": predicted,
            "persistence": persistence,
        }
    )
    return table.iloc[first_row:].reset_index(drop=True)


def predict_csv(
    run_dir: str | Path, data: str | Path | None = None
) -> tuple[pd.DataFrame, str, dict]:
    """Load a run and predict every row of `data` (default: the run's own data file).

    Returns the table of predict_series plus an `in_sample` column (True where the row is one the
    model was trained on: same date, same price), the path of the CSV read, and the metrics of
    the out-of-sample predictions (all of them, flagged `in_sample`, when every row is in sample),
    with the drift baseline from the run's training data.
    """
    from lstm_forecast.bundle import load_run
    from lstm_forecast.data import csv_options, load_prices

    run = load_run(run_dir)
    settings = run.config.data
    source = Path(data) if data else Path(settings.test_path or settings.path)
    new = load_prices(source, **csv_options(settings)).frame
    table = predict_series(
        run.load_model(),
        run.scaler,
        new,
        history_before(run.frame, new),
        Inputs.from_config(run.config),
        str(source),
    )
    training = run.series.iloc[: run.metrics.get("train_rows", len(run.series))]
    trained_on = training.reindex(pd.to_datetime(table["date"])).to_numpy()
    table["in_sample"] = np.isclose(trained_on, table["actual"].to_numpy(), rtol=1e-9)
    out_of_sample = table[~table["in_sample"]].dropna(subset=["predicted"])
    scored = out_of_sample if len(out_of_sample) else table

    from lstm_forecast.evaluate import evaluate_table

    metrics = evaluate_table(scored, run.metrics.get("drift", 0.0))
    metrics["in_sample_rows_left_out"] = int(table["in_sample"].sum()) if len(out_of_sample) else 0
    metrics["in_sample"] = not len(out_of_sample)
    return table, str(source), metrics
