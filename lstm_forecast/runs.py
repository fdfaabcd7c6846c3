"""The application layer: every file the commands read or write goes through here.

Each CLI command calls one function of this module. The computing modules (windows, train,
predict, forecast, evaluate, backtest, plot) work on in-memory frames and never touch a file.
Outputs are checked before any work starts and written atomically (lstm_forecast.outputs).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from lstm_forecast.config import Config, config_to_toml
from lstm_forecast.data import (
    PriceSeries,
    csv_options,
    load_prices,
    quality_report,
    report_lines,
    resolve_data_path,
)
from lstm_forecast.errors import DataError, OutputError
from lstm_forecast.frequency import infer_frequency, resample, timestamp_strings
from lstm_forecast.outputs import (
    MARKER_FILE,
    MARKER_FORMAT,
    check_new_directory,
    check_new_file,
    staged_directory,
    write_file,
    write_text,
)
from lstm_forecast.windows import Split, join_train_test, split_by_date, split_by_fraction

Report = Callable[[str], object]


def resolve_paths(config: Config) -> Config:
    """Make the data paths absolute, once, so a saved run finds its data from any directory."""
    data = config.data
    path = str(resolve_data_path(data.path).resolve())
    test_path = str(Path(data.test_path).resolve()) if data.test_path else ""
    return dataclasses.replace(
        config, data=dataclasses.replace(data, path=path, test_path=test_path)
    )


def input_paths(config: Config) -> list[Path]:
    return [Path(p) for p in (config.data.path, config.data.test_path) if p]


def read_prices(path: str | Path, config: Config, date_column: str | None = None) -> pd.DataFrame:
    """The target and the columns the features read from a CSV, by date (what a Forecaster takes),
    resampled when [data] resample asks; `date_column` overrides [data] date_column."""
    options = csv_options(config.data)
    if date_column:
        options["date_column"] = date_column
    return _resampled(load_prices(path, **options).frame, config.data.resample)


def _resampled(frame: pd.DataFrame, rule: str) -> pd.DataFrame:
    return resample(frame, rule) if rule else frame


def load_split(config: Config) -> tuple[Split, tuple[PriceSeries, ...]]:
    """Read the configured CSV(s), resample them when asked, check that the rows have a regular
    step (DataError with the resample hint if not), and cut them into train and test spans."""
    data = config.data
    train = load_prices(resolve_data_path(data.path), **csv_options(data))
    frame = _resampled(train.frame, data.resample)
    if data.test_path:
        test = load_prices(data.test_path, **csv_options(data))
        test_frame = _resampled(test.frame, data.resample)
        split, sources = join_train_test(frame, test_frame, test.source), (train, test)
    elif data.test_start:
        split, sources = split_by_date(frame, data.test_start, train.source), (train,)
    else:
        split, sources = split_by_fraction(frame, data.test_fraction, train.source), (train,)
    infer_frequency(split.frame.index, " and ".join(source.source for source in sources))
    return split, sources


def step_label(index: pd.DatetimeIndex) -> str:
    """What one row is in messages ("day", "week", "1h bar"), "step" when there is no regular one."""
    try:
        return infer_frequency(index).label
    except DataError:
        return "step"


def describe_split(
    split: Split, sources: tuple[PriceSeries, ...], report: Report, resample_rule: str = ""
) -> None:
    for source in sources:
        report(source.describe())
        for line in report_lines(quality_report(source), short=True):
            report(line)
    train, test = split.train, split.test
    index = split.frame.index
    frequency = infer_frequency(index)
    spans = timestamp_strings(train.index[[0, -1]].append(test.index[[0, -1]]), like=index)
    resampled = f"resampled to {resample_rule!r}: " if resample_rule else ""
    report(
        f"{resampled}{index.size} rows of {frequency.describe()}; "
        f"train {spans[0]} .. {spans[1]} ({split.n_train} rows), "
        f"test {spans[2]} .. {spans[3]} ({len(test)} rows)"
    )


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
    from lstm_forecast.forecaster import Forecaster

    out_dir = Path(out_dir)
    config = resolve_paths(config)
    check_new_directory(out_dir, overwrite, input_paths(config))
    split, sources = load_split(config)
    describe_split(split, sources, report, config.data.resample)
    forecaster = Forecaster.fit(
        split.train_frame, config, verbose, report, stop, source=sources[0].source
    ).with_data(split.frame)
    predictions = forecaster.predict(split.frame.iloc[split.n_train :], sources[-1].source)
    predictions = predictions.drop(columns="in_sample")
    from lstm_forecast.evaluate import evaluate_table

    metrics = {
        **evaluate_table(predictions, forecaster.drift, forecaster.baseline),
        "shrinkage": forecaster.shrinkage,
        "step_label": step_label(split.frame.index),
        "train_rows": split.n_train,
        **forecaster.fit_info,
    }
    forecaster.save(out_dir, overwrite, metrics=metrics, predictions=predictions)
    return TrainResult(run_dir=out_dir, metrics=metrics, split=split, sources=sources)


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
    from lstm_forecast.forecaster import Forecaster

    run_dir = Path(run_dir)
    forecaster = Forecaster.load(run_dir)
    settings = forecaster.config.data
    source = Path(data) if data else Path(settings.test_path or settings.path)
    if str(out) != "-":
        out = Path(out) if out else run_dir / f"predicted-{source.stem}.csv"
        metrics_path = out.with_suffix(".metrics.json")
        for path in (out, metrics_path):
            check_new_file(path, overwrite, [source, *_run_files(run_dir)])
    prices = read_prices(source, forecaster.config, date_column)
    table = forecaster.predict(prices, str(source))
    metrics = {**forecaster.evaluate(table), "step_label": step_label(prices.index)}
    if str(out) == "-":
        return table, str(source), metrics, None
    write_file(out, lambda path: table.to_csv(path, index=False, float_format="%.6f"))
    write_text(metrics_path, json.dumps(metrics, indent=2) + "\n")
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
    from lstm_forecast.forecaster import Forecaster

    run_dir = Path(run_dir)
    forecaster = Forecaster.load(run_dir)
    if str(out) != "-":
        out = (
            Path(out)
            if out
            else run_dir / (f"forecast-{data.stem}.csv" if data else "forecast.csv")
        )
        for path in (out, out.with_suffix(".json")):
            check_new_file(path, overwrite, [*([data] if data else []), *_run_files(run_dir)])
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
    if str(out) == "-":
        return result, info, None
    write_file(out, lambda path: result.table.to_csv(path, index=False, float_format="%.6f"))
    write_text(out.with_suffix(".json"), json.dumps(info, indent=2) + "\n")
    return result, info, out


def _run_files(run_dir: Path) -> list[Path]:
    from lstm_forecast import bundle

    names = (bundle.MODEL_FILE, bundle.SCALER_FILE, bundle.CONFIG_FILE, bundle.SERIES_FILE)
    return [run_dir / name for name in (*names, MARKER_FILE, bundle.METRICS_FILE)]


# ---- plot ---------------------------------------------------------------------------------------


def plot(
    run_dir: str | Path,
    out: Path | None = None,
    predictions: Path | None = None,
    forecast: Path | None = None,
    overwrite: bool = True,
) -> Path:
    """Draw a run's predictions over the real prices (or a fan chart of a forecast CSV) to a PNG.
    The default PNG (RUN_DIR/plot.png, FORECAST.png) is replaced; any other --out needs
    overwrite to replace a file."""
    from lstm_forecast import plot as figures
    from lstm_forecast.bundle import PREDICTIONS_FILE, read_run

    run = read_run(run_dir)
    target = run.config.data.target
    if forecast:
        table = read_table(forecast, figures.FORECAST_COLUMNS, "predict --horizon N")
        level = _sidecar_level(forecast)
        default, figure = forecast.with_suffix(".png"), None
        figure = figures.forecast_figure(table, target, run.directory.name, level)
        inputs = [forecast]
    else:
        path = predictions or run.directory / PREDICTIONS_FILE
        table = read_table(path, figures.PREDICTION_COLUMNS, "predict")
        name = Path(predictions or run.config.data.test_path or run.config.data.path).stem
        metrics = run.metrics if not predictions else {}
        figure = figures.run_figure(table, run.history, target, name, metrics)
        default, inputs = run.directory / "plot.png", [path]
    out = Path(out) if out else default
    check_new_file(out, overwrite or out == default, [*inputs, *_run_files(run.directory)])
    return save_figure(figure, out)


def save_figure(figure, out: Path) -> Path:
    import matplotlib.pyplot as plt

    try:
        write_file(out, lambda path: figure.savefig(path, dpi=110, format="png"))
    finally:
        plt.close(figure)
    return out


def read_table(path: Path, required: tuple[str, ...], command: str) -> pd.DataFrame:
    """A CSV we wrote (predictions, forecast), checked: the columns there, the numbers numeric."""
    if not path.is_file():
        raise DataError(f"{path}: file not found; write one with `lstm-forecast {command}`")
    try:
        table = pd.read_csv(path)
    except (ValueError, UnicodeDecodeError, OSError) as e:
        raise DataError(f"{path}: not a CSV of `lstm-forecast {command}` ({e})") from e
    missing = [column for column in required if column not in table.columns]
    if missing:
        raise DataError(
            f"{path}: missing column(s) {', '.join(missing)}; "
            f"expected the output of `lstm-forecast {command}`"
        )
    try:
        table["date"] = pd.to_datetime(table["date"], format="ISO8601")
    except (ValueError, TypeError) as e:
        raise DataError(f"{path}: column 'date': not ISO dates ({e})") from e
    for column in required[1:]:
        numbers = pd.to_numeric(table[column], errors="coerce")
        bad = numbers.isna() & table[column].notna()
        if bad.any():
            row = int(bad.to_numpy().argmax())
            raise DataError(
                f"{path}: line {row + 2}, column {column!r}: {table[column].iloc[row]!r} is not "
                "a number; use the CSV as `lstm-forecast` wrote it"
            )
        table[column] = numbers
    return table


def _sidecar_level(forecast: Path) -> str:
    """The interval level written beside a forecast CSV (NAME.json), as '90 %', or ''."""
    try:
        level = json.loads(forecast.with_suffix(".json").read_text()).get("level")
    except (OSError, ValueError, AttributeError):
        return ""
    return f"{100 * level:g} %" if isinstance(level, int | float) else ""


# ---- backtest -----------------------------------------------------------------------------------


def backtest(
    config: Config,
    folds: int,
    fold_length: int,
    out_dir: str | Path,
    overwrite: bool = False,
    on_fold: Callable[[int, dict], object] = lambda fold, metrics: None,
):
    """Walk-forward backtest of the configured data; writes folds.csv, predictions.csv,
    summary.json, config.toml and backtest.png into `out_dir`."""
    from lstm_forecast.backtest import walk_forward
    from lstm_forecast.plot import backtest_figure

    out_dir = Path(out_dir)
    config = resolve_paths(config)
    check_new_directory(out_dir, overwrite, input_paths(config))
    split, sources = load_split(config)
    result = walk_forward(config, split.frame, folds, fold_length, sources[0].source, on_fold)
    with staged_directory(out_dir, overwrite) as staging:
        result.folds.to_csv(staging / "folds.csv", index=False, float_format="%.6g")
        result.predictions.to_csv(staging / "predictions.csv", index=False, float_format="%.6f")
        (staging / "summary.json").write_text(json.dumps(result.summary, indent=2) + "\n")
        (staging / "config.toml").write_text(config_to_toml(config))
        figure = backtest_figure(split.prices, result.predictions, config.data.target)
        save_figure(figure, staging / "backtest.png")
        marker = {"format": MARKER_FORMAT, "kind": "backtest", "format_version": 1}
        (staging / MARKER_FILE).write_text(json.dumps(marker, indent=2) + "\n")
    return dataclasses.replace(result, out_dir=out_dir)


# ---- inspect ------------------------------------------------------------------------------------


def inspect(csv: Path, target: str, date_column: str = "", sep: str = "", decimal: str = ""):
    """The data-quality report of a CSV, as lines."""
    prices = load_prices(csv, target=target, date_column=date_column, sep=sep, decimal=decimal)
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
    """Download `ticker` from Yahoo Finance into the CSV `out` (lstm_forecast.fetch, which needs
    the optional yfinance package and writes atomically). Returns the path and one line on what
    it holds: rows, first and last timestamp, and their step."""
    from lstm_forecast import fetch as yahoo

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
