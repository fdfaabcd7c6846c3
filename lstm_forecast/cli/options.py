"""What every command of the CLI shares: option types, one-line errors, Ctrl-C and SIGTERM."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from lstm_forecast.errors import ConfigError, LstmForecastError

USER_ERROR_EXIT = 2
INTERRUPTED_EXIT = 130  # the shell's status for a process ended by Ctrl-C

# options shared by the commands
ConfigOption = Annotated[
    Path | None, typer.Option("--config", help="TOML config; default: the built-in defaults.")
]
DataOption = Annotated[
    Path | None, typer.Option("--data", help="Price CSV; default: the bundled S&P 500 data.")
]
TargetOption = Annotated[str | None, typer.Option(help="Column to forecast, e.g. Close.")]
DateColumnOption = Annotated[
    str | None, typer.Option(help="Date column; default: the first named like 'date'.")
]
EpochsOption = Annotated[int | None, typer.Option(help="Override the config's train.epochs.")]
SeedOption = Annotated[int | None, typer.Option(help="Override the config's train.seed.")]
CellOption = Annotated[
    str | None, typer.Option(help="Override the config's model.cell: lstm, peephole, cifg or gru.")
]
SepOption = Annotated[str | None, typer.Option(help="Field separator; default: detected.")]
DecimalOption = Annotated[str | None, typer.Option(help="Decimal mark; default: detected.")]
OverwriteOption = Annotated[
    bool, typer.Option("--overwrite", help="Replace an output of ours that exists.")
]
SetOption = Annotated[
    list[str] | None,
    typer.Option(
        "--set",
        metavar="SECTION.KEY=VALUE",
        help="Override any config key: --set section.key=value (repeatable).",
    ),
]
EngineOption = Annotated[
    str | None,
    typer.Option(
        help="Training engine: fast (fused kernels; plain LSTM + Adam), keras "
        "(keras.Model.fit) or auto (fast where it applies). Default: the config's."
    ),
]


@contextmanager
def user_errors() -> Iterator[None]:
    """Our domain errors, unreadable files and interruptions as one line on stderr; no traceback."""
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        yield
    except LstmForecastError as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(USER_ERROR_EXIT) from None
    except OSError as e:  # a file we could not read or write: name it
        where = f"{e.filename}: " if e.filename else ""
        typer.echo(f"error: {where}{e.strerror or e}", err=True)
        raise typer.Exit(USER_ERROR_EXIT) from None
    except KeyboardInterrupt:
        typer.echo("interrupted: nothing was written", err=True)
        raise typer.Exit(INTERRUPTED_EXIT) from None
    except Exception as e:  # noqa: BLE001 - only out-of-memory is ours to word; the rest re-raised
        # TensorFlow's ResourceExhaustedError (a model too large) is matched by name: importing
        # TensorFlow here would slow every command, --help included
        if not isinstance(e, MemoryError) and type(e).__name__ != "ResourceExhaustedError":
            raise
        typer.echo(
            "error: out of memory: the model or the data does not fit; use fewer or smaller "
            "[[model.layers]] units, a smaller batch_size, or less data",
            err=True,
        )
        raise typer.Exit(USER_ERROR_EXIT) from None
    finally:
        signal.signal(signal.SIGTERM, previous)


def _terminate(signum, frame):
    """SIGTERM unwinds like Ctrl-C, so temporary files and folders are removed on the way out."""
    raise KeyboardInterrupt


@contextmanager
def graceful_stop() -> Iterator[object]:
    """The first Ctrl-C asks training to stop after the current epoch (the run is saved, marked
    interrupted); a second one aborts, and the staging folder is removed on the way out, so
    nothing half-written remains (SIGTERM aborts likewise: see user_errors)."""
    from lstm_forecast.model.train import StopTraining

    stop = StopTraining()

    def on_interrupt(signum, frame):
        if stop.requested:
            stop.aborted = True
            if frame is not None and frame.f_code.co_name == "__del__":
                return  # raised in a destructor it would be swallowed with a traceback
            raise KeyboardInterrupt
        stop.requested = True
        typer.echo("stopping after this epoch; Ctrl-C again to abort", err=True)

    previous = signal.signal(signal.SIGINT, on_interrupt)
    try:
        yield stop
    finally:
        signal.signal(signal.SIGINT, previous)


def refuse_forecast_options(*values) -> None:
    """`predict` without --steps: the options only a forecast takes must be left out."""
    if any(value is not None for value in values):
        raise ConfigError(
            "--origin, --level, --samples, --seed and --calendar go with --steps N, "
            "as does --interval"
        )


# The one table of command-line options that set a config key: option name -> [section] key.
# Every command's options reach the config through it (resolved_config, config_overrides).
OPTION_KEYS = {
    "data": "data__path",
    "test": "data__test_path",
    "target": "data__target",
    "date_column": "data__date_column",
    "sep": "data__sep",
    "decimal": "data__decimal",
    "test_start": "data__test_start",
    "epochs": "train__epochs",
    "seed": "train__seed",
    "engine": "train__engine",
    "cell": "model__cell",
    "samples": "forecast__samples",
    "level": "forecast__level",
    "refit": "backtest__refit",
    "refit_from": "backtest__refit_from",
    "cost_bps": "strategy__cost_bps",
    "allow_short": "strategy__allow_short",
}


def config_overrides(**options) -> dict:
    """Command-line options (by their names in OPTION_KEYS) as config overrides; paths as
    strings, options not given (None) left out by with_overrides."""
    return {
        OPTION_KEYS[name]: str(value) if isinstance(value, Path) else value
        for name, value in options.items()
    }


def resolved_config(config: Path | None, settings: list[str] | None, **options):
    """The config file (or the defaults), then the named options (OPTION_KEYS), then every
    --set: parsed and validated once, here."""
    from lstm_forecast.config.load import apply_settings, load_config, with_overrides

    overrides = config_overrides(**options)
    return apply_settings(with_overrides(load_config(config), **overrides), settings or [])


def timestamped_dir(folder: str, config: Path | None) -> Path:
    """Default output directory: FOLDER/CONFIG-NAME-YYYYMMDD-HHMMSS."""
    stem = config.stem if config else "default"
    return Path(folder) / f"{stem}-{datetime.now():%Y%m%d-%H%M%S}-{os.getpid()}"
