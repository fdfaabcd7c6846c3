"""Accuracy on the price level, always beside the baselines a forecast has to beat.

Baselines, on the same rows: persistence ("tomorrow = today", the previous actual) and drift
(the previous actual plus the mean daily change of the training prices).
"""

from __future__ import annotations

import numpy as np

MAX_LAG_DAYS = 5  # lag diagnosis looks at shifts 0..5


def rmse(actual: np.ndarray, predicted: np.ndarray) -> float:
    return float(np.sqrt(np.mean((np.asarray(predicted) - np.asarray(actual)) ** 2)))


def mae(actual: np.ndarray, predicted: np.ndarray) -> float:
    return float(np.mean(np.abs(np.asarray(predicted) - np.asarray(actual))))


def mape(actual: np.ndarray, predicted: np.ndarray) -> float:
    """Mean absolute percentage error, in percent."""
    actual = np.asarray(actual, dtype=np.float64)
    return float(100.0 * np.mean(np.abs((np.asarray(predicted) - actual) / actual)))


def directional_accuracy(actual: np.ndarray, predicted: np.ndarray, previous: np.ndarray) -> float:
    """Share of rows where the predicted change from the previous actual has the real change's sign.

    Rows whose real change is exactly zero are left out; NaN when no row is left.
    """
    real_change = np.asarray(actual) - np.asarray(previous)
    predicted_change = np.asarray(predicted) - np.asarray(previous)
    moved = real_change != 0
    if not moved.any():
        return float("nan")
    return float(np.mean(np.sign(predicted_change[moved]) == np.sign(real_change[moved])))


def best_lag(
    actual: np.ndarray, predicted: np.ndarray, previous: np.ndarray
) -> tuple[int, list[float]]:
    """The shift k in 0..MAX_LAG_DAYS at which the predictions best match the actuals (least RMSE).

    Shift k compares predicted[t] with actual[t - k]; k = 1 uses `previous` for the first row.
    k >= 1 means the model mostly repeats the price from k days before. Returns (k, RMSE per k);
    shifts that leave fewer than 2 rows get NaN.
    """
    actual = np.asarray(actual, dtype=np.float64)
    predicted = np.asarray(predicted, dtype=np.float64)
    # earlier[j] = actual[j - 1]: the actual prices from the day before the first row on
    earlier = np.concatenate([np.asarray(previous, dtype=np.float64)[:1], actual])
    n = len(actual)
    errors = [rmse(actual, predicted)]  # k = 0
    for k in range(1, MAX_LAG_DAYS + 1):
        # predicted[t] against actual[t - k] = earlier[t - k + 1], for t = k - 1 .. n - 1
        shifted_predicted, shifted_actual = predicted[k - 1 :], earlier[: n + 1 - k]
        enough = len(shifted_predicted) >= 2
        errors.append(rmse(shifted_actual, shifted_predicted) if enough else float("nan"))
    return int(np.nanargmin(errors)), errors


def evaluate(
    actual: np.ndarray, predicted: np.ndarray, previous_actual: np.ndarray, drift: float = 0.0
) -> dict:
    """Metrics of `predicted` and of the baselines on the same rows.

    `previous_actual` is the actual price before each row (persistence); `drift` is the mean daily
    change of the training prices. skill = 1 - rmse / naive_rmse: above 0 beats persistence.
    """
    actual = np.asarray(actual, dtype=np.float64)
    predicted = np.asarray(predicted, dtype=np.float64)
    previous_actual = np.asarray(previous_actual, dtype=np.float64)
    drift_predicted = previous_actual + drift
    model_rmse = rmse(actual, predicted)
    naive_rmse = rmse(actual, previous_actual)
    lag, lag_rmse = best_lag(actual, predicted, previous_actual)
    return {
        "rows": int(actual.size),
        "rmse": model_rmse,
        "mae": mae(actual, predicted),
        "mape": mape(actual, predicted),
        "directional_accuracy": directional_accuracy(actual, predicted, previous_actual),
        "naive_rmse": naive_rmse,
        "naive_mae": mae(actual, previous_actual),
        "naive_mape": mape(actual, previous_actual),
        "drift": float(drift),
        "drift_rmse": rmse(actual, drift_predicted),
        "drift_mae": mae(actual, drift_predicted),
        "drift_directional_accuracy": directional_accuracy(
            actual, drift_predicted, previous_actual
        ),
        "skill": 1.0 - model_rmse / naive_rmse if naive_rmse > 0 else float("nan"),
        "lag": lag,
        "lag_rmse": lag_rmse,
    }


def evaluate_table(table, drift: float = 0.0) -> dict:
    """evaluate() on a predictions table (date, actual, predicted, persistence), skipping rows
    without a prediction, plus the span of dates scored."""
    scored = table.dropna(subset=["predicted"])
    return {
        **evaluate(scored["actual"], scored["predicted"], scored["persistence"], drift),
        "test_start": str(scored["date"].iloc[0]),
        "test_end": str(scored["date"].iloc[-1]),
    }


def lag_verdict(metrics: dict) -> str:
    """One plain sentence about what the lag diagnosis found."""
    lag = metrics["lag"]
    if lag == 0:
        return "lag diagnosis: predictions match the actuals best unshifted (lag 0)"
    days = "day" if lag == 1 else "days"
    return (
        f"lag diagnosis: predictions match the actual price from {lag} {days} before best: "
        f"the model mostly repeats the price from {lag} {days} before"
    )
