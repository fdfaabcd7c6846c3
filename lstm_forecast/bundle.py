"""A saved run: everything needed to rebuild, predict and plot, in one directory (no pickle)."""

from __future__ import annotations

import json
import os
import platform
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

import pandas as pd

from lstm_forecast.config import Config, config_to_toml, load_config
from lstm_forecast.errors import BundleError, ForecastError
from lstm_forecast.windows import scaler_from_dict, scaler_to_dict

MODEL_FILE = "model.keras"  # Keras native format: architecture + weights + optimizer state
SCALER_FILE = "scaler.json"  # MinMax parameters of the model-space target
CONFIG_FILE = "config.toml"  # the resolved config, data paths made absolute
METRICS_FILE = "metrics.json"  # test-span accuracy and persistence baseline, training time
HISTORY_FILE = "history.csv"  # loss per epoch
PREDICTIONS_FILE = "predictions.csv"  # test-span predictions: date, actual, predicted, persistence
SERIES_FILE = "series.csv"  # the data the run saw (train + test), history for `predict`
MANIFEST_FILE = "run.json"  # library versions, creation time, features, spans
REQUIRED_FILES = (MODEL_FILE, SCALER_FILE, CONFIG_FILE, SERIES_FILE)
VERSIONED_PACKAGES = ("lstm-forecast", "tensorflow", "keras", "numpy", "pandas", "scikit-learn")


@dataclass
class Run:
    """A loaded run directory."""

    directory: Path
    config: Config
    scaler: object  # fitted sklearn MinMaxScaler
    frame: pd.DataFrame  # by date, train + test: the target price, then feature columns
    metrics: dict

    @property
    def series(self) -> pd.Series:
        """The target prices by date, train + test."""
        return self.frame.iloc[:, 0]

    def load_model(self):
        """The trained Keras model (imports Keras, so only when needed)."""
        from lstm_forecast.cells import keras  # registers our cells for deserialization

        try:
            return keras.saving.load_model(self.directory / MODEL_FILE)
        except Exception as e:  # Keras raises several types for a damaged file
            raise BundleError(f"{self.directory / MODEL_FILE}: cannot load the model ({e})") from e


def check_out_dir(directory: Path, overwrite: bool) -> None:
    """Refuse to train into an existing non-empty directory unless told to replace it."""
    if (
        directory.exists()
        and (not directory.is_dir() or any(directory.iterdir()))
        and not overwrite
    ):
        raise ForecastError(
            f"{directory}: already exists; choose another --out or pass --overwrite to replace it"
        )


@contextmanager
def staging_dir(directory: Path, overwrite: bool) -> Iterator[Path]:
    """A temporary directory beside `directory`, moved into place only if the block succeeds.

    Nothing is left behind when the block raises (bad data, Ctrl-C, a crash in training).
    """
    check_out_dir(directory, overwrite)
    directory.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{directory.name}.", dir=directory.parent))
    try:
        yield staging
        if directory.exists():
            shutil.rmtree(directory) if directory.is_dir() else directory.unlink()
        os.replace(staging, directory)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def write_run(
    directory: Path,
    *,
    model,
    scaler,
    config: Config,
    metrics: dict,
    history: pd.DataFrame,
    predictions: pd.DataFrame,
    series: pd.Series | pd.DataFrame,
    manifest: dict,
) -> None:
    """Write every file of a run into `directory` (which must exist)."""
    model.save(directory / MODEL_FILE)
    (directory / SCALER_FILE).write_text(json.dumps(scaler_to_dict(scaler), indent=2) + "\n")
    (directory / CONFIG_FILE).write_text(config_to_toml(config))
    (directory / METRICS_FILE).write_text(json.dumps(metrics, indent=2) + "\n")
    history.to_csv(directory / HISTORY_FILE, index=False)
    predictions.to_csv(directory / PREDICTIONS_FILE, index=False, float_format="%.6f")
    frame = series.rename_axis("date").reset_index()
    frame["date"] = frame["date"].dt.strftime("%Y-%m-%d")
    frame.to_csv(directory / SERIES_FILE, index=False, float_format="%.10g")
    full_manifest = {
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "versions": {name: _version(name) for name in VERSIONED_PACKAGES},
        **manifest,
    }
    (directory / MANIFEST_FILE).write_text(json.dumps(full_manifest, indent=2) + "\n")


def load_run(directory: str | Path) -> Run:
    """Read a run directory written by write_run (the model itself loads on demand)."""
    directory = Path(directory)
    if not directory.is_dir():
        raise BundleError(
            f"{directory}: no such run directory; train one with `lstm-forecast train --out`"
        )
    missing = [name for name in REQUIRED_FILES if not (directory / name).exists()]
    if missing:
        raise BundleError(
            f"{directory}: not a complete run (missing {', '.join(missing)}); train it again"
        )
    try:
        config = load_config(directory / CONFIG_FILE)
        scaler = scaler_from_dict(json.loads((directory / SCALER_FILE).read_text()))
        frame = pd.read_csv(directory / SERIES_FILE, parse_dates=["date"])
        metrics_path = directory / METRICS_FILE
        metrics = json.loads(metrics_path.read_text()) if metrics_path.exists() else {}
    except (ValueError, KeyError, ForecastError) as e:
        raise BundleError(f"{directory}: damaged run files ({e}); train it again") from e
    return Run(
        directory=directory,
        config=config,
        scaler=scaler,
        frame=frame.set_index("date"),
        metrics=metrics,
    )


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None
