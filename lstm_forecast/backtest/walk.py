"""Walk-forward backtest: rolling origin, expanding window, one-step-ahead predictions per fold.

Computing only: runs.backtest reads the data and writes the results.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from lstm_forecast.backtest.bands import (
    configured_band,
    fold_band_scores,
    one_step_rows,
    online_rows,
    pooled_intervals,
    pooled_one_step,
    recursive_scores,
)
from lstm_forecast.backtest.trading import strategy_summary, trade
from lstm_forecast.config.schema import Config
from lstm_forecast.errors import ConfigError, DataError
from lstm_forecast.evaluate.baselines import baseline_column
from lstm_forecast.evaluate.metrics import rmse, skill
from lstm_forecast.prep.windows import CLOSE, Inputs

if TYPE_CHECKING:
    from lstm_forecast.model.build import ModelPool
    from lstm_forecast.strategy.evaluate import StrategyResult

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
    "skill_persistence",
    "baseline_rmse",
    "dm_pvalue",
    "shrinkage",
    "epochs_run",
    "seconds_per_epoch",
)


@dataclass(frozen=True)
class BacktestResult:
    folds: pd.DataFrame  # one row per fold: spans and metrics
    predictions: pd.DataFrame  # fold, date, actual, predicted, persistence
    summary: dict  # {metric: {"mean": .., "std": ..}} plus folds, fold_length
    out_dir: Path | None = None  # where app.commands.backtest wrote it
    strategies: StrategyResult | None = None  # trading on the predictions (backtest.trading)
    # each fold's recursive path: fold, step, date, actual, predicted, lower, upper (the
    # configured band), naive_lower, naive_upper
    paths: pd.DataFrame | None = None


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
    models: ModelPool | None = None,
    strategies: bool = True,
    stop: Callable[[], bool] = lambda: False,
) -> BacktestResult:
    """Train one model per fold on everything before the fold and predict the fold's rows.

    `frame`: by date, the target first, then the columns the features read. The scaler and the
    model of a fold see only rows before its origin; each prediction inside the fold uses the
    actual prices before it, as a forecaster would have had them that day. Every verdict is
    against the strongest baseline each fold chose on its own training rows; the pooled
    out-of-sample errors of all folds get one Diebold-Mariano test.

    Each fold also gets a recursive forecast of all its rows from the origin (predict --steps):
    its RMSE beside the flat "last price" forecast, and its intervals scored (coverage, mean
    width, Winkler score): conformal, adaptive conformal, the naive random-walk band, and
    Monte-Carlo dropout when it is the [forecast] interval (with samples > 0); "coverage" is the
    configured interval's.
    `[backtest] refit` = N trains a new model every N folds (0: once, before the first); the
    folds between predict with the last one. `[backtest] refit_from` = "previous" starts each
    new model from the last one's weights (a warm start), "scratch" from fresh weights.
    `on_fold(fold, metrics)` is called as each fold finishes. The folds train one after another on one model per architecture (`models`, a
    model.ModelPool, new unless given), so tracing and compiling happen once per shape.
    `stop()` true ends the fold's training after the current epoch and the backtest with
    KeyboardInterrupt, outside TensorFlow (tune's first Ctrl-C). With `strategies`, the pooled
    predictions are also traded (backtest.trading): the summary's
    "strategy" and the result's `strategies`.
    """
    from lstm_forecast.forecaster.forecaster import Forecaster
    from lstm_forecast.model.build import ModelPool

    models = models or ModelPool()

    inputs = Inputs.from_config(config)
    origins = fold_origins(len(frame), folds, fold_length, inputs.history_rows + 1, source)
    # every row up front (a fold's fit sees only its history); "auto" may pick the Close as base
    auto_base = config.window.target_transform == "residual" and config.window.base == "auto"
    (dataclasses.replace(inputs, base=CLOSE) if auto_base else inputs).check_prices(frame, source)
    fold_rows, tables, one_step, paths = [], [], [], []
    refit, trained = config.backtest.refit, None
    for fold, origin in enumerate(origins, start=1):
        history = frame.iloc[:origin]  # everything the fold may learn from
        new_model = trained is None or (refit > 0 and (fold - 1) % refit == 0)
        if new_model:
            # the pool lends one model object per architecture: the previous fold's weights are
            # read before the pool puts the initial ones back
            warm = (
                trained
                if trained is not None and config.backtest.refit_from == "previous"
                else None
            )
            trained = Forecaster.fit(
                history, config, stop=stop, source=source, models=models, warm_start=warm
            )
            if stop():  # asked to stop (Ctrl-C): training ended after an epoch; end here too
                raise KeyboardInterrupt
        forecaster = trained.with_data(frame.iloc[: origin + fold_length])
        # each row's band: online_rows() below, one pass over all folds
        table = forecaster.predict(frame.iloc[origin : origin + fold_length], source, bands=False)
        table["baseline"] = baseline_column(table, forecaster.baseline, forecaster.drift)
        metrics = forecaster.evaluate(table)
        recursive, path = recursive_scores(config, forecaster, frame, origin, fold_length, one_step)
        metrics.update(recursive)
        one_step.append(one_step_rows(config, forecaster, table))
        paths.append(path.assign(fold=fold))
        fold_rows.append(
            {
                "fold": fold,
                "train_rows": forecaster.train_rows,
                "train_end": str(forecaster.train_span[1].date()),
                "new_model": new_model,
                "warm_start": new_model and forecaster.fit_info["warm_start"],
                **_flat(metrics),
                "shrinkage": forecaster.shrinkage,
                "parameters": forecaster.fit_info["parameters"],
                "epochs_run": forecaster.fit_info["epochs_run"] if new_model else 0,
                "seconds_per_epoch": forecaster.fit_info["seconds_per_epoch"],
            }
        )
        tables.append(table.assign(fold=fold))
        on_fold(fold, metrics)

    fold_table = pd.DataFrame(fold_rows)
    predictions = pd.concat(tables, ignore_index=True)
    columns = ["fold", "date", "actual", "predicted", "persistence", "previous_close", "baseline"]
    predictions = predictions[[c for c in columns if c in predictions]]
    lower, upper = online_rows(config, one_step)
    predictions["lower"], predictions["upper"] = lower, upper
    fold_table = fold_table.join(fold_band_scores(config, predictions), on="fold")
    path_table = pd.concat(paths, ignore_index=True)
    path_table = path_table[["fold", *(c for c in path_table if c != "fold")]]
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
            if name in fold_table
        },
        **pooled_verdict(predictions),
        "baselines_chosen": fold_table["baseline"].value_counts().to_dict(),
        "recursive_intervals": pooled_intervals(fold_table),
        "one_step_intervals": pooled_one_step(config, one_step),
        "interval": config.forecast.interval,
        "interval_level": config.forecast.level,
        "samples": config.forecast.samples,
        "refit": config.backtest.refit,
        "refit_from": config.backtest.refit_from,
        "models_trained": int(fold_table["new_model"].sum()),
        "parameters": int(fold_table["parameters"].iloc[0]),
    }
    if config.forecast.online == "track":  # the band predictions.csv holds, beside ACI's
        summary["one_step_intervals"]["tracked"] = (
            fold_band_scores(config, predictions.assign(fold=0))
            .iloc[0]
            .rename(lambda key: key.removeprefix("one_step_"))
            .to_dict()
        )
    summary["coverage_pooled"] = (
        summary["recursive_intervals"]
        .get(configured_band(config), {})
        .get("coverage", float("nan"))
    )
    traded = trade(config, predictions, frame) if strategies else None
    if traded is not None:
        summary["strategy"] = strategy_summary(traded)
    return BacktestResult(fold_table, predictions, summary, strategies=traded, paths=path_table)


def pooled_verdict(predictions: pd.DataFrame) -> dict:
    """Skill and Diebold-Mariano test of all folds' predictions pooled, each row against the
    strongest baseline its fold chose (the `baseline` column)."""
    from lstm_forecast.evaluate.metrics import diebold_mariano

    actual = predictions["actual"].to_numpy()
    model_errors = predictions["predicted"].to_numpy() - actual
    baseline_errors = predictions["baseline"].to_numpy() - actual
    test = diebold_mariano(model_errors, baseline_errors)
    model_rmse = rmse(actual, predictions["predicted"].to_numpy())
    baseline_rmse = rmse(actual, predictions["baseline"].to_numpy())
    persistence_rmse = rmse(actual, predictions["persistence"].to_numpy())
    return {
        "pooled_rmse": model_rmse,
        "pooled_baseline_rmse": baseline_rmse,
        "pooled_persistence_rmse": persistence_rmse,
        "pooled_skill": skill(model_rmse, baseline_rmse),  # NaN when the baseline is perfect
        "pooled_skill_persistence": skill(model_rmse, persistence_rmse),
        "dm_statistic": test.statistic,
        "dm_pvalue": test.pvalue,
        "verdict": test.verdict,
    }


def _flat(metrics: dict) -> dict:
    """A fold's metrics as one CSV row: nested baseline scores become columns."""
    flat = {k: v for k, v in metrics.items() if k not in ("baselines", "skill_vs", "lag_rmse")}
    for name, scores in metrics["baselines"].items():
        flat[f"{name}_rmse"] = scores["rmse"]
    for name, value in metrics["skill_vs"].items():
        flat[f"skill_vs_{name}"] = value
    return flat
