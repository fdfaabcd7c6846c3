"""Fit a model on in-memory training rows: windows, scaler, Keras model, engine, early stopping.

No files are read or written here (runs.py does that); `fit` returns the pieces a Forecaster holds.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from lstm_forecast.config.schema import Config
from lstm_forecast.errors import ConfigError, DataError
from lstm_forecast.prep.split import as_frame
from lstm_forecast.prep.windows import Inputs, training_rows, training_windows

if TYPE_CHECKING:
    from lstm_forecast.model.build import ModelPool


@dataclass
class Fitted:
    """A model trained on one stretch of prices, with what is needed to use and judge it."""

    engine: str  # "fast" or "keras": what trained it
    model: object  # keras.Model
    scaler: object  # fitted MinMaxScaler, one column per model input
    history: pd.DataFrame  # epoch, loss[, val_loss], seconds
    fit_seconds: float
    windows: int  # training windows
    drift: float  # mean price change per row over the training prices (the drift baseline)
    interrupted: bool = False  # stopped early by Ctrl-C (the best weights so far are kept)


class StopTraining:
    """Set by the CLI's Ctrl-C handler; both engines stop after the epoch that is running."""

    def __init__(self) -> None:
        self.requested = False
        # a second Ctrl-C: abort. Its KeyboardInterrupt can be swallowed when it lands inside a
        # destructor (TensorFlow's), so runs.train also checks this flag before it saves.
        self.aborted = False

    def __call__(self) -> bool:
        return self.requested


def fit(
    config: Config,
    train_frame: pd.DataFrame | pd.Series,
    source: str,
    verbose: int | str = 0,
    report: Callable[[str], object] = lambda line: None,
    stop: Callable[[], bool] = lambda: False,
    models: ModelPool | None = None,
    initial_weights: list | None = None,
    before_training: Callable[[object], object] = lambda model: None,
) -> Fitted:
    """Fit the scaler and the model on `train_frame` alone (nothing after it is seen).

    `train_frame`: the target price first, then the columns the features read (a price Series
    for the target alone). `stop()` is asked after every epoch; True ends training there.
    `models`: the pool to take the model from (walk-forward folds share one), else a new model.
    `initial_weights`: the get_weights() of a model of the same architecture to start from (a
    warm start) instead of the seed's initial weights, then trained with [train]
    warm_start_patience; the optimizer starts afresh either way. `before_training(model)` is
    called as training starts (the forecaster compiles what it will run afterwards meanwhile).
    """
    _check_arguments(verbose, report, stop, models)
    settings = config.train
    inputs = Inputs.from_config(config)
    x, y, scaler = training_windows(train_frame, inputs, source)  # x: (windows, length, columns)
    if settings.validation_fraction > 0 and int(len(x) * settings.validation_fraction) < 1:
        raise DataError(
            f"{source}: {len(x)} training windows are too few to hold out "
            f"validation_fraction {settings.validation_fraction}; give more data or set it to 0"
        )
    engine = resolve_engine(config, report)
    from lstm_forecast.model.build import ModelPool, keras

    models = models or ModelPool()
    model = models.model(config.model, settings, inputs.length, x.shape[-1], engine == "keras")
    if initial_weights is not None:
        model.set_weights(_same_shapes(initial_weights, model))
        if settings.early_stopping_patience > 0:
            settings = replace(settings, early_stopping_patience=settings.warm_start_patience)
    # the seed again, so that training draws the same numbers whether the model was lent or built
    keras.utils.set_random_seed(settings.seed)
    before_training(model)
    started = time.perf_counter()
    if engine == "fast":
        from lstm_forecast.model import fast

        history = fast.train(model, x, y, config.model, settings, verbose=bool(verbose), stop=stop)
    else:
        history = _fit_keras(settings, model, x, y, verbose, stop)
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
        interrupted=bool(stop()) and len(history) < settings.epochs,
    )


def _same_shapes(weights: list, model) -> list:
    """The warm start's weights, checked against the model they are put into."""
    shapes = [np.shape(w) for w in weights] if isinstance(weights, list | tuple) else None
    if shapes != [tuple(w.shape) for w in model.weights]:
        raise ConfigError(
            "warm_start: that model's weights do not fit this config's "
            f"({shapes} vs {[tuple(w.shape) for w in model.weights]}); "
            "warm-start only from a model of the same [model] layers and inputs"
        )
    return list(weights)


HELD_OUT_WHEN_NONE = 0.1  # share of the newest windows scored when nothing was held out


def held_out_rows(config: Config, fitted: Fitted, frame: pd.DataFrame) -> tuple[np.ndarray, bool]:
    """Rows of `frame` whose windows the model was not trained on: the newest
    validation_fraction of the training windows (held out by both engines, as Keras's
    validation_split does). With validation_fraction 0 nothing was held out: then the newest
    HELD_OUT_WHEN_NONE of the windows, in sample (the flag says so)."""
    inputs = Inputs.from_config(config)
    rows = training_rows(inputs.matrix(frame), inputs)
    fraction = config.train.validation_fraction
    if fraction > 0:  # the split point of keras.Model.fit(validation_split=...) and fast.fit
        return rows[int(np.floor(len(rows) * (1.0 - fraction))) :], False
    return rows[-max(1, round(len(rows) * HELD_OUT_WHEN_NONE)) :], True


def resolve_engine(config: Config, report: Callable[[str], object] = lambda line: None) -> str:
    """The engine that trains this config: "fast" where lstm_forecast.model.fast supports it."""
    from lstm_forecast.model.fast import missing_kernels, unsupported_reason

    engine = config.train.engine
    if engine == "keras":
        return "keras"
    reason = unsupported_reason(config.model, config.train)
    if engine == "fast" and reason:
        raise ConfigError(
            f'[train] engine = "fast" cannot train {reason}; set engine to "auto" or "keras"'
        )
    if reason:
        return "keras"
    missing = missing_kernels()
    if missing:
        report(f"note: this TensorFlow lacks {missing}; training with Keras instead (slower)")
        return "keras"
    return "fast"


def _check_arguments(verbose, report, stop, models) -> None:
    """fit()'s keywords from Python, each its package's error instead of a Keras TypeError
    several calls down."""
    from lstm_forecast.model.build import ModelPool

    if verbose not in (0, 1, 2, "auto") or isinstance(verbose, float):  # Keras's values
        raise ConfigError(f"fit(): verbose must be 0, 1, 2 or 'auto', got {verbose!r:.60}")
    for name, function in (("report", report), ("stop", stop)):
        if not callable(function):
            raise ConfigError(f"fit(): {name} must be a function, got {function!r:.60}")
    if models is not None and not isinstance(models, ModelPool):
        raise ConfigError(f"fit(): models must be a ModelPool or None, got {models!r:.60}")


def _fit_keras(settings, model, x, y, verbose, stop: Callable[[], bool]) -> pd.DataFrame:
    from lstm_forecast.model.build import EpochTimer, StopOnRequest, keras

    monitor = "val_loss" if settings.validation_fraction > 0 else "loss"
    patience = settings.early_stopping_patience
    callbacks = [EpochTimer(), StopOnRequest(stop, monitor if patience > 0 else "")]
    if patience > 0:
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
