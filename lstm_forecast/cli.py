"""The `lstm-forecast` command line: each command parses, calls one function of runs.py, prints.

Heavy libraries (TensorFlow, Keras, matplotlib, pandas) are imported inside the commands so that
`lstm-forecast --help` answers at once.
"""

from __future__ import annotations

import os
import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from lstm_forecast.cli_support import (
    CellOption,
    ConfigOption,
    DataOption,
    DateColumnOption,
    DecimalOption,
    EngineOption,
    EpochsOption,
    OverwriteOption,
    SeedOption,
    SepOption,
    SetOption,
    TargetOption,
    graceful_stop,
    resolved_config,
    user_errors,
)
from lstm_forecast.errors import ConfigError
from lstm_forecast.report import report_command

app = typer.Typer(
    help="Forecast stock prices with stacked LSTMs, measured against 'tomorrow = today'.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.command()
def train(
    config: ConfigOption = None,
    data: DataOption = None,
    test: Annotated[
        Path | None, typer.Option(help="Test CSV that continues --data in time.")
    ] = None,
    target: TargetOption = None,
    date_column: DateColumnOption = None,
    sep: SepOption = None,
    decimal: DecimalOption = None,
    test_start: Annotated[str | None, typer.Option(help="ISO date where the test starts.")] = None,
    epochs: EpochsOption = None,
    seed: SeedOption = None,
    cell: CellOption = None,
    engine: EngineOption = None,
    settings: SetOption = None,
    out: Annotated[
        Path | None, typer.Option(help="Run directory to write; default: runs/NAME-TIMESTAMP.")
    ] = None,
    overwrite: OverwriteOption = False,
    quiet: Annotated[bool, typer.Option(help="No per-epoch progress.")] = False,
) -> None:
    """Train a model, evaluate it on the test span against the baselines, and save the run.

    Ctrl-C stops after the current epoch and saves the run with the best weights so far,
    marked interrupted; a second Ctrl-C aborts and leaves nothing.

    Example: lstm-forecast train --config configs/seed.toml --data Train.csv --test Test.csv --out runs/seed
    """
    from lstm_forecast.console import print_metrics

    with user_errors(), graceful_stop() as stop:
        resolved = resolved_config(
            config,
            settings,
            data__path=str(data) if data else None,
            data__test_path=str(test) if test else None,
            data__target=target,
            data__date_column=date_column,
            data__sep=sep,
            data__decimal=decimal,
            data__test_start=test_start,
            train__epochs=epochs,
            train__seed=seed,
            model__cell=cell,
            train__engine=engine,
        )
        from lstm_forecast import runs

        verbose = 0 if quiet else (1 if sys.stdout.isatty() else 2)
        result = runs.train(
            resolved,
            out or _timestamped("runs", config),
            overwrite=overwrite,
            verbose=verbose,
            report=typer.echo,
            stop=stop,
        )
    print_metrics(result.metrics)
    if result.metrics.get("interrupted"):
        typer.echo(
            f"interrupted after {result.metrics['epochs_run']} epochs: saved the best so far"
        )
    typer.echo(f"run saved to {result.run_dir}/")
    typer.echo(report_command(result.run_dir))


@app.command()
def predict(
    run_dir: Annotated[Path, typer.Argument(help="Run directory written by `train`.")],
    data: Annotated[
        Path | None, typer.Option(help="CSV to predict; default: the run's data.")
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            help="Output CSV ('-' = stdout); default: RUN_DIR/predicted-NAME.csv "
            "(RUN_DIR/forecast[-NAME].csv with --steps)."
        ),
    ] = None,
    steps: Annotated[
        int | None,
        typer.Option(
            "--steps", "--horizon", help="Forecast this many rows past the last date (recursively)."
        ),
    ] = None,
    origin: Annotated[
        str | None, typer.Option(help="With --steps: forecast from this ISO date instead.")
    ] = None,
    level: Annotated[float | None, typer.Option(help="With --steps: interval level.")] = None,
    interval: Annotated[
        str | None,
        typer.Option(
            help="With --steps: conformal, adaptive, dropout or none; default: the run's."
        ),
    ] = None,
    samples: Annotated[
        int | None,
        typer.Option(
            help="With --steps: Monte-Carlo dropout samples (implies --interval dropout)."
        ),
    ] = None,
    seed: Annotated[int | None, typer.Option(help="With --steps: dropout-mask seed.")] = None,
    calendar: Annotated[
        str | None, typer.Option(help="With --steps: exchange calendar for dates, e.g. XNYS.")
    ] = None,
    date_column: Annotated[
        str | None,
        typer.Option(help="Date column of --data; default: the run's [data] date_column."),
    ] = None,
    overwrite: OverwriteOption = False,
) -> None:
    """One-step-ahead predictions for every row of a CSV, or a forecast past its last date.

    Without --steps: each row is predicted from the actual prices before it. A CSV that
    continues the run's data takes its first windows from the run, as the reference example
    does. Columns: date, actual, predicted, persistence (the previous actual), in_sample (a row
    the model was trained on; left out of the metrics, which are printed and written beside the
    CSV as NAME.metrics.json).

    With --steps N (alias --horizon): N rows past the last date (or --origin), each predicted
    value fed back as input; their timestamps continue the data's own step (business days,
    every day, weeks, month ends, intraday bars within the data's session hours). The model's Dropout layers stay on for --samples paths
    (Monte-Carlo dropout); predicted is their median, lower/upper the central --level interval.
    Columns: date, actual, predicted, lower, upper; the first rows are the actual prices the
    forecast started from.

    Example: lstm-forecast predict runs/seed --data Google_Stock_Price_Test.csv --out january.csv

    Example: lstm-forecast predict runs/default --steps 30 --out next30.csv
    """
    from lstm_forecast.console import print_forecast, print_metrics, print_prediction_notes

    with user_errors():
        from lstm_forecast import runs

        if steps is None:
            if any(
                value is not None for value in (origin, level, samples, seed, calendar, interval)
            ):
                raise ConfigError(
                    "--origin, --level, --samples, --seed and --calendar go with --steps N, "
                    "as does --interval"
                )
            table, source, metrics, written = runs.predict(
                run_dir, data, out, overwrite, date_column
            )
        else:
            forecast, info, written = runs.forecast(
                run_dir, steps, data, out, overwrite, origin, date_column,
                samples=samples, interval=interval, level=level, seed=seed, calendar=calendar,
            )  # fmt: skip
    if written is None:  # --out -
        (table if steps is None else forecast.table).to_csv(
            sys.stdout, index=False, float_format="%.6f"
        )
        return
    if steps is None:
        typer.echo(f"{int(table['predicted'].notna().sum())} predictions for {source}")
        print_prediction_notes(metrics)
        print_metrics(metrics)
        typer.echo(f"wrote {written} and {written.with_suffix('.metrics.json')}")
    else:
        print_forecast(forecast, info)
        typer.echo(
            f"wrote {written} and {written.with_suffix('.json')}; draw it with: "
            f"lstm-forecast plot {run_dir} --forecast {written}"
        )


@app.command()
def plot(
    run_dir: Annotated[Path, typer.Argument(help="Run directory written by `train`.")],
    out: Annotated[
        Path | None,
        typer.Option(
            help="PNG to write; default: RUN_DIR/plot.png (FORECAST.png with --forecast)."
        ),
    ] = None,
    predictions: Annotated[
        Path | None, typer.Option(help="CSV from `predict` to draw instead of the test span.")
    ] = None,
    forecast: Annotated[
        Path | None,
        typer.Option(help="CSV from `predict --steps`: draw a fan chart of it instead."),
    ] = None,
    overwrite: OverwriteOption = False,
) -> None:
    """Draw the predicted prices over the real ones, and the training loss, to a PNG.

    With --forecast: a fan chart of a `predict --steps` CSV: the recent history, the forecast
    median and its shaded interval. The default PNG is replaced; another existing --out file
    only with --overwrite.

    Example: lstm-forecast plot runs/seed --out seed.png

    Example: lstm-forecast plot runs/default --forecast runs/default/forecast.csv
    """
    with user_errors():
        if forecast and predictions:
            raise ConfigError("give --predictions or --forecast, not both")
        from lstm_forecast import runs

        path = runs.plot(run_dir, out, predictions, forecast, overwrite)
    typer.echo(f"wrote {path}")


@app.command()
def backtest(
    config: ConfigOption = None,
    data: Annotated[
        list[Path] | None,
        typer.Option(
            "--data",
            help="Price CSV; default: the bundled data. Several --data, or a folder of CSVs: "
            "one backtest per series, in parallel, and a league table.",
        ),
    ] = None,
    target: TargetOption = None,
    date_column: DateColumnOption = None,
    sep: SepOption = None,
    decimal: DecimalOption = None,
    folds: Annotated[int, typer.Option(help="Number of folds, the newest rows last.")] = 5,
    fold_length: Annotated[
        int, typer.Option("--fold-length", "--horizon", help="Rows predicted per fold.")
    ] = 20,
    epochs: EpochsOption = None,
    seed: SeedOption = None,
    cell: CellOption = None,
    engine: EngineOption = None,
    samples: Annotated[
        int | None, typer.Option(help="Dropout samples for each fold's interval; 0 = none.")
    ] = None,
    level: Annotated[float | None, typer.Option(help="Interval level to measure.")] = None,
    settings: SetOption = None,
    out: Annotated[
        Path | None, typer.Option(help="Directory to write; default: backtests/NAME-TIMESTAMP.")
    ] = None,
    overwrite: OverwriteOption = False,
    jobs: Annotated[
        int | None, typer.Option(help="Several series: worker processes; default: the cores.")
    ] = None,
    scheduler: Annotated[
        str | None,
        typer.Option(help="Several series: run them on this Dask scheduler (tcp://HOST:8786)."),
    ] = None,
) -> None:
    """Walk-forward backtest: per fold, train on everything before it and predict its rows.

    Rows are predicted one step ahead from the actual prices before each; each fold is also
    forecast recursively from its origin, with the [forecast] interval, whose coverage of the
    actual prices is reported. Writes folds.csv (metrics per fold), predictions.csv,
    summary.json (mean and std across folds) and backtest.png. --horizon is the old name of
    --fold-length.

    With several --data (or a folder): every series is backtested in a worker process (--jobs
    at a time, or on a Dask cluster with --scheduler) and a league table is printed and written
    (league.csv: RMSE, persistence and baseline RMSE, skill, DM p-value, coverage per series).

    Example: lstm-forecast backtest --config configs/quick.toml --folds 5 --fold-length 20 --out bt

    Example: lstm-forecast backtest --config configs/quick.toml --data prices/ --jobs 2 --out league
    """
    from lstm_forecast.console import fold_line, print_backtest

    if data and (len(data) > 1 or data[0].is_dir() or scheduler):
        return _league(config, settings, data, folds, fold_length, out, overwrite, jobs, scheduler,
                       target=target, date_column=date_column, sep=sep, decimal=decimal,
                       epochs=epochs, seed=seed, samples=samples, level=level, cell=cell,
                       engine=engine)  # fmt: skip
    with user_errors():
        resolved = resolved_config(
            config,
            settings,
            data__path=str(data[0]) if data else None,
            data__target=target,
            data__date_column=date_column,
            data__sep=sep,
            data__decimal=decimal,
            train__epochs=epochs,
            train__seed=seed,
            forecast__samples=samples,
            forecast__level=level,
            model__cell=cell,
            train__engine=engine,
        )
        from rich.progress import Progress

        from lstm_forecast import runs

        with Progress(transient=True) as progress:
            task = progress.add_task(f"backtest, {folds} folds", total=folds)

            def fold_done(fold: int, metrics: dict) -> None:
                progress.advance(task)
                progress.console.print(fold_line(fold, metrics), soft_wrap=True, highlight=False)

            result = runs.backtest(
                resolved,
                folds,
                fold_length,
                out or _timestamped("backtests", config),
                overwrite=overwrite,
                on_fold=fold_done,
            )
    print_backtest(result.summary)
    typer.echo(f"wrote {result.out_dir}/ (folds.csv, predictions.csv, summary.json, backtest.png)")
    typer.echo(report_command(result.out_dir))


@app.command()
def inspect(
    csv: Annotated[Path, typer.Argument(help="Price CSV to check.")],
    target: TargetOption = None,
    date_column: DateColumnOption = None,
    sep: SepOption = None,
    decimal: DecimalOption = None,
) -> None:
    """Data-quality report: rows used and dropped, date range, long gaps, largest one-day moves.

    Moves of 40 % or more are flagged: they look like a stock split or a data error.

    Example: lstm-forecast inspect ../shared/data/Google_Stock_Price_Train.csv --target Close
    """
    from lstm_forecast.config import DataConfig

    with user_errors():
        from lstm_forecast import runs

        lines = runs.inspect(
            csv, target or DataConfig().target, date_column or "", sep or "", decimal or ""
        )
    for line in lines:
        typer.echo(line)


@app.command()
def fetch(
    ticker: Annotated[
        str, typer.Argument(help="Yahoo Finance symbol: AAPL, ^GSPC, BTC-USD, EURUSD=X, ...")
    ],
    out: Annotated[Path, typer.Option(help="CSV file to write.")],
    start: Annotated[
        str | None, typer.Option(help="First date, ISO (2015-01-31); default: all history.")
    ] = None,
    end: Annotated[
        str | None, typer.Option(help="End date, ISO, not included; default: up to today.")
    ] = None,
    interval: Annotated[
        str,
        typer.Option(
            help="Bar size: 1d, 1wk, 1mo, 1h, 30m, 15m, 5m, 1m, ... (Yahoo keeps intraday bars "
            "for a limited time only: 1h about 2 years, 1m about a week)."
        ),
    ] = "1d",
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Replace --out if it exists.")
    ] = False,
) -> None:
    """Download a ticker's prices from Yahoo Finance into a CSV that train, predict and inspect
    read (Date or Datetime, Open, High, Low, Close, Adj Close, Volume).

    Needs the optional yfinance package: pip install -e ".[fetch]". The file appears only when
    the download worked and reads back; an existing --out is kept unless --overwrite.

    Example: lstm-forecast fetch AAPL --start 2015-01-01 --out aapl.csv
    """
    with user_errors():
        from lstm_forecast import runs

        path, summary = runs.fetch(ticker, out, start, end, interval, overwrite)
    typer.echo(f"wrote {path}: {summary}")
    typer.echo(f"train on it with: lstm-forecast train --data {path} --target Close")


def _timestamped(folder: str, config: Path | None) -> Path:
    """Default output directory: FOLDER/CONFIG-NAME-YYYYMMDD-HHMMSS."""
    stem = config.stem if config else "default"
    return Path(folder) / f"{stem}-{datetime.now():%Y%m%d-%H%M%S}-{os.getpid()}"


@app.command()
def report(
    directory: Annotated[
        Path, typer.Argument(help="Run, backtest or tuning-study directory.", show_default=False)
    ],
    out: Annotated[
        Path | None, typer.Option(help="HTML file to write; default: DIRECTORY/report.html.")
    ] = None,
    overwrite: OverwriteOption = False,
) -> None:
    """One self-contained HTML page of a run, a backtest or a tuning study, for any browser.

    A run: the verdict against the strongest baseline and its significance, the metrics beside
    the baselines, predicted over real prices and the loss, the lag diagnosis, the interval
    coverage, the data-quality report, the config and library versions. A backtest: the same
    across folds, the per-fold table and figure. A tuning study: the best trials and its
    figures. Figures are embedded: the file can be mailed or opened offline. The default file is
    replaced; another existing --out only with --overwrite.

    Example: lstm-forecast report runs/seed --out seed.html
    """
    with user_errors():
        from lstm_forecast.report import write_report

        path = write_report(directory, out, overwrite)
    typer.echo(f"wrote {path}")


@app.command()
def tune(
    config: Annotated[
        Path, typer.Option("--config", help="TOML config with a [tune] table (the search space).")
    ],
    data: DataOption = None,
    trials: Annotated[
        int | None,
        typer.Option(
            help="Trials of the study in all (completed or pruned); default [tune] trials."
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(help="Study directory, resumed when it exists; default: tunes/CONFIG-NAME."),
    ] = None,
    storage: Annotated[
        str | None,
        typer.Option(
            help="Database URL shared by workers (postgresql+psycopg2://USER@HOST/DB); "
            "default: a journal file in --out."
        ),
    ] = None,
    study: Annotated[str, typer.Option(help="Study name inside the storage.")] = "lstm-forecast",
    settings: SetOption = None,
) -> None:
    """Search hyperparameters: each trial is a walk-forward backtest scored by pooled skill.

    The [tune.params] table of --config names the keys to search and their ranges; every trial
    trains with the config's train.seed, and a trial whose running pooled skill falls below the
    median of earlier trials at the same fold is pruned. Ctrl-C keeps the finished trials:
    running the same command again resumes the study. Workers on several machines share one
    study by running the same command with the same --storage URL and --study name.
    Writes trials.csv, best.toml (a config `train` takes), study.json, history.png,
    importances.png.

    Example: lstm-forecast tune --config configs/tune.toml --trials 30 --out tunes/quick
    """
    with user_errors():
        from lstm_forecast.tune import load_tune_config
        from lstm_forecast.tune_study import result_lines, run_tune

        base, space = load_tune_config(
            config, settings or [], data__path=str(data) if data else None
        )

        out = out or Path("tunes") / config.stem
        try:
            result = run_tune(base, space, out, trials, storage, study, report=typer.echo)
        except KeyboardInterrupt:
            typer.echo(
                f"interrupted: the finished trials are kept in {out}; run the same command to resume",
                err=True,
            )
            raise typer.Exit(130) from None
    for line in result_lines(result):
        typer.echo(line)
    typer.echo(report_command(out))


def _league(config, settings, data, folds, fold_length, out, overwrite, jobs, scheduler, **options):
    """`backtest` of several series: the league table (lstm_forecast.league)."""
    with user_errors():
        from lstm_forecast.league import run_league, table_lines

        resolved = resolved_config(
            config,
            settings,
            data__target=options["target"],
            data__date_column=options["date_column"],
            data__sep=options["sep"],
            data__decimal=options["decimal"],
            train__epochs=options["epochs"],
            train__seed=options["seed"],
            forecast__samples=options["samples"],
            forecast__level=options["level"],
            model__cell=options["cell"],
            train__engine=options["engine"],
        )
        out = out or _timestamped("backtests", config)
        result = run_league(resolved, data, folds, fold_length, out, overwrite, jobs, scheduler,
                            report=typer.echo)  # fmt: skip
    for line in table_lines(result.table):
        typer.echo(line)
    typer.echo(f"wrote {result.out_dir}/ (league.csv, predictions.csv, config.toml)")
