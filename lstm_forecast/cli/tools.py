"""The commands around the train -> predict -> backtest loop: `inspect` (a CSV's data quality),
`fetch` (prices in), `report` (one HTML page out) and `tune` (a hyperparameter study).

They register on the app of base.py; lstm_forecast/cli/__init__.py imports this module after
commands.py, so `--help` lists them after the training loop.
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Annotated

import typer

from lstm_forecast.cli.base import app
from lstm_forecast.cli.console import report_command
from lstm_forecast.cli.options import (
    ConfigOption,
    DataOption,
    DateColumnOption,
    DecimalOption,
    OverwriteOption,
    SepOption,
    SetOption,
    TargetOption,
    config_overrides,
    graceful_stop,
    resolved_config,
    user_errors,
)


@app.command()
def inspect(
    csv: Annotated[Path, typer.Argument(metavar="CSV", help="Price CSV to check.")],
    config: ConfigOption = None,
    target: TargetOption = None,
    date_column: DateColumnOption = None,
    sep: SepOption = None,
    decimal: DecimalOption = None,
    settings: SetOption = None,
) -> None:
    """Data-quality report: rows used and dropped, date range, long gaps, largest one-day moves.

    Moves of 40 % or more are flagged: they look like a stock split or a data error. The file
    is read as train reads it: with the [data] settings of --config and --set (for example
    --set data.date_order=dayfirst for dates like 01/11/2017).

    Example: lstm-forecast inspect data/sp500.csv --target Close
    """
    with user_errors():
        from lstm_forecast.app import commands as runs

        resolved = resolved_config(config, settings, target=target, date_column=date_column,
                                   sep=sep, decimal=decimal)  # fmt: skip
        lines = runs.inspect(csv, resolved)
    for line in lines:
        typer.echo(line)


@app.command()
def fetch(
    ticker: Annotated[
        str,
        typer.Argument(
            metavar="TICKER", help="Yahoo Finance symbol: AAPL, ^GSPC, BTC-USD, EURUSD=X, ..."
        ),
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
        from lstm_forecast.app import commands as runs

        path, summary = runs.fetch(ticker, out, start, end, interval, overwrite)
    typer.echo(f"wrote {path}: {summary}")
    typer.echo(
        f"train on it with: lstm-forecast train --data {shlex.quote(str(path))} --target Close"
    )


@app.command()
def report(
    directory: Annotated[
        Path,
        typer.Argument(
            metavar="DIRECTORY", help="Run, backtest or tuning-study directory.", show_default=False
        ),
    ],
    out: Annotated[
        Path | None,
        typer.Option(
            help="HTML file to write (- for standard output); default: DIRECTORY/report.html."
        ),
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

    Example: lstm-forecast report runs/quickstart --out quickstart.html
    """
    with user_errors():
        from lstm_forecast.report.page import write_report

        path = write_report(directory, out, overwrite)
    if path is not None:  # else the page went to standard output (--out -)
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
    jobs: Annotated[
        int | None,
        typer.Option(
            help="Worker processes on this machine, each on its share of the cores; default: "
            "one per core, at most 4 (2 on 2 cores: 1.4x the trials of one an hour)."
        ),
    ] = None,
    settings: SetOption = None,
) -> None:
    """Search hyperparameters: each trial is a walk-forward backtest scored by pooled skill.

    The [tune.params] table of --config names the keys to search and their ranges; every trial
    trains with the config's train.seed and runs all its folds ([tune] pruner = "median" or
    "halving" stops weak trials early: docs/tune.md). Ctrl-C keeps the finished trials:
    running the same command again resumes the study. Workers on several machines share one
    study by running the same command with the same --storage URL and --study name; on this
    machine, --jobs workers (one per core by default) run trials side by side.
    Writes trials.csv, best.toml (a config `train` takes), study.json, history.png,
    importances.png. configs/tune_quick.toml is a search of a minute or so to try the command;
    configs/tune.toml searches the default model (`--trials 30`: about five minutes on 2 cores).

    Example: lstm-forecast tune --config configs/tune_quick.toml --out tunes/quick
    """
    with user_errors():
        from lstm_forecast.model.backend import available_cores
        from lstm_forecast.tune.results import result_lines
        from lstm_forecast.tune.search import load_tune_config
        from lstm_forecast.tune.study import run_tune
        from lstm_forecast.tune.workers import MAX_DEFAULT_JOBS

        base, space = load_tune_config(config, settings or [], **config_overrides(data=data))

        out = out or Path("tunes") / config.stem
        try:
            # the first Ctrl-C ends the running trial after its epoch (a KeyboardInterrupt in
            # the middle of TensorFlow can surface as another error); a second one aborts
            with graceful_stop() as stop:
                jobs = min(available_cores(), MAX_DEFAULT_JOBS) if jobs is None else jobs
                result = run_tune(base, space, out, trials, storage, study, typer.echo, stop, jobs)
        except KeyboardInterrupt:
            typer.echo(
                f"interrupted: the finished trials are kept in {out}; run the same command to resume",
                err=True,
            )
            raise typer.Exit(130) from None
    for line in result_lines(result):
        typer.echo(line)
    typer.echo(report_command(out))
