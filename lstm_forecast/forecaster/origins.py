"""The model's point paths from many origins at once (the calibration)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from lstm_forecast.forecaster.forecast import thread_pool
from lstm_forecast.forecaster.programs import compiled_paths
from lstm_forecast.prep.windows import Inputs

ORIGINS_BUCKET = 64


def model_paths(
    model, scaler, frame: pd.DataFrame, origin_rows: np.ndarray, steps: int, inputs: Inputs
) -> np.ndarray:
    """Deterministic recursive forecasts (dropout off) of `steps` rows after each of
    `origin_rows`, in model space: (origins, steps) float64, in compiled calls over the forecast
    threads (forecast.to_prices makes them prices). The calibration's out-of-sample errors come
    from them, and the shrinkage from their first step."""
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
    compiled = compiled_paths(model, False, bool(inputs.normalized[0]))
    constants = _constants(scaler.scale_, scaler.min_, inputs.normalized)

    def part_paths(part: np.ndarray) -> np.ndarray:
        start = tf.constant(part, tf.float32)
        return compiled(start, steps, tf.constant([0, 0], tf.int32), constants).numpy()

    chunks = np.split(starts, padded // ORIGINS_BUCKET)
    paths = np.concatenate(list(thread_pool().map(part_paths, chunks)))
    return paths[: len(origin_rows)].astype(np.float64)


def _constants(multiplier, offset, normalized) -> tuple:
    """The compiled loop's scaling arguments (the run's MinMax scaling), as it is traced."""
    import tensorflow as tf

    return (
        tf.constant(multiplier, tf.float32),
        tf.constant(offset, tf.float32),
        tf.constant(normalized),
    )


def compile_paths(model, inputs: Inputs, steps: int):
    """A Future that traces and compiles model_paths' loop for `steps` on a forecast thread
    (one run of a chunk of ones: the compiled program depends on the shapes, not the values)."""
    import tensorflow as tf

    def run() -> None:
        columns = len(inputs.normalized)
        start = tf.ones((ORIGINS_BUCKET, inputs.length, columns), tf.float32)
        constants = _constants(np.ones(columns), np.zeros(columns), inputs.normalized)
        compiled = compiled_paths(model, False, bool(inputs.normalized[0]))
        compiled(start, steps, tf.constant([0, 0], tf.int32), constants)

    return thread_pool().submit(run)
