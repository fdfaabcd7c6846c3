"""The commands of the training loop: train, predict, plot, backtest. Each parses its options,
makes one call into lstm_forecast.app, prints.

Heavy libraries (TensorFlow, Keras, matplotlib, pandas) are imported inside the commands so that
`lstm-forecast --help` answers at once. inspect, fetch, report and tune are in tools.py, gates in
gates.py, the shared options and error handling in options.py.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from lstm_forecast.cli.base import app
from lstm_forecast.cli.console import report_command
from lstm_forecast.cli.options import (
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
    refuse_forecast_options,
    resolved_config,
    timestamped_dir,
    user_errors,
)
from lstm_forecast.errors import ConfigError


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

    Example: lstm-forecast train --config configs/quick.toml --data data/sp500.csv --out runs/quick
    """
    from lstm_forecast.cli.console import print_run

    with user_errors(), graceful_stop() as stop:
        resolved = resolved_config(config, settings, data=data, test=test, target=target,
                                   date_column=date_column, sep=sep, decimal=decimal,
                                   test_start=test_start, epochs=epochs, seed=seed, cell=cell,
                                   engine=engine)  # fmt: skip
        from lstm_forecast.app import commands as runs

        verbose = 0 if quiet else (1 if sys.stdout.isatty() else 2)
        result = runs.train(
            resolved,
            out or timestamped_dir("runs", config),
            overwrite=overwrite,
            verbose=verbose,
            report=typer.echo,
            stop=stop,
        )
    print_run(result)
    typer.echo(report_command(result.run_dir))


@app.command()
def predict(
    run_dir: Annotated[
        Path, typer.Argument(metavar="RUN_DIR", help="Run directory written by `train`.")
    ],
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
    every day, weeks, month ends, intraday bars within the data's session hours). lower/upper:
    the --level interval, by default the run's conformal band (from out-of-sample errors per
    step; --interval adaptive, dropout or none); with --samples, Monte-Carlo dropout paths, and
    predicted is their median. Columns: date, actual, predicted, lower, upper; the first rows
    are the actual prices the forecast started from.

    Example: lstm-forecast predict runs/quickstart --data data/sp500.csv --out sp500-predicted.csv

    Example: lstm-forecast predict runs/quickstart --steps 30
    """
    from lstm_forecast.cli.console import show_forecast, show_predictions

    with user_errors():
        from lstm_forecast.app import commands as runs

        if steps is None:
            refuse_forecast_options(origin, level, samples, seed, calendar, interval)
            table, source, metrics, written = runs.predict(
                run_dir, data, out, overwrite, date_column
            )
        else:
            forecast, info, written = runs.forecast(
                run_dir, steps, data, out, overwrite, origin, date_column,
                samples=samples, interval=interval, level=level, seed=seed, calendar=calendar,
            )  # fmt: skip
    if steps is None:
        show_predictions(table, source, metrics, written)
    else:
        show_forecast(forecast, info, written, run_dir)


@app.command()
def plot(
    run_dir: Annotated[
        Path, typer.Argument(metavar="RUN_DIR", help="Run directory written by `train`.")
    ],
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

    Example: lstm-forecast plot runs/quickstart --out quickstart.png

    Example: lstm-forecast plot runs/quickstart --forecast runs/quickstart/forecast.csv
    """
    with user_errors():
        if forecast and predictions:
            raise ConfigError("give --predictions or --forecast, not both")
        from lstm_forecast.app import commands as runs

        path = runs.plot(run_dir, out, predictions, forecast, overwrite)
    typer.echo(f"wrote {path}")


@app.command()
def backtest(
    config: ConfigOption = None,
    data: Annotated[
        list[Path] | None,
        typer.Option(
            "--data",
            metavar="CSV",
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
        int | None,
        typer.Option(
            help="Monte-Carlo dropout samples as each fold's interval (implies "
            '--set forecast.interval="dropout", scored beside the conformal band).'
        ),
    ] = None,
    level: Annotated[float | None, typer.Option(help="Interval level to measure.")] = None,
    refit: Annotated[
        int | None,
        typer.Option(help="Train a new model every N folds; 0 = once, before the first fold."),
    ] = None,
    refit_from: Annotated[
        str | None,
        typer.Option(
            "--refit-from",
            help='A new model starts from "previous" (the last model\'s weights) or "scratch" '
            "(fresh weights); default: the config's [backtest] refit_from (previous).",
        ),
    ] = None,
    cost_bps: Annotated[
        float | None,
        typer.Option(help="Strategies: cost per side in basis points; default [strategy] (5)."),
    ] = None,
    allow_short: Annotated[
        bool | None,
        typer.Option("--allow-short/--no-short", help="Strategies: go short on a fall forecast."),
    ] = None,
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
    --fold-length. The pooled predictions are also traded ([strategy]: the model's direction,
    volatility-managed exposure, the baseline's direction, buy-and-hold; costs per side) and
    tested against buy-and-hold (Hansen's SPA): strategies.csv, strategy_returns.csv,
    equity.png. Not investment advice.

    With several --data (or a folder): every series is backtested in a worker process (--jobs
    at a time, or on a Dask cluster with --scheduler) and a league table is printed and written
    (league.csv: RMSE, persistence and baseline RMSE, skill, DM p-value, coverage per series).

    Example: lstm-forecast backtest --config configs/quick.toml --folds 5 --fold-length 20 --out bt

    Example: lstm-forecast backtest --config configs/quick.toml --data data/ --folds 5 --jobs 2 --out league
    """
    from lstm_forecast.cli.console import fold_progress, print_backtest

    if samples:  # as predict's --samples: dropout paths, then each fold's band (a --set wins)
        settings = ['forecast.interval="dropout"', *(settings or [])]
    if data and (len(data) > 1 or data[0].is_dir() or scheduler):
        return backtest_league(config, settings, data, folds, fold_length, out, overwrite, jobs, scheduler,
                       target=target, date_column=date_column, sep=sep, decimal=decimal,
                       epochs=epochs, seed=seed, samples=samples, level=level, cell=cell,
                       engine=engine, refit=refit, refit_from=refit_from, cost_bps=cost_bps,
                       allow_short=allow_short)  # fmt: skip
    with user_errors():
        resolved = resolved_config(config, settings, data=data[0] if data else None,
                                   target=target, date_column=date_column, sep=sep,
                                   decimal=decimal, epochs=epochs, seed=seed, samples=samples,
                                   level=level, cell=cell, engine=engine, refit=refit,
                                   refit_from=refit_from,
                                   cost_bps=cost_bps, allow_short=allow_short)  # fmt: skip
        from lstm_forecast.app import commands as runs

        with fold_progress(folds) as fold_done:
            result = runs.backtest(
                resolved,
                folds,
                fold_length,
                out or timestamped_dir("backtests", config),
                overwrite=overwrite,
                on_fold=fold_done,
            )
    print_backtest(result.summary)
    typer.echo(
        f"wrote {result.out_dir}/ (folds.csv, predictions.csv, paths.csv, summary.json, backtest.png, "
        "strategies.csv, strategy_returns.csv, equity.png)"
    )
    typer.echo(report_command(result.out_dir))


def backtest_league(
    config, settings, data, folds, fold_length, out, overwrite, jobs, scheduler, **options
):
    """`backtest` of several series: the league table (lstm_forecast.app.league)."""
    with user_errors():
        from lstm_forecast.app.league import run_league, table_lines

        resolved = resolved_config(config, settings, **options)
        out = out or timestamped_dir("backtests", config)
        result = run_league(resolved, data, folds, fold_length, out, overwrite, jobs, scheduler,
                            report=typer.echo)  # fmt: skip
    for line in table_lines(result.table):
        typer.echo(line)
    typer.echo(f"wrote {result.out_dir}/ (league.csv, predictions.csv, paths.csv, config.toml)")
