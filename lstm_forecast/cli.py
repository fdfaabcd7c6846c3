"""The `lstm-forecast` command line: each command parses, calls one library function, prints.

Heavy libraries (TensorFlow, Keras, matplotlib, pandas) are imported inside the commands so that
`lstm-forecast --help` answers at once.
"""

from __future__ import annotations

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


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn our domain errors into one line on stderr and exit status 2 (no traceback)."""
    try:
        yield
    except ForecastError as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(USER_ERROR_EXIT) from None


@app.command()
def train(
    config: Annotated[
        Path | None, typer.Option(help="TOML config; default: the built-in defaults.")
    ] = None,
    data: Annotated[
        Path | None, typer.Option(help="Training CSV; default: the bundled S&P 500 data.")
    ] = None,
    test: Annotated[
        Path | None, typer.Option(help="Separate test CSV that continues --data in time.")
    ] = None,
    target: Annotated[
        str | None, typer.Option(help="Column to forecast, e.g. Open or Close.")
    ] = None,
    test_start: Annotated[
        str | None, typer.Option(help="ISO date where the test span starts.")
    ] = None,
    epochs: Annotated[int | None, typer.Option(help="Override [train] epochs.")] = None,
    seed: Annotated[int | None, typer.Option(help="Override [train] seed.")] = None,
    out: Annotated[
        Path | None, typer.Option(help="Run directory to write; default: runs/NAME-TIMESTAMP.")
    ] = None,
    overwrite: Annotated[bool, typer.Option(help="Replace --out if it exists.")] = False,
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
            data__test_start=test_start,
            train__epochs=epochs,
            train__seed=seed,
        )
        if out is None:
            name = config.stem if config else "default"
            out = Path("runs") / f"{name}-{datetime.now():%Y%m%d-%H%M%S}"
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
        typer.Option(help="Output CSV ('-' = stdout); default: RUN_DIR/predicted-NAME.csv."),
    ] = None,
) -> None:
    """One-step-ahead predictions for every row of a CSV, each from the actual prices before it.

    A CSV that continues the run's data takes its first windows from the run, as the reference
    example does. Columns: date, actual, predicted, persistence (the previous actual).

    Example: lstm-forecast predict runs/seed --data Google_Stock_Price_Test.csv --out january.csv
    """
    with user_errors():
        from lstm_forecast.forecast import predict_csv

        table, source = predict_csv(run_dir, data)
        if str(out) == "-":
            table.to_csv(sys.stdout, index=False, float_format="%.6f")
            return
        out = out or run_dir / f"predicted-{Path(source).stem}.csv"
        table.to_csv(out, index=False, float_format="%.6f")
    scored = table.dropna(subset=["predicted"])
    typer.echo(
        f"{len(scored)} predictions for {source} ({scored['date'].iloc[0]} .. {scored['date'].iloc[-1]})"
    )
    from lstm_forecast.evaluate import evaluate

    _print_metrics(evaluate(scored["actual"], scored["predicted"], scored["persistence"]))
    typer.echo(f"wrote {out}")


@app.command()
def plot(
    run_dir: Annotated[Path, typer.Argument(help="Run directory written by `train`.")],
    out: Annotated[
        Path | None, typer.Option(help="PNG to write; default: RUN_DIR/plot.png.")
    ] = None,
    predictions: Annotated[
        Path | None, typer.Option(help="CSV from `predict` to draw instead of the test span.")
    ] = None,
) -> None:
    """Draw the predicted prices over the real ones, and the training loss, to a PNG.

    Example: lstm-forecast plot runs/seed --out seed.png
    """
    with user_errors():
        from lstm_forecast.plot import plot_run

        path = plot_run(run_dir, out=out, predictions=predictions)
    typer.echo(f"wrote {path}")


def _print_metrics(metrics: dict) -> None:
    """A short table: the model beside persistence on the same rows."""
    typer.echo(f"{'':<22}{'RMSE':>10}{'MAE':>10}")
    typer.echo(
        f"{'model':<22}{metrics['rmse']:>10.3f}{metrics['mae']:>10.3f}   MAPE {metrics['mape']:.2f} %"
    )
    typer.echo(
        f"{'persistence (t-1)':<22}{metrics['naive_rmse']:>10.3f}{metrics['naive_mae']:>10.3f}"
    )
    verdict = "beats" if metrics["skill"] > 0 else "does not beat"
    typer.echo(
        f"skill vs persistence {metrics['skill']:+.3f} ({metrics['rows']} rows): "
        f"the model {verdict} 'tomorrow = today'"
    )
