"""The application layer: every file the commands read or write goes through here.

Each CLI command calls one function of this module (`plot` is imported from run_plots.py; the
configured data is read and split in run_data.py). The computing modules (windows, train,
predict, forecast, evaluate, backtest, plot) work on in-memory frames and never touch a file.
Outputs are checked before any work starts and written atomically (lstm_forecast.files.write).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from lstm_forecast.app.trading import write_strategies
from lstm_forecast.config.load import config_to_toml
from lstm_forecast.config.schema import Config
from lstm_forecast.data.frequency import infer_frequency, timestamp_strings
from lstm_forecast.data.quality import quality_report, report_lines
from lstm_forecast.data.read import PriceSeries, csv_options, load_prices
from lstm_forecast.errors import DataError, OutputError
from lstm_forecast.files.names import (
    BACKTEST_FIGURE,
    CONFIG_FILE,
    FOLDS_FILE,
    METRICS_SUFFIX,
    PATHS_FILE,
    PREDICTIONS_FILE,
    SUMMARY_FILE,
    forecast_file,
    predicted_file,
)
from lstm_forecast.files.staging import staged_directory
from lstm_forecast.files.write import (
    check_new_directory,
    check_new_file,
    write_csv,
    write_json,
    write_marker,
    write_text,
)
from lstm_forecast.forecaster.bundle import run_files
from lstm_forecast.prep.inputs import (
    Report,
    describe_split,
    input_paths,
    load_split,
    read_prices,
    resolve_paths,
    step_label,
)
from lstm_forecast.prep.split import Split
from lstm_forecast.report.run_plots import plot, save_figure

# ---- train --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrainResult:
    run_dir: Path
    metrics: dict
    split: Split
    sources: tuple[PriceSeries, ...]  # the files read, with their row counts


def train(
    config: Config,
    out_dir: str | Path,
    overwrite: bool = False,
    verbose: int | str = "auto",
    report: Report = lambda line: None,
    stop: Callable[[], bool] = lambda: False,
) -> TrainResult:
    """Train on the configured data, evaluate on the test span, and write the run to `out_dir`.

    Data and output problems raise before any model is built; the run directory appears only
    when everything has been written.
    """
    from lstm_forecast.forecaster.forecaster import Forecaster

    out_dir = Path(out_dir)
    config = resolve_paths(config)
    check_new_directory(out_dir, overwrite, input_paths(config))
    split, sources = load_split(config)
    describe_split(split, sources, report, config.data.resample)
    forecaster = Forecaster.fit(
        split.train_frame, config, verbose, report, stop, source=sources[0].source
    ).with_data(split.frame)
    # its bands: one_step_interval() below, with the static band's coverage beside
    test = split.frame.iloc[split.n_train :]
    predictions = forecaster.predict(test, sources[-1].source, bands=False)
    predictions = predictions.drop(columns="in_sample")
    from lstm_forecast.evaluate.metrics import evaluate_table

    metrics = {
        **evaluate_table(predictions, forecaster.drift, forecaster.baseline),
        "shrinkage": forecaster.shrinkage,
        "step_label": step_label(split.frame.index),
        "train_rows": split.n_train,
        **one_step_interval(forecaster, predictions, split.n_train),
        **forecaster.fit_info,
        "strategy": _test_span_strategies(config, forecaster, predictions, split.frame),
    }
    if getattr(stop, "aborted", False):  # a second Ctrl-C whose exception was swallowed
        raise KeyboardInterrupt
    forecaster.save(out_dir, overwrite, metrics=metrics, predictions=predictions)
    return TrainResult(run_dir=out_dir, metrics=metrics, split=split, sources=sources)


def _test_span_strategies(config, forecaster, predictions, frame) -> dict:
    """The strategies traded on the test span's predictions (backtest.trading's summary)."""
    from lstm_forecast.backtest.trading import strategy_summary, trade
    from lstm_forecast.evaluate.baselines import baseline_column

    baseline = baseline_column(predictions, forecaster.baseline, forecaster.drift)
    columns = ["date", "actual", "predicted", "persistence", "previous_close"]
    table = predictions[[c for c in columns if c in predictions]].assign(baseline=baseline)
    return strategy_summary(trade(config, table, frame))


def one_step_interval(forecaster, predictions: pd.DataFrame, first_row: int) -> dict:
    """The conformal band of each one-step prediction (rows first_row.. of the forecaster's
    data), adapted online as the test span's actuals arrive ([forecast] online), added to
    `predictions` as lower/upper, and how it held: coverage, mean width, Winkler score (and
    the static band's coverage beside it). Nothing when the run has no calibration."""
    from lstm_forecast.intervals.band import one_step_band, online_band, series
    from lstm_forecast.intervals.scores import band_scores

    calibration, options = forecaster.calibration, forecaster.config.forecast
    if calibration is None:
        return {}
    level = options.level
    prices, base = series(forecaster.data, forecaster.inputs)
    rows = first_row + np.arange(len(predictions))
    actual, predicted = predictions["actual"].to_numpy(), predictions["predicted"].to_numpy()
    low, high, scale = one_step_band(calibration, predicted, prices, base, rows, level)
    static = band_scores(actual, low, high, level)
    lower, upper = online_band(
        calibration, actual, predicted, scale, level,
        options.online, options.gamma, options.tracking_rate,
    )  # fmt: skip
    predictions["lower"], predictions["upper"] = lower, upper
    scores = band_scores(actual, lower, upper, level)
    return {
        "interval": "conformal",
        "level": level,
        "online": options.online,
        "scale": calibration.scale,
        "coverage": scores["coverage"],
        "mean_width": scores["width"],
        "winkler": scores["winkler"],
        "coverage_static": static["coverage"],
    }


# ---- predict ------------------------------------------------------------------------------------


def _data_source(
    run_dir: Path, forecaster, data: Path | None, date_column: str | None = None
) -> tuple[pd.DataFrame | None, str]:
    if data is None:
        return None, f"{run_dir} (the run's data)"
    return read_prices(data, forecaster.config, date_column), str(data)


def predict(
    run_dir: str | Path,
    data: Path | None = None,
    out: Path | None = None,
    overwrite=False,
    date_column: str | None = None,
) -> tuple[pd.DataFrame, str, dict, Path | None]:
    """One-step predictions for every row of `data` (default: the run's data file) and their
    metrics. `out` '-' = no file (the caller prints the table); default RUN_DIR/predicted-NAME.csv.
    `date_column` names the CSV's date column when it differs from the run's [data] date_column.
    Returns the table, the source, the metrics and the CSV written (None for '-')."""
    from lstm_forecast.forecaster.forecaster import Forecaster

    run_dir = Path(run_dir)
    forecaster = Forecaster.load(run_dir)
    settings = forecaster.config.data
    if not (data or settings.test_path or settings.path):  # a run trained in Python, on a frame
        raise DataError(f"{run_dir}: the run names no data file; pass one with --data CSV")
    source = Path(data) if data else Path(settings.test_path or settings.path)
    if str(out) != "-":
        # one rule for what a command derives into its own run directory (plot, report, gates
        # alike): its default file is ours and is replaced; a file named by --out needs --overwrite
        default = not out
        out = Path(out) if out else run_dir / predicted_file(source.stem)
        metrics_path = out.with_suffix(METRICS_SUFFIX)
        for path in (out, metrics_path):
            check_new_file(path, overwrite or default, [source, *run_files(run_dir)])
    prices = read_prices(source, forecaster.config, date_column)
    table = forecaster.predict(prices, str(source))
    metrics = {**forecaster.evaluate(table), "step_label": step_label(prices.index)}
    if str(out) == "-":
        return table, str(source), metrics, None
    write_csv(out, table, index=False, float_format="%.6f")
    write_json(metrics_path, metrics)
    return table, str(source), metrics, out


def forecast(
    run_dir: str | Path,
    horizon: int,
    data: Path | None = None,
    out: Path | None = None,
    overwrite: bool = False,
    origin: str | None = None,
    date_column: str | None = None,
    **settings,
):
    """Forecast `horizon` rows past the data's last date (or `origin`) and write the CSV and
    its JSON beside it (unless out is '-'); `date_column` as for predict(). Returns (Forecast,
    info, CSV path or None)."""
    from lstm_forecast.forecaster.forecaster import Forecaster

    run_dir = Path(run_dir)
    forecaster = Forecaster.load(run_dir)
    if str(out) != "-":
        default = (
            not out
        )  # the run's own forecast file: replaced, as plot and report replace theirs
        out = Path(out) if out else run_dir / forecast_file(data.stem if data else None)
        if out.suffix == ".json":
            raise OutputError(
                f"{out}: the forecast's settings go to a .json file beside the table; "
                "give --out a .csv name"
            )
        for path in (out, out.with_suffix(".json")):
            inputs = [*([data] if data else []), *run_files(run_dir)]
            check_new_file(path, overwrite or default, inputs)
    prices, source = _data_source(run_dir, forecaster, data, date_column)
    settings = {key: value for key, value in settings.items() if value is not None}
    if "samples" in settings and "interval" not in settings:
        settings["interval"] = "dropout"  # --samples asks for Monte-Carlo dropout paths
    result = forecaster.forecast(horizon, prices, origin, source, **settings)
    used = dataclasses.replace(forecaster.config.forecast, **settings)
    info = {
        "run": str(run_dir),
        "source": source,
        "origin": result.table["date"].iloc[len(result.table) - horizon - 1],  # as the CSV has it
        "horizon": horizon,
        "step": result.frequency.label,
        "frequency": result.frequency.describe(),
        **dataclasses.asdict(used),
    }
    if used.interval in ("conformal", "adaptive"):  # whose errors the band is made of
        calibration = forecaster.calibration
        info["calibration"] = "none" if calibration is None else calibration.source
    if str(out) == "-":
        return result, info, None
    write_csv(out, result.table, index=False, float_format="%.6f")
    write_json(out.with_suffix(".json"), info)
    return result, info, out


# ---- backtest -----------------------------------------------------------------------------------


def backtest(
    config: Config,
    folds: int,
    fold_length: int,
    out_dir: str | Path,
    overwrite: bool = False,
    on_fold: Callable[[int, dict], object] = lambda fold, metrics: None,
):
    """Walk-forward backtest of the configured data; writes folds.csv, predictions.csv (with
    each row's band), paths.csv (each fold's recursive forecast and band), summary.json,
    config.toml and backtest.png into `out_dir`."""
    from lstm_forecast.backtest.walk import walk_forward
    from lstm_forecast.report.plot import backtest_figure

    out_dir = Path(out_dir)
    config = resolve_paths(config)
    check_new_directory(out_dir, overwrite, input_paths(config))
    split, sources = load_split(config)
    result = walk_forward(config, split.frame, folds, fold_length, sources[0].source, on_fold)
    with staged_directory(out_dir, overwrite) as staging:
        write_csv(staging / FOLDS_FILE, result.folds, index=False, float_format="%.6g")
        write_csv(staging / PATHS_FILE, result.paths, index=False, float_format="%.6f")
        predictions = result.predictions
        write_csv(staging / PREDICTIONS_FILE, predictions, index=False, float_format="%.6f")
        write_json(staging / SUMMARY_FILE, result.summary)
        write_text(staging / CONFIG_FILE, config_to_toml(config))
        figure = backtest_figure(split.prices, result.predictions, config.data.target)
        save_figure(figure, staging / BACKTEST_FIGURE)
        if result.strategies is not None:
            write_strategies(staging, result.strategies, Path(sources[0].source).name)
        write_marker(staging, "backtest")
    return dataclasses.replace(result, out_dir=out_dir)


# ---- inspect ------------------------------------------------------------------------------------


def inspect(csv: Path, config: Config | None = None):
    """The data-quality report of a CSV read with the config's [data] settings, as lines."""
    prices = load_prices(csv, **csv_options((config or Config()).data))
    return report_lines(quality_report(prices))


# ---- fetch --------------------------------------------------------------------------------------


def fetch(
    ticker: str,
    out: Path,
    start: str | None = None,
    end: str | None = None,
    interval: str = "1d",
    overwrite: bool = False,
) -> tuple[Path, str]:
    """Download `ticker` from Yahoo Finance into the CSV `out` (lstm_forecast.app.fetch, which needs
    the optional yfinance package and writes atomically). Returns the path and one line on what
    it holds: rows, first and last timestamp, and their step."""
    from lstm_forecast.app import fetch as yahoo

    path = yahoo.fetch(ticker, start, end, interval, out=out, overwrite=overwrite)
    prices = load_prices(path, "Close")
    index = prices.values.index
    try:
        pattern = infer_frequency(index).describe()
    except DataError:
        pattern = "no regular step (set [data] resample to train on it)"
    first, last = timestamp_strings(index[[0, -1]], like=index)
    return path, f"{len(index)} rows of {pattern}, {first} .. {last}"


__all__ = [
    "OutputError", "backtest", "fetch", "forecast", "inspect", "plot", "predict", "train",
]  # fmt: skip
