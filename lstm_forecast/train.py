"""Train a model from a config and save it as a run directory."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from lstm_forecast.bundle import check_out_dir, staging_dir, write_run
from lstm_forecast.config import Config
from lstm_forecast.data import (
    PriceSeries,
    csv_options,
    load_prices,
    quality_report,
    report_lines,
    resolve_data_path,
)
from lstm_forecast.errors import ConfigError, DataError
from lstm_forecast.evaluate import evaluate_table
from lstm_forecast.forecast import predict_series
from lstm_forecast.windows import (
    Inputs,
    Split,
    as_frame,
    join_train_test,
    split_by_date,
    split_by_fraction,
    training_windows,
)


@dataclass(frozen=True)
class TrainResult:
    run_dir: Path
    metrics: dict
    split: Split
    sources: tuple[PriceSeries, ...]  # the files read, with their row counts


def resolve_paths(config: Config) -> Config:
    """Make the data paths absolute, so a saved run finds its data from any directory."""
    data = config.data
    path = str(resolve_data_path(data.path).resolve())
    test_path = str(Path(data.test_path).resolve()) if data.test_path else ""
    return dataclasses.replace(
        config, data=dataclasses.replace(data, path=path, test_path=test_path)
    )


def load_split(config: Config) -> tuple[Split, tuple[PriceSeries, ...]]:
    """Read the configured CSV(s) and cut them into train and test spans, oldest first."""
    data = config.data
    train = load_prices(resolve_data_path(data.path), **csv_options(data))
    if data.test_path:
        test = load_prices(data.test_path, **csv_options(data))
        return join_train_test(train.frame, test.frame, test.source), (train, test)
    if data.test_start:
        return split_by_date(train.frame, data.test_start, train.source), (train,)
    return split_by_fraction(train.frame, data.test_fraction, train.source), (train,)


@dataclass
class Fitted:
    """A model trained on one stretch of prices, with what is needed to use and judge it."""

    engine: str  # "fast" or "keras": what trained it
    model: object  # keras.Model
    scaler: object  # fitted MinMaxScaler of the model-space target
    history: pd.DataFrame  # epoch, loss[, val_loss], seconds
    fit_seconds: float
    windows: int  # training windows
    drift: float  # mean daily price change over the training prices (the drift baseline)


def fit(config: Config, train_frame: pd.DataFrame, source: str, verbose: int | str = 0) -> Fitted:
    """Fit the scaler and the model on `train_frame` alone (nothing after it is seen).

    `train_frame`: the target price first, then the columns the features read (a price Series
    for the target alone).
    """
    settings = config.train
    inputs = Inputs.from_config(config)
    x, y, scaler = training_windows(train_frame, inputs, source)  # x: (windows, length, columns)
    if settings.validation_fraction > 0 and int(len(x) * settings.validation_fraction) < 1:
        raise DataError(
            f"{source}: {len(x)} training windows are too few to hold out "
            f"validation_fraction {settings.validation_fraction}; give more data or set it to 0"
        )
    engine = resolve_engine(config)
    from lstm_forecast.model import build_model, compile_model, keras

    keras.utils.set_random_seed(settings.seed)  # the initial weights, for either engine
    model = compile_model(build_model(config.model, inputs.length, x.shape[-1]), settings)
    started = time.perf_counter()
    if engine == "fast":
        history = _fit_fast(config, model, x, y, verbose)
    else:
        history = _fit_keras(settings, model, x, y, verbose)
    fit_seconds = time.perf_counter() - started
    history.insert(0, "epoch", np.arange(1, len(history) + 1))
    return Fitted(
        engine=engine,
        model=model,
        scaler=scaler,
        history=history,
        fit_seconds=fit_seconds,
        windows=len(x),
        drift=float(np.mean(np.diff(as_frame(train_frame).iloc[:, 0].to_numpy()))),
    )


def resolve_engine(config: Config) -> str:
    """The engine that trains this config: "fast" where lstm_forecast.fast supports it."""
    from lstm_forecast.fast import unsupported_reason

    engine = config.train.engine
    if engine == "keras":
        return "keras"
    reason = unsupported_reason(config.model, config.train)
    if engine == "fast" and reason:
        raise ConfigError(
            f'[train] engine = "fast" cannot train {reason}; set engine to "auto" or "keras"'
        )
    return "keras" if reason else "fast"


def _fit_fast(config: Config, model, x, y, verbose) -> pd.DataFrame:
    """Train `model` in place with lstm_forecast.fast; the per-epoch logs as Keras's History."""
    from lstm_forecast import fast

    settings = config.train
    result = fast.fit(
        fast.Spec.from_config(config.model, settings),
        fast.keras_weights(model),
        x,
        y,
        epochs=settings.epochs,
        batch_size=settings.batch_size,
        learning_rate=settings.learning_rate,
        validation_fraction=settings.validation_fraction,
        patience=settings.early_stopping_patience,
        seed=settings.seed,
        report=(lambda line: print(line, flush=True)) if verbose else None,
    )
    model.set_weights(result.weights)
    return pd.DataFrame(result.history)


def _fit_keras(settings, model, x, y, verbose) -> pd.DataFrame:
    from lstm_forecast.model import EpochTimer, keras

    callbacks = [EpochTimer()]
    if settings.early_stopping_patience > 0:
        monitor = "val_loss" if settings.validation_fraction > 0 else "loss"
        callbacks.append(
            keras.callbacks.EarlyStopping(
                monitor=monitor,
                patience=settings.early_stopping_patience,
                restore_best_weights=True,
            )
        )
    fitted = model.fit(
        x,
        y,
        epochs=settings.epochs,
        batch_size=settings.batch_size,
        validation_split=settings.validation_fraction,  # the newest windows: cut before shuffling
        callbacks=callbacks,
        verbose=verbose,
    )
    return pd.DataFrame(fitted.history)


def train(
    config: Config,
    out_dir: str | Path,
    overwrite: bool = False,
    verbose: int | str = "auto",
    report: Callable[[str], object] = lambda line: None,
) -> TrainResult:
    """Train on the configured data, evaluate on the test span, and write the run to `out_dir`.

    Data and output problems raise before any model is built; the run directory appears only
    when everything has been written. `report` receives a few lines about the data before
    training starts; `verbose` is Keras's progress setting.
    """
    out_dir = Path(out_dir)
    config = resolve_paths(config)
    check_out_dir(out_dir, overwrite)
    split, sources = load_split(config)
    for source in sources:
        report(source.describe())
        for line in report_lines(quality_report(source), short=True):
            report(line)
    report(
        f"train {split.train.index[0].date()} .. {split.train.index[-1].date()} "
        f"({split.n_train} rows), test {split.test.index[0].date()} .. "
        f"{split.test.index[-1].date()} ({len(split.test)} rows)"
    )
    fitted = fit(config, split.train_frame, sources[0].source, verbose)
    predictions = predict_series(
        fitted.model,
        fitted.scaler,
        split.frame.iloc[split.n_train :],
        split.train_frame,
        Inputs.from_config(config),
        sources[-1].source,
    )
    metrics = {
        **evaluate_table(predictions, fitted.drift),
        "train_rows": split.n_train,
        "train_windows": fitted.windows,
        "parameters": fitted.model.count_params(),
        "engine": fitted.engine,
        "epochs_run": len(fitted.history),
        "fit_seconds": fitted.fit_seconds,
        # the first epoch pays for tracing/compilation; the median is the steady-state cost
        "seconds_per_epoch": float(fitted.history["seconds"].median()),
    }
    with staging_dir(out_dir, overwrite) as staging:
        write_run(
            staging,
            model=fitted.model,
            scaler=fitted.scaler,
            config=config,
            metrics=metrics,
            history=fitted.history,
            predictions=predictions,
            series=split.frame,
            manifest={
                "features": [split.prices.name, *config.data.features],
                "target": split.prices.name,
                "sources": [source.source for source in sources],
                "train_span": [str(split.train.index[0].date()), str(split.train.index[-1].date())],
                "test_span": [str(split.test.index[0].date()), str(split.test.index[-1].date())],
            },
        )
    return TrainResult(run_dir=out_dir, metrics=metrics, split=split, sources=sources)
