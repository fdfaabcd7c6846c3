"""Pooled out-of-sample scores of a walk-forward backtest: every row of every fold counted once.

The objective of `tune` and the columns of the many-series league table. Computing only.
`baseline` names a column of the predictions table (`fold, date, actual, predicted, persistence`,
and later the strongest baseline's column) and, for the running score, the same key of the
per-fold metrics' "baselines" table (evaluate.evaluate).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from lstm_forecast.evaluate.metrics import DieboldMariano, diebold_mariano

DEFAULT_BASELINE = "baseline"  # the column of the strongest baseline each fold chose


def pooled_errors(
    predictions: pd.DataFrame, baseline: str = DEFAULT_BASELINE
) -> tuple[np.ndarray, np.ndarray]:
    """(model errors, baseline errors), predicted - actual, over the rows that have both."""
    if baseline not in predictions.columns:
        raise ValueError(
            f"the predictions have no {baseline!r} column; columns: {', '.join(predictions.columns)}"
        )
    scored = predictions.dropna(subset=["predicted", baseline])
    actual = scored["actual"].to_numpy(np.float64)
    return (
        scored["predicted"].to_numpy(np.float64) - actual,
        scored[baseline].to_numpy(np.float64) - actual,
    )


def skill_from_errors(model_errors: np.ndarray, baseline_errors: np.ndarray) -> float:
    """1 - RMSE(model) / RMSE(baseline); NaN when there are no rows or the baseline is perfect."""
    if len(model_errors) == 0:
        return float("nan")
    baseline_rmse = float(np.sqrt(np.mean(np.square(baseline_errors))))
    if baseline_rmse == 0:
        return float("nan")
    return 1.0 - float(np.sqrt(np.mean(np.square(model_errors)))) / baseline_rmse


def pooled_skill(predictions: pd.DataFrame, baseline: str = DEFAULT_BASELINE) -> float:
    """Pooled skill = 1 - RMSE(model) / RMSE(baseline) over all out-of-sample rows of all folds."""
    return skill_from_errors(*pooled_errors(predictions, baseline))


def pooled_dm(predictions: pd.DataFrame, baseline: str = DEFAULT_BASELINE) -> DieboldMariano:
    """Diebold-Mariano test of the pooled errors against the baseline's."""
    return diebold_mariano(*pooled_errors(predictions, baseline))


class RunningSkill:
    """Pooled skill of the folds finished so far, from each fold's metrics (rows and RMSEs).

    A fold's squared errors sum to rows * rmse**2, so the pooled RMSE of the folds so far is
    sqrt(sum of rows * rmse**2 / sum of rows): the same number pooled_skill gives on their rows.
    """

    def __init__(self, baseline: str = DEFAULT_BASELINE) -> None:
        self.baseline = baseline
        self.rows = 0
        self.model_squares = 0.0
        self.baseline_squares = 0.0

    def add(self, fold_metrics: dict) -> float:
        """Add a fold (the metrics walk_forward passes to on_fold); the pooled skill so far."""
        rows = int(fold_metrics["rows"])
        if self.baseline == DEFAULT_BASELINE:  # the fold's strongest baseline
            baseline_rmse = fold_metrics["baseline_rmse"]
        else:
            baseline_rmse = fold_metrics["baselines"][self.baseline]["rmse"]
        self.rows += rows
        self.model_squares += rows * fold_metrics["rmse"] ** 2
        self.baseline_squares += rows * baseline_rmse**2
        if self.baseline_squares == 0:
            return float("nan")
        return 1.0 - float(np.sqrt(self.model_squares / self.baseline_squares))
