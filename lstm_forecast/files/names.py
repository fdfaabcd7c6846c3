"""Every file name the tool writes, and the marker that says a directory is ours: defined here once.

A run directory (`train`), a backtest, a league and a tune study each hold MARKER_FILE, whose
"format" is MARKER_FORMAT and whose "kind" says which of them it is; `--overwrite` replaces a
directory only when it holds that marker and nothing but the files named here (ours.py).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from lstm_forecast import __version__
from lstm_forecast.errors import ConfigError

MARKER_FILE = "run.json"  # every directory we write holds it; its "format" names us
MARKER_FORMAT = "lstm-forecast"

# a run directory (`train`, Forecaster.save)
MODEL_FILE = "model.keras"  # Keras native format: architecture + weights
SCALER_FILE = "scaler.json"  # MinMax parameters per model input column
CONFIG_FILE = "config.toml"  # the resolved config, data paths made absolute
HISTORY_FILE = "history.csv"  # loss per epoch
SERIES_FILE = "series.csv"  # the data the run knows (train + test), history for `predict`
METRICS_FILE = "metrics.json"  # test-span accuracy beside the baselines (written by `train`)
PREDICTIONS_FILE = "predictions.csv"  # test-span (or out-of-sample) predictions
CALIBRATION_FILE = "calibration.json"  # out-of-sample forecast errors per step (conformal)

# what `predict`, `plot`, `gates` and `report` write into a run directory by default
PLOT_FILE = "plot.png"
FORECAST_FILE = "forecast.csv"
REPORT_FILE = "report.html"
GATES_PREFIX = "gates"  # gates.png and gates.csv
METRICS_SUFFIX = ".metrics.json"  # beside a predictions table: NAME.metrics.json


def predicted_file(source_stem: str) -> str:
    """`predict`'s table of a CSV's one-step predictions, inside the run directory."""
    return f"predicted-{source_stem}.csv"


def forecast_file(source_stem: str | None) -> str:
    """`predict --horizon`'s table: forecast.csv, or forecast-NAME.csv for a CSV's data."""
    return f"forecast-{source_stem}.csv" if source_stem else FORECAST_FILE


# a backtest, league or tune directory
SUMMARY_FILE = "summary.json"
FOLDS_FILE = "folds.csv"
PATHS_FILE = "paths.csv"  # each fold's recursive forecast, a row per step, with its bands
BACKTEST_FIGURE = "backtest.png"
LEAGUE_FILE = "league.csv"
TRIALS_FILE = "trials.csv"
BEST_CONFIG_FILE = "best.toml"
STUDY_FILE = "study.json"
JOURNAL_FILE = "journal.log"
STRATEGIES_FILE = "strategies.csv"  # each strategy's numbers beside buy-and-hold (backtest)
STRATEGY_RETURNS_FILE = "strategy_returns.csv"  # their daily returns after costs and positions
EQUITY_FIGURE = "equity.png"  # their equity curves and drawdowns
HISTORY_FIGURE = "history.png"
IMPORTANCES_FIGURE = "importances.png"

# what a backtest, league or tune directory is made of (a run's files are in its checksums)
STUDY_FILES = frozenset({SUMMARY_FILE, FOLDS_FILE, PATHS_FILE, LEAGUE_FILE, PREDICTIONS_FILE, CONFIG_FILE,
                         TRIALS_FILE, BEST_CONFIG_FILE, STUDY_FILE, JOURNAL_FILE,
                         STRATEGIES_FILE, STRATEGY_RETURNS_FILE})  # fmt: skip

# files a directory of ours may hold besides the marker: the artefacts we write into it and the
# outputs `predict`, `plot`, `gates` and `report` write there by default
OUR_FILE = re.compile(
    r"^(model\.keras|scaler\.json|config\.toml|metrics\.json|history\.csv|predictions\.csv"
    r"|series\.csv|calibration\.json|folds\.csv|paths\.csv|summary\.json|trials\.csv|best\.toml|league\.csv"
    r"|strategies\.csv|strategy_returns\.csv"
    r"|predicted-.*\.(csv|metrics\.json)|forecast.*\.(csv|json|png)|.*\.png|report\.html|gates.*\.csv)$"
)

# the marks a single file of ours carries (ours.carries_our_mark)
PNG_SOFTWARE = "lstm-forecast"  # the PNG "Software" text our figures carry
PNG_METADATA = {"Software": f"{PNG_SOFTWARE} {__version__}"}
HTML_GENERATOR = b'<meta name="generator" content="lstm-forecast'  # report.html.j2's head
TABLE_COLUMNS = {"date", "predicted"}  # the columns every table of predict's carries
GATES_COLUMNS = ["layer", "cell", "step", "date", "unit", "gate", "value"]  # gates.csv's header
SIDECAR_KEYS = ({"rmse", "naive_rmse"}, {"horizon", "interval"})  # metrics, forecast JSON


def marker(kind: str, format_version: int = 1, **fields: Any) -> dict[str, Any]:
    """The content of MARKER_FILE for a directory of `kind` (run, backtest, league, tune)."""
    return {"format": MARKER_FORMAT, "kind": kind, "format_version": format_version, **fields}


def is_marker(content: Any, kind: str | None = None) -> bool:
    """Whether parsed MARKER_FILE content is ours (and of `kind`, when given)."""
    return (
        isinstance(content, dict)
        and content.get("format") == MARKER_FORMAT
        and (kind is None or content.get("kind") == kind)
    )


def as_path(value: Any, what: str) -> Path:
    """`value` (a str or os.PathLike, as the Python API takes paths) as a Path; else one
    ConfigError naming the argument, instead of pathlib's TypeError."""
    if isinstance(value, str | os.PathLike) and str(value) != "":
        return Path(value)
    plain = value is None or isinstance(value, int | float | bytes)
    shown = f"{value!r:.60}" if plain else f"a {type(value).__name__}"  # a DataFrame's: lines
    raise ConfigError(f"{what} must be a path (a str or pathlib.Path), got {shown}")


def as_flag(value: Any, what: str) -> bool:
    """`value` when it is True or False; else one ConfigError naming the argument (a truthy
    "no" must not switch a thing on)."""
    if isinstance(value, bool):
        return value
    raise ConfigError(f"{what} must be True or False, got {value!r:.60}")
