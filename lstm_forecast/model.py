"""Build and compile the stacked recurrent model described by a ModelConfig (functional Keras API)."""

from __future__ import annotations

import time

from lstm_forecast.backend import import_keras
from lstm_forecast.cells import recurrent_layer
from lstm_forecast.config import ModelConfig, TrainConfig

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
