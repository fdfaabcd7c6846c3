"""Build and compile the stacked recurrent model described by a ModelConfig (functional Keras API)."""

from __future__ import annotations

import time
from collections import OrderedDict

from lstm_forecast.config.schema import ModelConfig, TrainConfig
from lstm_forecast.model.backend import import_keras
from lstm_forecast.model.cells import recurrent_layer

keras = import_keras()
layers = keras.layers


def build_model(model_config: ModelConfig, window_length: int, n_features: int = 1) -> keras.Model:
    """Recurrent layers of the configured cells (each followed by Dropout when its rate > 0),
    then Dense(1).

    Input (batch, window_length, n_features) -> output (batch, 1).
    """
    inputs = keras.Input(shape=(window_length, n_features), name="window")
    x = inputs
    last = len(model_config.layers) - 1
    for index, layer in enumerate(model_config.layers):
        # every layer but the last hands its whole sequence to the next one
        cell = layer.cell or model_config.cell
        x = recurrent_layer(cell, layer.units, index < last, name=f"{cell}_{index + 1}")(x)
        if layer.dropout > 0:
            x = layers.Dropout(layer.dropout, name=f"dropout_{index + 1}")(x)
    outputs = layers.Dense(1, name="next_value")(x)
    return keras.Model(inputs, outputs, name="lstm_forecast")


def compile_model(model: keras.Model, train_config: TrainConfig) -> keras.Model:
    """Attach optimizer and loss from the config."""
    optimizer = keras.optimizers.get(
        {
            "class_name": train_config.optimizer,
            "config": {"learning_rate": train_config.learning_rate},
        }
    )
    model.compile(optimizer=optimizer, loss=train_config.loss, jit_compile=train_config.jit_compile)
    return model


class ModelPool:
    """Keras models lent to fits that run one after another (walk-forward folds, tune trials).

    Tracing and XLA compilation belong to a model object: Keras's predict function, the compiled
    forecast loop (forecast.py) and the calibration paths are built once per model and input
    shape. A new model per fold paid them again every fold (benchmarks/results/
    backtest_profile.md), so a pool builds one model per architecture and seed and, on every
    later request, puts back the weights it was built with (the same initial weights a fresh
    build draws from the seed) and a fresh optimizer. A Forecaster fitted from a pool holds the
    lent model: it is valid until the pool lends that model again. It keeps the `size` models
    used last (a study samples many architectures; each kept model holds its traced graphs).
    """

    def __init__(self, size: int = 4) -> None:
        self.size = size
        self._models: OrderedDict[tuple, tuple[keras.Model, list]] = OrderedDict()

    def model(
        self,
        model_config: ModelConfig,
        train_config: TrainConfig,
        length: int,
        n_features: int,
        keras_trains: bool = True,
    ) -> keras.Model:
        """A compiled model with the initial weights `train_config.seed` gives. `keras_trains`:
        Keras's fit will train it, so a lent model gets a new optimizer (compiling again also
        drops its traced predict function; the fast engine keeps both)."""
        key = (model_config, train_config.seed, length, n_features)
        if key in self._models:
            self._models.move_to_end(key)
            model, initial = self._models[key]
            model.set_weights(initial)
            return compile_model(model, train_config) if keras_trains else model
        keras.utils.set_random_seed(train_config.seed)
        model = compile_model(build_model(model_config, length, n_features), train_config)
        self._models[key] = (model, model.get_weights())
        while len(self._models) > self.size:
            self._models.popitem(last=False)  # the model used longest ago
        return model


class EpochTimer(keras.callbacks.Callback):
    """Records wall-clock seconds per epoch into the training logs (history.csv's `seconds`)."""

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["seconds"] = time.perf_counter() - self._start


class StopOnRequest(keras.callbacks.Callback):
    """Ends training after the current epoch once `stop()` says so (Ctrl-C in the CLI).

    With `monitor` set (early stopping in use) it keeps the best weights so far, as
    EarlyStopping(restore_best_weights=True) would, and puts them back when it stops.
    """

    def __init__(self, stop, monitor: str = ""):
        super().__init__()
        self._stop, self._monitor = stop, monitor
        self._best, self._best_weights = float("inf"), None

    def on_epoch_end(self, epoch, logs=None):
        value = (logs or {}).get(self._monitor)
        if self._monitor and value is not None and value < self._best:
            self._best, self._best_weights = value, self.model.get_weights()
        if self._stop():
            self.model.stop_training = True
            if self._best_weights is not None:
                self.model.set_weights(self._best_weights)
