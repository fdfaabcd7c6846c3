"""The naive forecast loop, `model.predict` once per step: the reference the compiled loop of
lstm_forecast.forecaster.forecast is tested against, and the baseline of benchmarks/forecast_speed.py."""

import numpy as np

from lstm_forecast.forecaster.forecast import _window_columns
from lstm_forecast.prep.scaling import scale, unscale
from lstm_forecast.prep.windows import normalize_windows


def predict_loop_paths(
    model,
    window: np.ndarray,
    steps: int,
    samples: int,
    scaler,
    normalized: np.ndarray | None = None,
) -> np.ndarray:
    """The naive way, for comparison: `model.predict` once per step (dropout off), with the
    NumPy scaling and normalisation that training and one-step predictions use."""
    window, normalized = _window_columns(window, normalized)
    batch = np.repeat(window[None], max(samples, 1), axis=0)  # (batch, length, columns)
    outputs = []
    for _ in range(steps):
        normalised, divisor = normalize_windows(batch, normalized)
        value = model.predict(scale(scaler, normalised).astype(np.float32), verbose=0)[:, 0]
        target = unscale(scaler, value) * divisor  # (batch,)
        outputs.append(target)
        new_row = np.concatenate([target[:, None], batch[:, -1, 1:]], axis=1)
        batch = np.concatenate([batch[:, 1:], new_row[:, None, :]], axis=1)
    return np.stack(outputs, axis=1)
