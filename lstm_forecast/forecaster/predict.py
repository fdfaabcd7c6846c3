"""One-step-ahead predictions from actual history, as the reference example makes them."""

from __future__ import annotations

import numpy as np
import pandas as pd

from lstm_forecast.data.frequency import on_clock_of, same_day_keys, timestamp_strings
from lstm_forecast.errors import DataError
from lstm_forecast.prep.scaling import scale, unscale
from lstm_forecast.prep.split import as_frame
from lstm_forecast.prep.windows import CLOSE, Inputs

# windows per forward pass: one call of the model's compiled outputs, without Keras's per-call data
# pipeline (predict_on_batch was 3.5x faster than model.predict for the ~500 held-out windows a
# fit scores; the same numbers), in chunks that keep the activations of a million-row file small
PREDICT_CHUNK = 4096


def model_outputs(model, scaled: np.ndarray) -> np.ndarray:
    """The model's output for each of `scaled` (windows, length, inputs): (windows,)."""
    if len(scaled) == 0:
        return np.zeros(0, np.float32)
    import tensorflow as tf

    from lstm_forecast.forecaster.programs import compiled_outputs

    outputs = compiled_outputs(model)
    return np.concatenate(
        [
            outputs(tf.constant(scaled[first : first + PREDICT_CHUNK], tf.float32)).numpy()[:, 0]
            for first in range(0, len(scaled), PREDICT_CHUNK)
        ]
    )


def predict_rows(
    model,
    scaler,
    frame: pd.DataFrame,
    rows: np.ndarray,
    inputs: Inputs,
    shrinkage: float = 1.0,
) -> np.ndarray:
    """Predicted price of each row in `rows`, each from the actual data before it.

    `frame`: the target price first, then feature columns (or a price Series). `rows` index
    into it; each needs inputs.history_rows rows before it. `shrinkage` (log-ratio targets):
    the prediction is base × exp(shrinkage × model output), pulled toward the baseline.
    """
    frame = as_frame(frame)
    rows = np.asarray(rows, dtype=np.intp)
    windows, divisor = inputs.windows(inputs.matrix(frame), rows)  # (rows, length, columns)
    scaled = scale(scaler, windows).astype(np.float32)
    outputs = model_outputs(model, scaled)
    values = unscale(scaler, outputs) * divisor
    if inputs.target_transform.log_ratio:
        values = shrinkage * values
    return inputs.target_transform.inverse(values, inputs.base_values(frame)[rows - 1])


MAX_CONTINUATION_GAP_DAYS = 7  # a CSV starting within a week after the run's data continues it


def history_before(run_frame: pd.DataFrame, new: pd.DataFrame) -> pd.DataFrame:
    """The run's rows that may serve as history for `new`: those dated before `new` starts.

    Used when `new` is the same series as the run's: either it overlaps the run's data with the
    same prices on the common dates, or it starts within MAX_CONTINUATION_GAP_DAYS after the run's
    data ends (the reference test file). Otherwise (another ticker, a later year) nothing.
    The prices (first columns) decide; both may be price Series.
    """
    run_frame, new = as_frame(run_frame), as_frame(new)
    # One clock for both (a file with UTC offsets may continue a run read from one without).
    run_keys, new_keys = same_day_keys(run_frame.index, new.index)
    earlier = run_frame[run_keys < new_keys[0]]
    earlier = earlier.set_axis(on_clock_of(earlier.index, new.index), axis=0)
    run_prices = pd.Series(run_frame.iloc[:, 0].to_numpy(), index=run_keys)
    new_prices = pd.Series(new.iloc[:, 0].to_numpy(), index=new_keys)
    common = new_keys.intersection(run_keys)
    if len(common):
        same = np.allclose(new_prices[common].to_numpy(), run_prices[common].to_numpy(), rtol=1e-6)
        return earlier if same else earlier.iloc[:0]
    gap_days = (new_keys[0] - run_keys[-1]).days
    return earlier if 0 < gap_days <= MAX_CONTINUATION_GAP_DAYS else earlier.iloc[:0]


def predict_series(
    model,
    scaler,
    new: pd.DataFrame,
    history: pd.DataFrame,
    inputs: Inputs,
    source: str,
    shrinkage: float = 1.0,
) -> pd.DataFrame:
    """Predictions for every row of `new` that has enough actual data before it.

    The rows before a row are `new`'s own earlier rows, preceded by `history` (which must end
    before `new` starts), so a file that continues the training data is predicted from its first
    row, exactly as the reference concatenates train and test. Both are frames with the target
    price first (or price Series), with the same columns.

    Returns columns date, actual, predicted, persistence (previous actual) and, when the frame
    has a Close beside its target, previous_close; rows without enough history have empty
    predicted values.
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
    predicted[rows] = predict_rows(model, scaler, frame, rows, inputs, shrinkage)
    persistence = np.concatenate([[np.nan], values[:-1]])
    table = pd.DataFrame(
        {
            "date": timestamp_strings(prices.index),  # with times and offset where there are
            "actual": values,
            "predicted": predicted,
            "persistence": persistence,
        }
    )
    if CLOSE in frame.columns[1:]:
        table["previous_close"] = frame[CLOSE].shift(1).to_numpy()
    return table.iloc[first_row:].reset_index(drop=True)
