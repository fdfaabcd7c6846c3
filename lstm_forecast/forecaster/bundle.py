"""The run directory: a Forecaster's files, written together and checked together (no pickle).

run.json is the marker: our format name and version, library versions, what was trained on what,
and a SHA-256 checksum of every other file, so damage or an edit is found on load and named in one
line instead of loading a model that disagrees with its config.
"""

from __future__ import annotations

import hashlib
import platform
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd

from lstm_forecast.config.load import config_from_dict, config_to_toml, json_safe
from lstm_forecast.config.schema import Config
from lstm_forecast.errors import BundleError, ConfigError, LstmForecastError
from lstm_forecast.files.names import (
    CALIBRATION_FILE,
    CONFIG_FILE,
    HISTORY_FILE,
    MARKER_FILE,
    METRICS_FILE,
    MODEL_FILE,
    PREDICTIONS_FILE,
    SCALER_FILE,
    SERIES_FILE,
    as_path,
    is_marker,
)
from lstm_forecast.files.read import read_json, read_table, read_toml
from lstm_forecast.files.write import write_csv, write_json, write_marker, write_model, write_text
from lstm_forecast.forecaster.run_metrics import checked_metrics, metrics_problem
from lstm_forecast.forecaster.run_parts import checked_scaler, read_history, read_series

FORMAT_VERSION = 2  # 1: runs of lstm-forecast 0.1, without this marker
REMEDY = "train the run again"
VERSIONED_PACKAGES = ("lstm-forecast", "tensorflow", "keras", "numpy", "pandas", "scikit-learn")


@dataclass(frozen=True)
class RunFiles:
    """What a run directory holds, read and checked, the model not yet loaded."""

    directory: Path
    config: Config
    scaler_params: dict
    series: pd.DataFrame  # by date: the target first, then the columns the features read
    history: pd.DataFrame | None
    manifest: dict
    metrics: dict  # {} when the run has no metrics.json
    calibration: dict | None  # calibration.json, None when the run has none

    @property
    def model_path(self) -> Path:
        return self.directory / MODEL_FILE


# what Forecaster.save always hands write_run
PARTS = ("model", "scaler_params", "config", "series", "history", "calibration")


def write_run(directory: Path, parts: dict, manifest: dict) -> None:
    """Write a run into `directory` (an empty staging folder) and its marker last.

    `parts`: model (keras.Model), scaler_params (dict), config (Config), series (DataFrame),
    history (DataFrame or None), metrics (dict or None), predictions (DataFrame or None).
    """
    import pandas as pd

    for key, kind in (("metrics", dict), ("predictions", pd.DataFrame)):
        if not isinstance(parts.get(key), kind | None):
            raise ConfigError(f"save(): {key} must be a {kind.__name__}, got {parts[key]!r:.60}")
    unknown = sorted(set(parts) - {*PARTS, "metrics", "predictions"})
    if unknown:
        raise ConfigError(f"save() takes metrics= and predictions=, not {unknown[0]}=")
    if parts.get("metrics") is not None:
        _check_metrics(parts["metrics"])
    write_model(directory / MODEL_FILE, parts["model"])
    _write_json(directory / SCALER_FILE, parts["scaler_params"])
    write_text(directory / CONFIG_FILE, config_to_toml(parts["config"]))
    series = parts["series"].rename_axis("date").reset_index()
    write_csv(directory / SERIES_FILE, series, index=False, float_format="%.10g")
    if parts.get("calibration") is not None:
        _write_json(directory / CALIBRATION_FILE, parts["calibration"])
    if parts.get("history") is not None:
        write_csv(directory / HISTORY_FILE, parts["history"], index=False)
    if parts.get("metrics") is not None:
        _write_json(directory / METRICS_FILE, parts["metrics"])
    if parts.get("predictions") is not None:
        predictions = parts["predictions"]
        write_csv(directory / PREDICTIONS_FILE, predictions, index=False, float_format="%.6f")
    checksums = {path.name: _sha256(path) for path in sorted(directory.iterdir()) if path.is_file()}
    write_marker(
        directory,
        "run",
        format_version=FORMAT_VERSION,
        created=datetime.now(UTC).isoformat(timespec="seconds"),
        python=platform.python_version(),
        versions={name: _version(name) for name in VERSIONED_PACKAGES},
        **manifest,
        checksums=checksums,
    )


def read_run(directory: str | Path) -> RunFiles:
    """Read and check a run directory; every problem is one BundleError naming the file."""
    directory = as_path(directory, "the run directory")
    if not directory.is_dir():
        raise BundleError(
            f"{directory}: no such run directory; train one with `lstm-forecast train --out`"
        )
    missing = [
        name
        for name in (MODEL_FILE, SCALER_FILE, CONFIG_FILE, SERIES_FILE, MARKER_FILE)
        if not (directory / name).is_file()
    ]
    if missing:
        runs = sorted(p.name for p in directory.iterdir() if (p / MODEL_FILE).is_file())
        if len(missing) == 5 and runs:  # a folder of runs (runs/), not a run
            shown = ", ".join(runs[:5]) + (f" and {len(runs) - 5} more" if len(runs) > 5 else "")
            raise BundleError(
                f"{directory}: a folder of runs, not a run; it holds {shown}: give one of them, "
                f"e.g. {directory / runs[-1]}"
            )
        raise BundleError(
            f"{directory}: not a complete run (missing {', '.join(missing)}); train it again"
        )
    manifest = _read_json(directory / MARKER_FILE, dict)
    if not is_marker(manifest, "run"):
        raise BundleError(f"{directory / MARKER_FILE}: not an lstm-forecast run marker")
    version = manifest.get("format_version")
    if version != FORMAT_VERSION or not isinstance(version, int):
        shown = f"{version!r} (text, not the number)" if isinstance(version, str) else repr(version)
        raise BundleError(
            f"{directory / MARKER_FILE}: run format {shown}, this version of lstm-forecast "
            f"reads format {FORMAT_VERSION}; train the run again"
        )
    checksums = manifest.get("checksums")
    if not isinstance(checksums, dict):
        raise BundleError(f"{directory / MARKER_FILE}: no checksums; train the run again")
    unchecked = [
        n for n in (MODEL_FILE, SCALER_FILE, CONFIG_FILE, SERIES_FILE) if n not in checksums
    ]
    if unchecked:  # save() sums every file: an entry removed would let an edit through
        raise BundleError(
            f"{directory / MARKER_FILE}: no checksum for {unchecked[0]}; edits to a run are not "
            "supported: train it again"
        )
    for name, expected in checksums.items():
        path = directory / name
        if not path.is_file():
            raise BundleError(f"{path}: missing from the run; train it again")
        if _sha256(path) != expected:
            raise BundleError(
                f"{path}: changed since the run was saved (checksum differs); edits to a run are "
                "not supported: train again with the settings you want"
            )
    config = _read_config(directory / CONFIG_FILE)
    scaler_params = _read_json(directory / SCALER_FILE, dict)
    series = read_series(directory / SERIES_FILE)
    _check_manifest(manifest, len(series), directory / MARKER_FILE)
    history_path = directory / HISTORY_FILE
    history = read_history(history_path) if history_path.is_file() else None
    metrics_path = directory / METRICS_FILE
    metrics = _read_json(metrics_path, dict) if metrics_path.is_file() else {}
    checked_metrics(metrics, metrics_path)
    calibration_path = directory / CALIBRATION_FILE
    calibration = _read_json(calibration_path, dict) if calibration_path.is_file() else None
    return RunFiles(
        directory, config, scaler_params, series, history, manifest, metrics, calibration
    )


def _check_metrics(metrics: dict) -> None:
    """save(metrics=...): JSON with the kinds of value the run's readers expect."""
    import json

    try:
        json.dumps(json_safe(metrics), allow_nan=False)
    except (TypeError, ValueError) as e:  # a Timestamp, a set, an object ...
        raise ConfigError(f"save(): metrics cannot be written as JSON ({e})") from e
    if problem := metrics_problem(json_safe(metrics)):
        raise ConfigError(f"save(): metrics {problem}")


def load_model(path: Path):
    """The Keras model of a run, loaded with safe_mode (no Lambda code is ever run)."""
    from lstm_forecast.model.cells import keras  # registers our cells for deserialization

    try:
        # compile=False: the optimizer state is not needed to predict (and loading it would warn)
        return keras.saving.load_model(path, compile=False, safe_mode=True)
    except Exception as e:  # Keras raises several types for a damaged or unsafe file
        reason = str(e).splitlines()[0] if str(e) else type(e).__name__
        if reason.startswith("File not found") and path.is_file():  # Keras says so of any non-zip
            reason = "not a Keras model archive"
        raise BundleError(f"{path}: cannot load the model ({reason}); train the run again") from e


def _read_config(path: Path) -> Config:
    try:
        return config_from_dict(read_toml(path), str(path))
    except LstmForecastError as e:
        raise BundleError(f"{e}; train the run again") from e


def _read_json(path: Path, kind: type):
    return read_json(path, kind, remedy=REMEDY)


def _read_csv(path: Path) -> pd.DataFrame:
    return read_table(path, remedy=REMEDY)


def _write_json(path: Path, value) -> None:
    write_json(path, json_safe(value))


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def checked_parts(run: RunFiles, inputs) -> dict:
    """The fields of a Forecaster that a run's files must get right, each checked: the model
    (its window shape), the scaler, train_rows, fit_info, shrinkage and calibration; damage or
    a mismatch with `inputs` (windows.Inputs of its config) is one BundleError."""
    manifest = run.manifest
    columns = 1 + len(inputs.features)
    scaler = checked_scaler(run.scaler_params, columns, run.directory)
    train_rows = manifest["train_rows"]  # checked by read_run, as drift, baseline, shrinkage
    model = load_model(run.model_path)
    expected = (None, inputs.length, columns)
    if tuple(model.input_shape) != expected:
        raise BundleError(
            f"{run.model_path}: the model takes windows of shape {tuple(model.input_shape)}, "
            f"but config.toml describes {expected}; train the run again"
        )
    fit_keys = (
        "engine",
        "epochs_run",
        "interrupted",
        "fit_seconds",
        "seconds_per_epoch",
        "held_out_rows",
        "held_out_in_sample",
    )
    calibration = None
    if run.calibration is not None:
        from lstm_forecast.intervals.conformal import Calibration

        calibration = Calibration.from_dict(run.calibration, f"{run.directory}/calibration.json")
    shrinkage = manifest.get("shrinkage", 1.0)
    drift, baseline = manifest.get("drift", 0.0), manifest.get("baseline", "persistence")
    return {
        "model": model,
        "scaler": scaler,
        "train_rows": train_rows,
        "fit_info": {key: manifest[key] for key in fit_keys if key in manifest},
        "shrinkage": float(shrinkage),
        "calibration": calibration,
        "drift": float(drift),
        "baseline": baseline,
    }


def _check_manifest(manifest: dict, series_rows: int, path: Path) -> None:
    """The values of run.json the forecaster uses (predict, report and the rest alike)."""
    from lstm_forecast.evaluate.baselines import BASELINE_ORDER

    fix = "restore the file or train the run again"
    train_rows = manifest.get("train_rows")
    if not isinstance(train_rows, int) or not 0 < train_rows <= series_rows:
        raise BundleError(
            f"{path}: train_rows must be 1 to {series_rows}, got {train_rows!r:.40}; {fix}"
        )
    shrinkage = manifest.get("shrinkage", 1.0)
    if not _number(shrinkage) or not 0.0 <= shrinkage <= 1.0:
        raise BundleError(
            f"{path}: shrinkage must be a number in [0, 1], got {shrinkage!r:.40}; {fix}"
        )
    drift, baseline = manifest.get("drift", 0.0), manifest.get("baseline", "persistence")
    if not _number(drift) or not np.isfinite(float(drift)):
        raise BundleError(f"{path}: drift must be a number, got {drift!r:.40}; {fix}")
    if baseline not in BASELINE_ORDER:
        raise BundleError(
            f"{path}: baseline must be one of {', '.join(BASELINE_ORDER)}, got {baseline!r:.40}; {fix}"
        )


def _number(value) -> bool:
    """A JSON number that is a float too (10**400 is not)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    try:
        float(value)
    except OverflowError:
        return False
    return True


def run_files(run_dir: Path) -> list[Path]:
    """A run's own files: inputs that no output of predict, forecast or plot may replace."""
    names = (MODEL_FILE, SCALER_FILE, CONFIG_FILE, SERIES_FILE)
    return [run_dir / name for name in (*names, MARKER_FILE, METRICS_FILE)]
