"""Walk-forward backtest: rolling origin, expanding window, one-step-ahead predictions per fold.

Computing only: runs.backtest reads the data and writes the results.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from lstm_forecast.backtest.trading import strategy_summary, trade
from lstm_forecast.config.schema import Config
from lstm_forecast.errors import ConfigError, DataError
from lstm_forecast.evaluate.baselines import baseline_column
from lstm_forecast.evaluate.metrics import rmse, skill
from lstm_forecast.intervals.band import adaptive_level, one_step_band, origin_scale, path_band
from lstm_forecast.intervals.scores import band_scores
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

ROW_KEYS = ("actual", "predicted", "scale")  # what each fold keeps of its one-step rows


@dataclass(frozen=True)
class BacktestResult:
    folds: pd.DataFrame  # one row per fold: spans and metrics
    predictions: pd.DataFrame  # fold, date, actual, predicted, persistence
    summary: dict  # {metric: {"mean": .., "std": ..}} plus folds, fold_length
    out_dir: Path | None = None  # where app.commands.backtest wrote it
    strategies: StrategyResult | None = None  # trading on the predictions (backtest.trading)


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
    width, Winkler score): conformal, adaptive conformal, Monte-Carlo dropout (samples > 0) and
    the naive random-walk band; "coverage" is the configured [forecast] interval's.
    `[backtest] refit` = N trains a new model every N folds (0: once, before the first); the
    folds between predict with the last one. `on_fold(fold, metrics)` is called as each fold
    finishes. The folds train one after another on one model per architecture (`models`, a
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
    fold_rows, tables, one_step = [], [], []
    refit, trained = config.backtest.refit, None
    for fold, origin in enumerate(origins, start=1):
        history = frame.iloc[:origin]  # everything the fold may learn from
        new_model = trained is None or (refit > 0 and (fold - 1) % refit == 0)
        if new_model:
            trained = Forecaster.fit(history, config, stop=stop, source=source, models=models)
            if stop():  # asked to stop (Ctrl-C): training ended after an epoch; end here too
                raise KeyboardInterrupt
        forecaster = trained.with_data(frame.iloc[: origin + fold_length])
        table = forecaster.predict(frame.iloc[origin : origin + fold_length], source)
        table["baseline"] = baseline_column(table, forecaster.baseline, forecaster.drift)
        metrics = forecaster.evaluate(table)
        metrics.update(_recursive(config, forecaster, frame, origin, fold_length, one_step))
        one_step.append(_one_step_bands(config, forecaster, table))
        fold_rows.append(
            {
                "fold": fold,
                "train_rows": forecaster.train_rows,
                "train_end": str(forecaster.train_span[1].date()),
                "new_model": new_model,
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
        "recursive_intervals": _pooled_intervals(fold_table),
        "one_step_intervals": _pooled_one_step(config, one_step),
        "interval": config.forecast.interval,
        "interval_level": config.forecast.level,
        "samples": config.forecast.samples,
        "refit": config.backtest.refit,
        "models_trained": int(fold_table["new_model"].sum()),
        "parameters": int(fold_table["parameters"].iloc[0]),
    }
    summary["coverage_pooled"] = (
        summary["recursive_intervals"].get(_configured(config), {}).get("coverage", float("nan"))
    )
    traded = trade(config, predictions, frame) if strategies else None
    if traded is not None:
        summary["strategy"] = strategy_summary(traded)
    return BacktestResult(fold_table, predictions, summary, strategies=traded)


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


def _configured(config: Config) -> str:
    return {"none": "", "dropout": "dropout"}.get(
        config.forecast.interval, config.forecast.interval
    )


def _recursive(config: Config, forecaster, frame, origin: int, steps: int, history) -> dict:
    """Recursive forecast of the fold from its origin: RMSE, flat-forecast RMSE, and every
    interval's scores (columns METHOD_coverage, METHOD_width, METHOD_winkler)."""
    from lstm_forecast.intervals.scores import log_return_std, naive_band

    level, date = config.forecast.level, frame.index[origin - 1]
    point = forecaster.forecast(steps, origin=date, interval="none").table
    rows = point.dropna(subset=["predicted"])
    actual, predicted = rows["actual"].to_numpy(), rows["predicted"].to_numpy()
    last = float(frame.iloc[origin - 1, 0])
    out = {
        "forecast_rmse": rmse(actual, predicted),
        "forecast_naive_rmse": rmse(actual, np.full_like(actual, last)),
    }
    bands = {}
    sigma = log_return_std(frame.iloc[:origin, 0].to_numpy())
    bands["naive"] = naive_band(last, sigma, steps, level)
    if forecaster.calibration is not None:
        calibration = forecaster.calibration
        scale = origin_scale(calibration, frame.iloc[:, 0].to_numpy(), origin)
        bands["conformal"] = path_band(calibration, predicted, level, scale)
        adapted = _adaptive_level(calibration, history, level, config.forecast.gamma)
        bands["adaptive"] = path_band(calibration, predicted, adapted, scale)
    if config.forecast.samples > 0:
        dropout = forecaster.forecast(steps, origin=date, interval="dropout").table
        dropout = dropout.dropna(subset=["predicted"])
        bands["dropout"] = (dropout["lower"].to_numpy(), dropout["upper"].to_numpy())
    for method, (lower, upper) in bands.items():
        for key, value in band_scores(actual, lower, upper, level).items():
            out[f"{method}_{key}"] = value
    out["coverage"] = out.get(f"{_configured(config)}_coverage", float("nan"))
    return out


def _adaptive_level(calibration, history: list, level: float, gamma: float) -> float:
    """The adaptive level over the one-step predictions of the earlier folds (the data that
    continued the earlier models), from this fold's calibration."""
    if not history or not all("scale" in h for h in history):
        return level
    actual, predicted, scale = (np.concatenate([h[key] for h in history]) for key in ROW_KEYS)
    return adaptive_level(calibration, actual, predicted, scale, level, gamma)


def _one_step_bands(config: Config, forecaster, table: pd.DataFrame) -> dict:
    """A fold's one-step rows with their static conformal and naive bands."""
    from lstm_forecast.intervals.scores import log_return_std, naive_band

    level = config.forecast.level
    actual, predicted = table["actual"].to_numpy(), table["predicted"].to_numpy()
    previous = table["persistence"].to_numpy()
    sigma = log_return_std(forecaster.data.iloc[: forecaster.train_rows, 0].to_numpy())
    low, high = naive_band(1.0, sigma, 1, level)
    rows = {"actual": actual, "predicted": predicted}
    rows["naive"] = (previous * low[0], previous * high[0])
    if forecaster.calibration is not None:
        first = len(forecaster.data) - len(table)  # the fold's rows end the data it knows
        prices = forecaster.data.iloc[:, 0].to_numpy()
        calibration, fold_rows = forecaster.calibration, np.arange(first, len(prices))
        lower, upper, scale = one_step_band(calibration, predicted, prices, fold_rows, level)
        rows["scale"] = scale
        rows["calibration"] = calibration
        rows["conformal"] = (lower, upper)
    return rows


def _pooled_one_step(config: Config, folds: list[dict]) -> dict:
    """One-step interval scores over the rows of all folds: static conformal (each fold's own
    calibration), adaptive conformal (one online pass over all rows, Gibbs & Candes 2021,
    starting from the first fold's calibration errors) and the naive band."""
    from lstm_forecast.intervals.band import adaptive_online

    level = config.forecast.level
    actual = np.concatenate([f["actual"] for f in folds])
    scores = {}
    for method in ("conformal", "naive"):
        if all(method in f for f in folds):
            lower = np.concatenate([f[method][0] for f in folds])
            upper = np.concatenate([f[method][1] for f in folds])
            scores[method] = band_scores(actual, lower, upper, level)
    if all("calibration" in f for f in folds):
        predicted = np.concatenate([f["predicted"] for f in folds])
        scale = np.concatenate([f["scale"] for f in folds])
        lower, upper, _ = adaptive_online(
            folds[0]["calibration"], actual, predicted, scale, level, config.forecast.gamma
        )
        scores["adaptive"] = band_scores(actual, lower, upper, level)
    return scores


def _pooled_intervals(fold_table: pd.DataFrame) -> dict:
    """Each recursive interval's scores over all folds' rows (means of equal-length folds), and
    beside the naive band: in how many folds its Winkler score was lower, and whether the
    difference is more than chance (`against_naive`)."""
    methods = ("conformal", "adaptive", "dropout", "naive")
    scores = {
        method: {
            key: float(fold_table[f"{method}_{key}"].mean())
            for key in ("coverage", "width", "winkler")
        }
        for method in methods
        if f"{method}_coverage" in fold_table and fold_table[f"{method}_coverage"].notna().all()
    }
    if "naive" in scores:
        for method in scores.keys() - {"naive"}:
            scores[method]["against_naive"] = winkler_against(
                fold_table[f"{method}_winkler"].to_numpy(), fold_table["naive_winkler"].to_numpy()
            )
    return scores


def winkler_against(winkler: np.ndarray, naive: np.ndarray) -> dict:
    """Folds in which a band scored a lower Winkler score than the naive band, and the two-sided
    p-value of the Wilcoxon signed-rank test of the folds' differences (scipy). One origin per
    fold makes its recursive path one observation: its 20 rows share every error before them,
    so the folds, not the rows, are the sample. NaN p-value with fewer than 2 folds that
    differ."""
    from scipy.stats import wilcoxon

    difference = winkler - naive
    pvalue = float("nan")
    if np.count_nonzero(difference) >= 2:
        pvalue = float(wilcoxon(difference).pvalue)
    return {"folds_better": int((difference < 0).sum()), "folds": len(difference), "pvalue": pvalue}
