"""The `lstm-forecast` command line: each command parses, calls one library function, prints.

Heavy libraries (TensorFlow, Keras, matplotlib, pandas) are imported inside the commands so that
`lstm-forecast --help` answers at once.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from lstm_forecast.errors import ForecastError

app = typer.Typer(
    help="Forecast stock prices with stacked LSTMs, measured against 'tomorrow = today'.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

USER_ERROR_EXIT = 2

# options shared by `train` and `backtest`
ConfigOption = Annotated[
    Path | None, typer.Option("--config", help="TOML config; default: the built-in defaults.")
]
DataOption = Annotated[
    Path | None, typer.Option("--data", help="Price CSV; default: the bundled S&P 500 data.")
]
TargetOption = Annotated[
    str | None, typer.Option("--target", help="Column to forecast, e.g. Close.")
]
EpochsOption = Annotated[
    int | None, typer.Option("--epochs", help="Override the config's train.epochs.")
]
SeedOption = Annotated[int | None, typer.Option("--seed", help="Override the config's train.seed.")]
CellOption = Annotated[
    str | None,
    typer.Option("--cell", help="Override the config's model.cell: lstm, peephole, cifg or gru."),
]
SepOption = Annotated[
    str | None, typer.Option("--sep", help="Field separator; default: detected (, ; or tab).")
]
DecimalOption = Annotated[
    str | None, typer.Option("--decimal", help="Decimal mark; default: detected (. or ,).")
]
OverwriteOption = Annotated[bool, typer.Option("--overwrite", help="Replace --out if it exists.")]


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn our domain errors into one line on stderr and exit status 2 (no traceback)."""
    try:
        yield
    except ForecastError as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(USER_ERROR_EXIT) from None


EngineOption = Annotated[
    str | None,
    typer.Option(
        help="Training engine: fast (fused kernels, one graph call per epoch; plain LSTM + Adam), "
        "keras (keras.Model.fit) or auto (fast where it applies). Default: the config's."
    ),
]


@app.command()
def train(
    config: ConfigOption = None,
    data: DataOption = None,
    test: Annotated[
        Path | None, typer.Option(help="Separate test CSV that continues --data in time.")
    ] = None,
    target: TargetOption = None,
    sep: SepOption = None,
    decimal: DecimalOption = None,
    test_start: Annotated[
        str | None, typer.Option(help="ISO date where the test span starts.")
    ] = None,
    epochs: EpochsOption = None,
    seed: SeedOption = None,
    cell: CellOption = None,
    engine: EngineOption = None,
    out: Annotated[
        Path | None, typer.Option(help="Run directory to write; default: runs/NAME-TIMESTAMP.")
    ] = None,
    overwrite: OverwriteOption = False,
    quiet: Annotated[bool, typer.Option(help="No per-epoch progress.")] = False,
) -> None:
    """Train a model, evaluate it on the test span against persistence, and save the run.

    Example: lstm-forecast train --config configs/seed.toml --data Train.csv --test Test.csv --out runs/seed
    """
    from lstm_forecast.config import load_config, with_overrides

    with user_errors():
        resolved = with_overrides(
            load_config(config),
            data__path=str(data) if data else None,
            data__test_path=str(test) if test else None,
            data__target=target,
            data__sep=sep,
            data__decimal=decimal,
            data__test_start=test_start,
            train__epochs=epochs,
            train__seed=seed,
            model__cell=cell,
            train__engine=engine,
        )
        out = out or _timestamped("runs", config)
        from lstm_forecast.train import train as train_run

        verbose = 0 if quiet else (1 if sys.stdout.isatty() else 2)
        result = train_run(resolved, out, overwrite=overwrite, verbose=verbose, report=typer.echo)
    _print_metrics(result.metrics)
    typer.echo(
        f"run saved to {result.run_dir}/ (model.keras, scaler.json, config.toml, metrics.json, "
        "history.csv, predictions.csv)"
    )


@app.command()
def predict(
    run_dir: Annotated[Path, typer.Argument(help="Run directory written by `train`.")],
    data: Annotated[
        Path | None, typer.Option(help="CSV to predict; default: the run's own data.")
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            help="Output CSV ('-' = stdout); default: RUN_DIR/predicted-NAME.csv "
            "(RUN_DIR/forecast[-NAME].csv with --horizon)."
        ),
    ] = None,
    horizon: Annotated[
        int | None,
        typer.Option(help="Forecast this many trading days past the last date (recursively)."),
    ] = None,
    origin: Annotated[
        str | None,
        typer.Option(help="With --horizon: forecast from this ISO date instead of the last one."),
    ] = None,
    level: Annotated[
        float | None, typer.Option(help="With --horizon: interval level; default 0.9.")
    ] = None,
    samples: Annotated[
        int | None,
        typer.Option(help="With --horizon: Monte-Carlo dropout samples; 0 = no interval."),
    ] = None,
    seed: Annotated[int | None, typer.Option(help="With --horizon: dropout-mask seed.")] = None,
    calendar: Annotated[
        str | None,
        typer.Option(help="With --horizon: exchange calendar for future dates, e.g. XNYS."),
    ] = None,
) -> None:
    """One-step-ahead predictions for every row of a CSV, or a forecast past its last date.

    Without --horizon: each row is predicted from the actual prices before it. A CSV that
    continues the run's data takes its first windows from the run, as the reference example
    does. Columns: date, actual, predicted, persistence (the previous actual), in_sample (a row
    the model was trained on; left out of the metrics, which are printed and written beside the
    CSV as NAME.metrics.json).

    With --horizon N: N rows past the last date (or --origin), each predicted value fed back as
    input. The model's Dropout layers stay on for --samples paths (Monte-Carlo dropout);
    predicted is their median, lower/upper the central --level interval. Columns: date, actual,
    predicted, lower, upper; the first rows are the actual prices the forecast started from.

    Example: lstm-forecast predict runs/seed --data Google_Stock_Price_Test.csv --out january.csv

    Example: lstm-forecast predict runs/default --horizon 30 --out next30.csv
    """
    if horizon is None:
        if any(value is not None for value in (origin, level, samples, seed, calendar)):
            typer.echo(
                "error: --origin, --level, --samples, --seed and --calendar go with --horizon N",
                err=True,
            )
            raise typer.Exit(USER_ERROR_EXIT)
        _predict_rows(run_dir, data, out)
        return
    with user_errors():
        from lstm_forecast.horizon import forecast_csv

        forecast, info = forecast_csv(
            run_dir, horizon, data, origin, samples, level, seed, calendar
        )
        table = forecast.table
        if str(out) == "-":
            table.to_csv(sys.stdout, index=False, float_format="%.6f")
            return
        out = out or run_dir / (f"forecast-{data.stem}.csv" if data else "forecast.csv")
        table.to_csv(out, index=False, float_format="%.6f")
        info_path = out.with_suffix(".json")
        info_path.write_text(json.dumps(info, indent=2) + "\n")
    future = table.dropna(subset=["predicted"])
    samples_used = info["samples"]
    typer.echo(
        f"forecast of {len(future)} rows after {info['origin']} from {info['source']}"
        + (f", {samples_used} dropout samples" if samples_used else ", dropout off")
    )
    last = future.iloc[-1]
    interval = (
        f" ({forecast.level:.0%} interval {last['lower']:.2f} .. {last['upper']:.2f})"
        if samples_used
        else ""
    )
    typer.echo(f"{last['date']}: {last['predicted']:.2f}{interval}")
    typer.echo(
        f"wrote {out} and {info_path}; draw it with: lstm-forecast plot {run_dir} --forecast {out}"
    )


def _predict_rows(run_dir: Path, data: Path | None, out: Path | None) -> None:
    """`predict` without --horizon: one-step-ahead predictions and their metrics."""
    with user_errors():
        from lstm_forecast.forecast import predict_csv

        table, source, metrics = predict_csv(run_dir, data)
        if str(out) == "-":
            table.to_csv(sys.stdout, index=False, float_format="%.6f")
            return
        out = out or run_dir / f"predicted-{Path(source).stem}.csv"
        table.to_csv(out, index=False, float_format="%.6f")
        metrics_path = out.with_suffix(".metrics.json")
        metrics_path.write_text(json.dumps(metrics, indent=2) + "\n")
    typer.echo(f"{int(table['predicted'].notna().sum())} predictions for {source}")
    if metrics["in_sample"]:
        typer.echo("warning: the model was trained on every one of these rows: in-sample metrics")
    elif metrics["in_sample_rows_left_out"]:
        typer.echo(
            f"metrics leave out the {metrics['in_sample_rows_left_out']} rows the model was trained "
            "on (in_sample = True in the CSV)"
        )
    _print_metrics(metrics)
    typer.echo(f"wrote {out} and {metrics_path}")


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
        typer.Option(help="CSV from `predict --horizon`: draw a fan chart of it instead."),
    ] = None,
) -> None:
    """Draw the predicted prices over the real ones, and the training loss, to a PNG.

    With --forecast: a fan chart of a `predict --horizon` CSV: the recent history, the forecast
    median and its shaded interval.

    Example: lstm-forecast plot runs/seed --out seed.png

    Example: lstm-forecast plot runs/default --forecast runs/default/forecast.csv
    """
    with user_errors():
        if forecast and predictions:
            raise ForecastError("give --predictions or --forecast, not both")
        from lstm_forecast.plot import plot_forecast, plot_run

        if forecast:
            path = plot_forecast(run_dir, forecast, out=out)
        else:
            path = plot_run(run_dir, out=out, predictions=predictions)
    typer.echo(f"wrote {path}")


@app.command()
def backtest(
    config: ConfigOption = None,
    data: DataOption = None,
    target: TargetOption = None,
    sep: SepOption = None,
    decimal: DecimalOption = None,
    folds: Annotated[int, typer.Option(help="Number of folds, the newest rows last.")] = 5,
    horizon: Annotated[int, typer.Option(help="Rows predicted per fold (20 ~ a month).")] = 20,
    epochs: EpochsOption = None,
    seed: SeedOption = None,
    cell: CellOption = None,
    engine: EngineOption = None,
    samples: Annotated[
        int | None,
        typer.Option(help="Dropout samples for each fold's forecast interval; 0 = none."),
    ] = None,
    level: Annotated[
        float | None, typer.Option(help="Interval level whose coverage is measured; default 0.9.")
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="Directory to write; default: backtests/NAME-TIMESTAMP.")
    ] = None,
    overwrite: OverwriteOption = False,
) -> None:
    """Walk-forward backtest: per fold, train on everything before it and predict its rows.

    Rows are predicted one step ahead from the actual prices before each; each fold is also
    forecast recursively from its origin, with the [forecast] interval, whose coverage of the
    actual prices is reported. Writes folds.csv (metrics per fold), predictions.csv, summary.json (mean and std across
    folds) and backtest.png.

    Example: lstm-forecast backtest --config configs/quick.toml --folds 5 --horizon 20 --out bt
    """
    from lstm_forecast.config import load_config, with_overrides

    with user_errors():
        resolved = with_overrides(
            load_config(config),
            data__path=str(data) if data else None,
            data__target=target,
            data__sep=sep,
            data__decimal=decimal,
            train__epochs=epochs,
            train__seed=seed,
            forecast__samples=samples,
            forecast__level=level,
            model__cell=cell,
            train__engine=engine,
        )
        out = out or _timestamped("backtests", config)
        from rich.progress import Progress

        from lstm_forecast.backtest import backtest as run_backtest

        with Progress(transient=True) as progress:
            task = progress.add_task(f"backtest, {folds} folds", total=folds)

            def fold_done(fold: int, metrics: dict) -> None:
                progress.advance(task)
                progress.console.print(
                    f"fold {fold}: {metrics['test_start']} .. {metrics['test_end']}  "
                    f"RMSE {metrics['rmse']:.3f}  persistence {metrics['naive_rmse']:.3f}  "
                    f"skill {metrics['skill']:+.3f}  direction {100 * metrics['directional_accuracy']:.0f} %  "
                    f"lag {metrics['lag']}"
                    + (
                        f"  coverage {100 * metrics['coverage']:.0f} %"
                        if metrics["coverage"] == metrics["coverage"]  # not NaN
                        else ""
                    ),
                    soft_wrap=True,
                    highlight=False,
                )

            result = run_backtest(
                resolved, folds, horizon, out, overwrite=overwrite, on_fold=fold_done
            )
    summary = result.summary
    typer.echo(f"{folds} folds of {horizon} rows, mean ± std across folds:")
    for name in ("rmse", "naive_rmse", "drift_rmse", "skill", "directional_accuracy", "lag"):
        typer.echo(f"  {name:<22}{summary[name]['mean']:>10.3f} ± {summary[name]['std']:.3f}")
    typer.echo(f"  {'pooled skill':<22}{summary['pooled_skill']:>10.3f}")
    typer.echo(
        f"recursive {horizon}-row forecast from each fold's origin: RMSE "
        f"{summary['forecast_rmse']['mean']:.3f} vs {summary['forecast_naive_rmse']['mean']:.3f} "
        "for the last price held flat"
    )
    if summary["samples"]:
        typer.echo(
            f"{100 * summary['interval_level']:g} % interval covered "
            f"{100 * summary['coverage']['mean']:.0f} % of actuals "
            f"({summary['samples']} dropout samples)"
        )
    typer.echo(f"wrote {result.out_dir}/ (folds.csv, predictions.csv, summary.json, backtest.png)")


@app.command()
def inspect(
    csv: Annotated[Path, typer.Argument(help="Price CSV to check.")],
    target: TargetOption = None,
    date_column: Annotated[
        str | None, typer.Option(help="Date column; default: the first named like 'date'.")
    ] = None,
    sep: SepOption = None,
    decimal: DecimalOption = None,
) -> None:
    """Data-quality report: rows used and dropped, date range, long gaps, largest one-day moves.

    Moves of 40 % or more are flagged: they look like a stock split or a data error.

    Example: lstm-forecast inspect ../shared/data/Google_Stock_Price_Train.csv --target Close
    """
    from lstm_forecast.config import DataConfig

    with user_errors():
        from lstm_forecast.data import load_prices, quality_report, report_lines

        defaults = DataConfig()
        prices = load_prices(
            csv,
            target=target or defaults.target,
            date_column=date_column or "",
            sep=sep or "",
            decimal=decimal or "",
        )
    for line in report_lines(quality_report(prices)):
        typer.echo(line)


def _timestamped(folder: str, config: Path | None) -> Path:
    """Default output directory: FOLDER/CONFIG-NAME-YYYYMMDD-HHMMSS."""
    return Path(folder) / f"{config.stem if config else 'default'}-{datetime.now():%Y%m%d-%H%M%S}"


def _print_metrics(metrics: dict) -> None:
    """The model beside persistence and drift on the same rows, then the verdicts."""
    from rich import box
    from rich.console import Console
    from rich.table import Table

    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    for heading in ("", "RMSE", "MAE", "MAPE %", "direction"):
        table.add_column(heading, justify="left" if not heading else "right")

    def percent(share: float) -> str:
        return "-" if share != share else f"{100 * share:.1f} %"  # NaN-safe

    table.add_row(
        "model",
        f"{metrics['rmse']:.3f}",
        f"{metrics['mae']:.3f}",
        f"{metrics['mape']:.2f}",
        percent(metrics["directional_accuracy"]),
    )
    table.add_row(
        "persistence (t-1)",
        f"{metrics['naive_rmse']:.3f}",
        f"{metrics['naive_mae']:.3f}",
        f"{metrics['naive_mape']:.2f}",
        "-",
    )
    table.add_row(
        f"drift ({metrics['drift']:+.3f}/day)",
        f"{metrics['drift_rmse']:.3f}",
        f"{metrics['drift_mae']:.3f}",
        "",
        percent(metrics["drift_directional_accuracy"]),
    )
    Console(highlight=False, soft_wrap=True).print(table)
    verdict = "beats" if metrics["skill"] > 0 else "does not beat"
    typer.echo(
        f"skill vs persistence {metrics['skill']:+.3f} ({metrics['rows']} rows, "
        f"{metrics['test_start']} .. {metrics['test_end']}): the model {verdict} 'tomorrow = today'"
    )
    from lstm_forecast.evaluate import lag_verdict

    typer.echo(lag_verdict(metrics))
