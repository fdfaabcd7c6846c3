"""Where a forecast starts: the origin row of a date, and the model's point paths from many origins at once (calibration, backtests)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from lstm_forecast.forecaster.forecast import compiled_paths, thread_pool, to_prices
from lstm_forecast.prep.windows import Inputs

ORIGINS_BUCKET = 64


def point_paths(
    model,
    scaler,
    frame: pd.DataFrame,
    origin_rows: np.ndarray,
    steps: int,
    inputs: Inputs,
    shrinkage: float = 1.0,
) -> np.ndarray:
    """Deterministic recursive forecasts (dropout off) of `steps` rows after each of
    `origin_rows`, in one compiled call: prices (origins, steps). Used to collect the
    out-of-sample errors that calibrate conformal intervals."""
    import tensorflow as tf
    from numpy.lib.stride_tricks import sliding_window_view

    origin_rows = np.asarray(origin_rows, dtype=np.intp)
    matrix = inputs.matrix(frame)  # (rows, columns)
    # window k holds matrix[k : k + length]; the one ending at row o starts at o - length + 1
    starts = sliding_window_view(matrix, inputs.length, axis=0)[origin_rows - inputs.length + 1]
    starts = starts.transpose(0, 2, 1)  # (origins, length, columns)
    # XLA runs a call on one core: the origins go in chunks of ORIGINS_BUCKET to the forecast
    # threads (one per core). Every chunk has one shape (the last padded by repeating its last
    # window), so XLA compiles once, and the numbers do not depend on the number of cores
    padded = -(-len(starts) // ORIGINS_BUCKET) * ORIGINS_BUCKET
    starts = np.concatenate([starts, np.repeat(starts[-1:], padded - len(starts), axis=0)])
    normalized = inputs.normalized
    compiled = compiled_paths(model, False, bool(normalized[0]))
    constants = (
        tf.constant(scaler.scale_, tf.float32),
        tf.constant(scaler.min_, tf.float32),
        tf.constant(normalized),
    )

    def part_paths(part: np.ndarray) -> np.ndarray:
        start = tf.constant(part, tf.float32)
        return compiled(start, steps, tf.constant([0, 0], tf.int32), constants).numpy()

    chunks = np.split(starts, padded // ORIGINS_BUCKET)
    model_paths = np.concatenate(list(thread_pool().map(part_paths, chunks)))
    model_paths = model_paths[: len(origin_rows)]
    bases = inputs.base_values(frame)[origin_rows][:, None]  # (origins, 1)
    return to_prices(model_paths.astype(np.float64), inputs, bases, shrinkage)
