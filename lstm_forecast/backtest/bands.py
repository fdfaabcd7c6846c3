"""A backtest fold's bands and their scores: the one-step rows' band (adapted online across the
folds), each fold's recursive forecast with every interval method beside the naive band, and
their pooled scores. walk.py runs the folds; this module scores what they give."""

from __future__ import annotations

import numpy as np
import pandas as pd

from lstm_forecast.config.schema import Config
from lstm_forecast.evaluate.metrics import rmse
from lstm_forecast.intervals.band import (
    adaptive_level,
    one_step_band,
    origin_scale,
    path_band,
    series,
)
from lstm_forecast.intervals.scores import band_scores

ROW_KEYS = ("actual", "predicted", "scale")  # what each fold keeps of its one-step rows


def configured_band(config: Config) -> str:
    """The fold table's name of the configured [forecast] interval ("" for none)."""
    return {"none": "", "dropout": "dropout"}.get(
        config.forecast.interval, config.forecast.interval
    )


def recursive_scores(
    config: Config, forecaster, frame, origin: int, steps: int, history
) -> tuple[dict, pd.DataFrame]:
    """Recursive forecast of the fold from its origin: RMSE, flat-forecast RMSE, and every
    interval's scores (columns METHOD_coverage, METHOD_width, METHOD_winkler: the conformal,
    adaptive and naive bands, and Monte-Carlo dropout when it is the configured interval); and
    the path itself, a row per step with the configured band and the naive band (lower, upper,
    naive_lower, naive_upper), so any band can be rescored later."""
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
        target, base = series(frame, forecaster.inputs)
        scale = origin_scale(calibration, target, base, origin, len(predicted))
        bands["conformal"] = path_band(calibration, predicted, level, scale)
        adapted = _level_after(calibration, history, level, config.forecast.gamma)
        bands["adaptive"] = path_band(calibration, predicted, adapted, scale)
    # Monte-Carlo dropout only when it is the band asked for: its sample paths cost about 4 % of
    # a default backtest, for a band that misses in any turn (docs/backtests.md)
    if config.forecast.interval == "dropout" and config.forecast.samples > 0:
        dropout = forecaster.forecast(steps, origin=date, interval="dropout").table
        dropout = dropout.dropna(subset=["predicted"])
        bands["dropout"] = (dropout["lower"].to_numpy(), dropout["upper"].to_numpy())
    for method, (lower, upper) in bands.items():
        for key, value in band_scores(actual, lower, upper, level).items():
            out[f"{method}_{key}"] = value
    out["coverage"] = out.get(f"{configured_band(config)}_coverage", float("nan"))
    path = pd.DataFrame(
        {"step": np.arange(1, len(rows) + 1), "date": rows["date"].to_numpy(),
         "actual": actual, "predicted": predicted}
    )  # fmt: skip
    configured = bands.get(configured_band(config), (np.full(len(rows), np.nan),) * 2)
    path["lower"], path["upper"] = configured
    path["naive_lower"], path["naive_upper"] = bands["naive"]
    return out, path


def _level_after(calibration, history: list, level: float, gamma: float) -> float:
    """The adaptive level over the one-step predictions of the earlier folds (the data that
    continued the earlier models), from this fold's calibration."""
    if not history or not all("scale" in h for h in history):
        return level
    actual, predicted, scale = (np.concatenate([h[key] for h in history]) for key in ROW_KEYS)
    return adaptive_level(calibration, actual, predicted, scale, level, gamma)


def one_step_rows(config: Config, forecaster, table: pd.DataFrame) -> dict:
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
        prices, base = series(forecaster.data, forecaster.inputs)
        calibration, fold_rows = forecaster.calibration, np.arange(first, len(prices))
        lower, upper, scale = one_step_band(calibration, predicted, prices, base, fold_rows, level)
        rows["scale"] = scale
        rows["calibration"] = calibration
        rows["conformal"] = (lower, upper)
        low, high = calibration.offsets(level, 1)  # this fold's static step-1 offsets
        rows["offsets"] = (np.full(len(table), low[0]), np.full(len(table), high[0]))
    return rows


def online_rows(config: Config, folds: list[dict]) -> tuple[np.ndarray, np.ndarray]:
    """The one-step band of every row of all folds, adapted online as the rows' actuals
    arrive ([forecast] online): each fold's static band (its own calibration, its own scale),
    moved by one online pass over all rows (ACI's scores start from the first fold's
    calibration); the naive band where the folds have no calibration."""
    from lstm_forecast.intervals.band import online_band

    options = config.forecast
    if not all("calibration" in f for f in folds):
        return tuple(np.concatenate([f["naive"][i] for f in folds]) for i in (0, 1))
    actual, predicted, scale = (np.concatenate([f[key] for f in folds]) for key in ROW_KEYS)
    offsets = tuple(np.concatenate([f["offsets"][i] for f in folds]) for i in (0, 1))
    return online_band(
        folds[0]["calibration"], actual, predicted, scale, options.level,
        options.online, options.gamma, options.tracking_rate, offsets,
    )  # fmt: skip


def fold_band_scores(config: Config, predictions: pd.DataFrame) -> pd.DataFrame:
    """Per fold, the one-step band's coverage, mean width and Winkler score (by fold)."""
    level = config.forecast.level
    rows = {
        fold: band_scores(group["actual"], group["lower"], group["upper"], level)
        for fold, group in predictions.groupby("fold")
    }
    return pd.DataFrame(rows).T.add_prefix("one_step_")


def pooled_one_step(config: Config, folds: list[dict]) -> dict:
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


def pooled_intervals(fold_table: pd.DataFrame) -> dict:
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
