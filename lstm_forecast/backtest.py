"""Walk-forward backtest: rolling origin, expanding window, one-step-ahead predictions per fold.

Computing only: runs.backtest reads the data and writes the results.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from lstm_forecast.config import Config
from lstm_forecast.errors import ConfigError, DataError
from lstm_forecast.evaluate import evaluate_table, rmse
from lstm_forecast.windows import Inputs

# metrics summarised across folds as mean and standard deviation
SUMMARY_METRICS = (
    "rmse",
    "mae",
    "mape",
    "directional_accuracy",
    "naive_rmse",
    "drift_rmse",
    "skill",
    "lag",
    "forecast_rmse",
    "forecast_naive_rmse",
    "coverage",
    "epochs_run",
    "seconds_per_epoch",
)


@dataclass(frozen=True)
class BacktestResult:
    folds: pd.DataFrame  # one row per fold: spans and metrics
    predictions: pd.DataFrame  # fold, date, actual, predicted, persistence
    summary: dict  # {metric: {"mean": .., "std": ..}} plus folds, fold_length
    out_dir: Path | None = None  # where runs.backtest wrote it


def fold_origins(
    rows: int, folds: int, horizon: int, min_train_rows: int, source: str
) -> list[int]:
    """First test row of each fold: the last folds * horizon rows, cut into consecutive blocks."""
    if folds < 1 or horizon < 1:
        raise ConfigError(
            f"--folds and --fold-length must be at least 1, got {folds} and {horizon}"
        )
    origins = [rows - (folds - fold) * horizon for fold in range(folds)]
    if origins[0] < min_train_rows:
        raise DataError(
            f"{source}: {rows} rows are too few for {folds} folds of {horizon} rows: the first fold "
            f"would train on {max(origins[0], 0)} rows, and at least {min_train_rows} are needed; "
            "use fewer --folds or a shorter --fold-length"
        )
    return origins


def walk_forward(
    config: Config,
    frame: pd.DataFrame,
    folds: int,
    fold_length: int,
    source: str,
    on_fold: Callable[[int, dict], object] = lambda fold, metrics: None,
) -> BacktestResult:
    """Train one model per fold on everything before the fold and predict the fold's rows.

    `frame`: by date, the target first, then the columns the features read. The scaler and the
    model of a fold see only rows before its origin; each prediction inside the fold uses the
    actual prices before it, as a forecaster would have had them that day. Each fold also gets a
    recursive forecast of all its rows from the origin (predict --horizon): its RMSE beside the
    flat "last price" forecast, and the share of actual prices inside its [forecast] level
    interval (coverage; NaN with samples = 0). `on_fold(fold, metrics)` is called as each fold
    finishes.
    """
    from lstm_forecast.forecaster import Forecaster

    inputs = Inputs.from_config(config)
    origins = fold_origins(len(frame), folds, fold_length, inputs.history_rows + 1, source)
    fold_rows, tables = [], []
    for fold, origin in enumerate(origins, start=1):
        history = frame.iloc[:origin]  # everything the fold may learn from
        forecaster = Forecaster.fit(history, config, source=source)
        forecaster = forecaster.with_data(frame.iloc[: origin + fold_length])
        table = forecaster.predict(frame.iloc[origin : origin + fold_length], source)
        metrics = evaluate_table(table, forecaster.drift)
        metrics.pop("lag_rmse")
        metrics.update(_horizon_metrics(config, forecaster, frame, origin, fold_length, source))
        fold_rows.append(
            {
                "fold": fold,
                "train_rows": origin,
                "train_end": str(history.index[-1].date()),
                **metrics,
                "parameters": forecaster.fit_info["parameters"],
                "epochs_run": forecaster.fit_info["epochs_run"],
                "seconds_per_epoch": forecaster.fit_info["seconds_per_epoch"],
            }
        )
        tables.append(table.assign(fold=fold))
        on_fold(fold, metrics)

    fold_table = pd.DataFrame(fold_rows)
    predictions = pd.concat(tables, ignore_index=True)
    predictions = predictions[["fold", "date", "actual", "predicted", "persistence"]]
    summary = {
        "folds": folds,
        "fold_length": fold_length,
        "source": source,
        **{
            name: {
                "mean": float(fold_table[name].mean()),
                "std": float(fold_table[name].std(ddof=0)),
            }
            for name in SUMMARY_METRICS
        },
        # skill of all folds' predictions pooled (1 - RMSE / persistence RMSE over every row)
        "pooled_skill": evaluate_table(predictions)["skill"],
        "interval_level": config.forecast.level,
        "samples": config.forecast.samples,
        "parameters": int(fold_table["parameters"].iloc[0]),
    }
    return BacktestResult(folds=fold_table, predictions=predictions, summary=summary)


def _horizon_metrics(config: Config, forecaster, frame, origin: int, horizon: int, source) -> dict:
    """Recursive forecast of the fold from its origin: RMSE, flat-forecast RMSE, coverage."""
    settings = config.forecast
    forecast = forecaster.forecast(horizon, origin=frame.index[origin - 1], source=source)
    rows = forecast.table.dropna(subset=["predicted"])
    actual = rows["actual"].to_numpy()
    inside = (rows["lower"].to_numpy() <= actual) & (actual <= rows["upper"].to_numpy())
    return {
        "forecast_rmse": rmse(actual, rows["predicted"].to_numpy()),
        "forecast_naive_rmse": rmse(actual, np.full_like(actual, frame.iloc[origin - 1, 0])),
        "coverage": float(inside.mean()) if settings.samples else float("nan"),
    }
