"""Fast training of stacked plain-LSTM models: one graph call per epoch, both cores busy.

Keras trains an LSTM step by step through ~15 small operations per time step and layer, forward and
backward, and on a CPU that per-operation overhead, not arithmetic, is most of the cost. This module
trains the same model (the same weights, the same math: LSTM cells as Keras computes them, Dropout
after each layer, Dense(1), Adam, MSE/MAE/Huber) with:

- TensorFlow's fused LSTM kernels, `BlockLSTMV2` and `BlockLSTMGradV2`: one C++ operation runs a
  layer over all time steps, forward or backward, weight gradients included;
- each batch cut into shards (one per core, at most) that run their forward and backward passes at
  the same time; their gradients add up to the batch's (a sum over rows, so the same numbers);
- all batches of an epoch, their Adam updates included, inside one `tf.function` with a
  `tf.while_loop`, so Python is entered once per epoch. A short last batch is padded with
  zero-weight rows, so that every batch has one shape.

The trained weights are written back into the Keras model, so everything downstream (predict,
forecast, the saved run) is unchanged. Only the random streams differ from Keras's: window order
and dropout masks come from `seed`, so numbers match Keras only where no randomness is involved
(tests/test_fast.py checks predictions, gradients, Adam steps and whole epochs without dropout or
shuffling against Keras). benchmarks/speed.py measures the speed against the reference script.

An XLA-compiled version with a hand-written backward pass through time was tried first: in one
thread about 1.35x slower than these kernels (its per-step operations cost more than their
arithmetic), and its compiled loop used one core.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from lstm_forecast.model.fast_graph import Spec, _tf, draw_masks, network

LOSSES = ("mse", "mae", "huber")

# Batches per graph call: one call per epoch for the reference data (38 batches), and the dropout
# masks of one call stay below ~20 MB for the reference model.
BATCHES_PER_CALL = 64


FUSED_KERNELS = ("BlockLSTMV2", "BlockLSTMGradV2")


def missing_kernels() -> str:
    """The fused TensorFlow ops this trainer needs and the installed TensorFlow lacks ("" = none)."""
    tf = _tf()
    return ", ".join(name for name in FUSED_KERNELS if not hasattr(tf.raw_ops, name))


def train(model, x, y, model_config, train_config, verbose: bool = False, stop=lambda: False):
    """The one entry point: train the Keras `model` in place on windows `x` (n, length, columns)
    and targets `y` (n,) as `train_config` says; returns the per-epoch logs as a DataFrame
    (loss[, val_loss], seconds), like keras.Model.fit's History."""
    import pandas as pd

    result = fit(
        Spec.from_config(model_config, train_config),
        keras_weights(model),
        x,
        y,
        epochs=train_config.epochs,
        batch_size=train_config.batch_size,
        learning_rate=train_config.learning_rate,
        validation_fraction=train_config.validation_fraction,
        patience=train_config.early_stopping_patience,
        seed=train_config.seed,
        report=(lambda line: print(line, flush=True)) if verbose else None,
        stop=stop,
    )
    model.set_weights(result.weights)
    return pd.DataFrame(result.history)


def unsupported_reason(model_config, train_config) -> str:
    """Why the fast path cannot train this config ("" when it can)."""
    cells = {layer.cell or model_config.cell for layer in model_config.layers}
    if cells != {"lstm"}:
        return f"cell {', '.join(sorted(cells - {'lstm'}))} (the fast path trains plain LSTM cells)"
    if train_config.optimizer.lower() != "adam":
        return f"optimizer {train_config.optimizer!r} (the fast path implements Adam)"
    if train_config.loss.lower() not in LOSSES:
        return f"loss {train_config.loss!r} (the fast path implements {', '.join(LOSSES)})"
    return ""


def keras_weights(model) -> list[np.ndarray]:
    """The model's weights in fast-path order: (kernel, recurrent kernel, bias) per LSTM, then Dense."""
    return [np.asarray(w, dtype=np.float32) for w in model.get_weights()]


@dataclass
class FastHistory:
    history: list[dict]  # per epoch: loss[, val_loss], seconds
    weights: list[np.ndarray]  # the weights to keep (the best epoch's under early stopping)


def fit(
    spec: Spec,
    weights: list[np.ndarray],
    x: np.ndarray,
    y: np.ndarray,
    *,
    epochs: int,
    batch_size: int,
    learning_rate: float,
    validation_fraction: float = 0.0,
    patience: int = 0,
    seed: int = 0,
    shuffle: bool = True,
    shards: int = 0,
    report: Callable[[str], object] | None = None,
    stop: Callable[[], bool] = lambda: False,
) -> FastHistory:
    """Train from `weights` like keras.Model.fit(x, y, validation_split=..., EarlyStopping(...,
    restore_best_weights=True)) would: the newest `validation_fraction` of windows held out
    (Keras's split point), the rest shuffled each epoch, loss and val_loss per epoch as Keras
    averages them, and the best epoch's weights kept when patience > 0. `shards`: parts each
    batch is cut into and computed side by side (0 = one per core).
    """
    tf = _tf()
    x = np.asarray(x, dtype=np.float32)
    y = np.asarray(y, dtype=np.float32).reshape(-1, 1)
    n_train = len(x)
    if validation_fraction > 0:
        n_train = int(np.floor(len(x) * (1.0 - validation_fraction)))
    # time-major training windows (T, N, F): a batch is then gathered along axis 1
    x_train = tf.constant(np.ascontiguousarray(x[:n_train].transpose(1, 0, 2)))
    y_train = tf.constant(y[:n_train])
    x_val, y_val = tf.constant(x[n_train:]), tf.constant(y[n_train:])
    net = network(spec, batch_size, learning_rate, shards)
    state = net.to_fused(weights)
    moments = tuple(tf.zeros_like(w) for w in state)
    velocities = tuple(tf.zeros_like(w) for w in state)
    iteration = tf.constant(0.0)
    # window order and dropout masks from two streams of `seed`; the masks are drawn one graph
    # call ahead on a second thread, while the graph runs
    order_rng, mask_rng = np.random.default_rng(seed).spawn(2)
    monitor = "val_loss" if len(x_val) else "loss"
    best, best_weights, wait = np.inf, None, 0
    history = []
    n_batches = -(-n_train // batch_size)
    padding = n_batches * batch_size - n_train
    row_weight = np.concatenate([np.ones(n_train), np.zeros(padding)]).astype(np.float32)
    row_weight = row_weight.reshape(n_batches, batch_size, 1)
    # a graph call per chunk of batches bounds the memory the dropout masks take
    chunks = [
        slice(first, min(first + BATCHES_PER_CALL, n_batches))
        for first in range(0, n_batches, BATCHES_PER_CALL)
    ]

    def draw(chunk: slice):
        count = chunk.stop - chunk.start
        keep = draw_masks(mask_rng, spec, count, x.shape[1], batch_size)
        return tuple(tf.constant(mask) for mask in keep)

    masks_pool = ThreadPoolExecutor(max_workers=1)
    try:
        next_masks = masks_pool.submit(draw, chunks[0])
        for epoch in range(epochs):
            started = time.perf_counter()
            order = order_rng.permutation(n_train) if shuffle else np.arange(n_train)
            order = np.concatenate([order, np.zeros(padding, dtype=order.dtype)]).astype(np.int32)
            order = order.reshape(n_batches, batch_size)
            total = 0.0
            for index, chunk in enumerate(chunks):
                keep = next_masks.result()
                next_masks = masks_pool.submit(draw, chunks[(index + 1) % len(chunks)])
                state, moments, velocities, iteration, chunk_total = net.epoch(
                    state,
                    moments,
                    velocities,
                    iteration,
                    x_train,
                    y_train,
                    tf.constant(order[chunk]),
                    tf.constant(row_weight[chunk]),
                    keep,
                )
                total += float(chunk_total)
            logs = {"loss": total / n_train}
            if len(x_val):
                logs["val_loss"] = float(net.loss_sum(state, x_val, y_val)) / len(x_val)
            logs["seconds"] = time.perf_counter() - started
            history.append(logs)
            if report is not None:
                shown = "  ".join(f"{key} {value:.4g}" for key, value in logs.items())
                report(f"epoch {epoch + 1}/{epochs}  {shown}")
            if not np.isfinite(logs["loss"]) or stop():
                if patience > 0 and logs[monitor] < best:  # the epoch just run is the best
                    best_weights = state
                break
            if patience > 0:  # keras.callbacks.EarlyStopping(restore_best_weights=True)
                wait += 1
                if logs[monitor] < best:
                    best, best_weights, wait = logs[monitor], state, 0
                elif wait >= patience and epoch > 0:
                    break
    finally:
        masks_pool.shutdown(cancel_futures=True)
    kept = best_weights if best_weights is not None else state
    return FastHistory(history=history, weights=net.to_keras(kept, x.shape[-1]))
