"""Walk-forward backtest: rolling origin, expanding window, one-step-ahead predictions per fold."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from lstm_forecast.bundle import check_out_dir, staging_dir
from lstm_forecast.config import Config, config_to_toml
from lstm_forecast.errors import DataError, ForecastError
from lstm_forecast.evaluate import evaluate_table, rmse
from lstm_forecast.forecast import predict_series
from lstm_forecast.horizon import forecast_series
from lstm_forecast.train import fit, load_split, resolve_paths
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
    out_dir: Path
    folds: pd.DataFrame  # one row per fold: spans and metrics
    predictions: pd.DataFrame  # fold, date, actual, predicted, persistence
    summary: dict  # {metric: {"mean": .., "std": ..}} plus folds, horizon


def fold_origins(
    rows: int, folds: int, horizon: int, min_train_rows: int, source: str
) -> list[int]:
    """First test row of each fold: the last folds * horizon rows, cut into consecutive blocks."""
    if folds < 1 or horizon < 1:
        raise ForecastError(f"--folds and --horizon must be at least 1, got {folds} and {horizon}")
    origins = [rows - (folds - fold) * horizon for fold in range(folds)]
    if origins[0] < min_train_rows:
        raise DataError(
            f"{source}: {rows} rows are too few for {folds} folds of {horizon} rows: the first fold "
            f"would train on {max(origins[0], 0)} rows, and at least {min_train_rows} are needed; "
            "use fewer --folds or a shorter --horizon"
        )
    return origins


def backtest(
    config: Config,
    folds: int,
    horizon: int,
    out_dir: str | Path,
    overwrite: bool = False,
    on_fold: Callable[[int, dict], object] = lambda fold, metrics: None,
) -> BacktestResult:
    """Train one model per fold on everything before the fold and predict the fold's rows.

    The scaler and the model of a fold see only rows before its origin; each prediction inside the
    fold uses the actual prices before it, as a forecaster would have had them that day.
    Each fold also gets a recursive forecast of all its rows from the origin (predict --horizon):
    its RMSE beside the flat "last price" forecast, and the share of actual prices inside its
    [forecast] level interval (coverage; NaN with samples = 0).
    `on_fold(fold, metrics)` is called as each fold finishes.
    """
    out_dir = Path(out_dir)
    config = resolve_paths(config)
    check_out_dir(out_dir, overwrite)
    # the whole series: [data] path, followed by test_path when one is set
    split, sources = load_split(config)
    frame, prices, source = split.frame, split.prices, sources[0].source
    inputs = Inputs.from_config(config)
    origins = fold_origins(len(prices), folds, horizon, inputs.history_rows + 1, source)

    fold_rows, tables = [], []
    for fold, origin in enumerate(origins, start=1):
        history = frame.iloc[:origin]  # everything the fold may learn from
        fitted = fit(config, history, source)
        table = predict_series(
            fitted.model,
            fitted.scaler,
            frame.iloc[origin : origin + horizon],
            history,
            inputs,
            source,
        )
        metrics = evaluate_table(table, fitted.drift)
        metrics.pop("lag_rmse")
        metrics.update(_horizon_metrics(config, fitted, frame, origin, horizon, source))
        fold_rows.append(
            {
                "fold": fold,
                "train_rows": origin,
                "train_end": str(history.index[-1].date()),
                **metrics,
                "parameters": fitted.model.count_params(),
                "epochs_run": len(fitted.history),
                # the first epoch pays for tracing; the median is the steady-state cost
                "seconds_per_epoch": float(fitted.history["seconds"].median()),
            }
        )
        tables.append(table.assign(fold=fold))
        on_fold(fold, metrics)

    fold_table = pd.DataFrame(fold_rows)
    predictions = pd.concat(tables, ignore_index=True)
    predictions = predictions[["fold", "date", "actual", "predicted", "persistence"]]
    summary = {
        "folds": folds,
        "horizon": horizon,
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
    with staging_dir(out_dir, overwrite) as staging:
        fold_table.to_csv(staging / "folds.csv", index=False, float_format="%.6g")
        predictions.to_csv(staging / "predictions.csv", index=False, float_format="%.6f")
        (staging / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
        (staging / "config.toml").write_text(config_to_toml(config))
        from lstm_forecast.plot import plot_backtest

        plot_backtest(prices, predictions, staging / "backtest.png", config.data.target)
    return BacktestResult(
        out_dir=out_dir, folds=fold_table, predictions=predictions, summary=summary
    )


def _horizon_metrics(config: Config, fitted, frame, origin: int, horizon: int, source: str) -> dict:
    """Recursive forecast of the fold from its origin: RMSE, flat-forecast RMSE, coverage."""
    settings = config.forecast
    forecast = forecast_series(
        fitted.model,
        fitted.scaler,
        frame,
        origin - 1,
        horizon,
        Inputs.from_config(config),
        samples=settings.samples,
        level=settings.level,
        seed=settings.seed,
        source=source,
    )
    rows = forecast.table.dropna(subset=["predicted"])
    actual = rows["actual"].to_numpy()
    inside = (rows["lower"].to_numpy() <= actual) & (actual <= rows["upper"].to_numpy())
    return {
        "forecast_rmse": rmse(actual, rows["predicted"].to_numpy()),
        "forecast_naive_rmse": rmse(actual, np.full_like(actual, frame.iloc[origin - 1, 0])),
        "coverage": float(inside.mean()) if settings.samples else float("nan"),
    }
