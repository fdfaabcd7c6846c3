"""Accuracy metrics on the price level, always beside the persistence ('tomorrow = today') baseline."""

from __future__ import annotations

import numpy as np


def rmse(actual: np.ndarray, predicted: np.ndarray) -> float:
    return float(np.sqrt(np.mean((np.asarray(predicted) - np.asarray(actual)) ** 2)))


def mae(actual: np.ndarray, predicted: np.ndarray) -> float:
    return float(np.mean(np.abs(np.asarray(predicted) - np.asarray(actual))))


def mape(actual: np.ndarray, predicted: np.ndarray) -> float:
    """Mean absolute percentage error, in percent."""
    actual = np.asarray(actual, dtype=np.float64)
    return float(100.0 * np.mean(np.abs((np.asarray(predicted) - actual) / actual)))


def evaluate(actual: np.ndarray, predicted: np.ndarray, previous_actual: np.ndarray) -> dict:
    """Metrics of `predicted` and of persistence (each row predicted as `previous_actual`).

    skill = 1 - rmse / naive_rmse: above 0 beats persistence, below 0 loses to it.
    """
    actual = np.asarray(actual, dtype=np.float64)
    predicted = np.asarray(predicted, dtype=np.float64)
    previous_actual = np.asarray(previous_actual, dtype=np.float64)
    model_rmse = rmse(actual, predicted)
    naive_rmse = rmse(actual, previous_actual)
    return {
        "rows": int(actual.size),
        "rmse": model_rmse,
        "mae": mae(actual, predicted),
        "mape": mape(actual, predicted),
        "naive_rmse": naive_rmse,
        "naive_mae": mae(actual, previous_actual),
        "skill": 1.0 - model_rmse / naive_rmse if naive_rmse > 0 else float("nan"),
    }
