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

import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

LOSSES = ("mse", "mae", "huber")

# Batches per graph call: one call per epoch for the reference data (38 batches), and the dropout
# masks of one call stay below ~20 MB for the reference model.
BATCHES_PER_CALL = 64

# Keras's Adam defaults (keras.optimizers.Adam): beta_1, beta_2, epsilon.
ADAM_BETAS = (0.9, 0.999)
ADAM_EPSILON = 1e-7


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


@dataclass(frozen=True)
class Spec:
    """The shape of the network: units and dropout rate of each LSTM layer, the loss."""

    units: tuple[int, ...]
    dropout: tuple[float, ...]
    loss: str = "mse"

    @classmethod
    def from_config(cls, model_config, train_config) -> Spec:
        return cls(
            units=tuple(layer.units for layer in model_config.layers),
            dropout=tuple(layer.dropout for layer in model_config.layers),
            loss=train_config.loss.lower(),
        )


def _tf():
    from lstm_forecast.backend import import_tensorflow

    return import_tensorflow()


# ---------------------------------------------------------------------------------------------
# The math, as plain functions of tensors (traced inside the graph functions)
#
# Weights travel in Keras's order: per LSTM layer kernel (D, 4H), recurrent kernel (H, 4H) and bias
# (4H), gates in the order i, f, c, o; then the Dense kernel (H, 1) and bias (1,). The fused kernels
# take one matrix (D + H, 4H) for [input, previous h], with the same gate order (IFCO, V2 ops);
# _block_weights converts, _keras_order converts back.


def _block_weights(tf, spec: Spec, weights):
    """Keras-order weights -> [(w, b) per layer in the fused kernels' layout], dense kernel, bias."""
    layers = []
    for index in range(len(spec.units)):
        kernel, kernel_r, bias = weights[3 * index : 3 * index + 3]
        layers.append((tf.concat([kernel, kernel_r], axis=0), bias))
    return layers, weights[-2], weights[-1]


def _keras_order(layer_grads, dense_grads, widths):
    """Gradients (or weights) in the fused layout -> Keras's order; widths: each layer's inputs."""
    grads = []
    for (w_grad, b_grad), width in zip(layer_grads, widths, strict=True):
        grads += [w_grad[:width], w_grad[width:], b_grad]
    return grads + list(dense_grads)


def draw_masks(rng: np.random.Generator, spec: Spec, batches: int, steps: int, batch: int):
    """Dropout keep-masks for `batches` batches: one bool array per layer with dropout,
    (batches, T, B, H) below the top layer, (batches, B, H) for the top layer's last state.

    Drawn with numpy (PCG64), one graph call ahead on a second thread: TensorFlow's CPU random
    kernels need ~10 ns a number, ~0.1 s of a ~0.6 s epoch of the reference model when tried.
    """
    last = len(spec.units) - 1
    return tuple(
        rng.random((batches, steps, batch, units) if index < last else (batches, batch, units),
                   dtype=np.float32) >= rate
        for index, (units, rate) in enumerate(zip(spec.units, spec.dropout, strict=True))
        if rate > 0
    )  # fmt: skip


def _scaled_masks(tf, spec: Spec, keep):
    """Keep-masks of one batch (in draw_masks's order) -> a float mask per layer, scaled by
    1 / (1 - rate) as Keras's Dropout scales; None for layers without dropout."""
    keep = list(keep)
    return [
        tf.cast(keep.pop(0), tf.float32) / (1.0 - rate) if rate > 0 else None
        for rate in spec.dropout
    ]


def _block_arguments(tf, inputs, w, b, units: int) -> dict:
    """What the fused forward and backward kernels share: a layer over all steps of `inputs`
    (T, B, D) from zero state, without peephole connections."""
    zeros = tf.zeros([inputs.shape[1], units])
    no_peephole = tf.zeros([units])
    return dict(
        seq_len_max=tf.constant(inputs.shape[0], tf.int64),
        x=inputs,
        cs_prev=zeros,
        h_prev=zeros,
        w=w,
        wci=no_peephole,
        wcf=no_peephole,
        wco=no_peephole,
        b=b,
        use_peephole=False,
    )


def _forward(tf, spec: Spec, layers, dense, x, masks):
    """Predictions (B, 1) for time-major windows x (T, B, F), and what the backward pass needs."""
    inputs = x
    cache = []
    last = len(spec.units) - 1
    for index, ((w, b), units) in enumerate(zip(layers, spec.units, strict=True)):
        outputs = tf.raw_ops.BlockLSTMV2(
            **_block_arguments(tf, inputs, w, b, units),
            cell_clip=0.0,  # 0: no clipping
        )
        cache.append((inputs, outputs))
        hs = outputs[6]  # i, cs, f, o, ci, co, h
        inputs = hs if index < last else hs[-1]
        if masks[index] is not None:
            inputs = inputs * masks[index]
    return tf.matmul(inputs, dense[0]) + dense[1], (cache, inputs)


def _loss_and_gradient(tf, loss: str, predictions, y, sample_weight, count):
    """Loss summed over the weighted rows / count, and its gradient for the predictions."""
    error = predictions - y
    if loss == "mse":
        per_row, d_per_row = error * error, 2.0 * error
    elif loss == "mae":
        per_row, d_per_row = tf.abs(error), tf.sign(error)
    else:  # huber, delta 1 as in Keras
        absolute = tf.abs(error)
        per_row = tf.where(absolute <= 1.0, 0.5 * error * error, absolute - 0.5)
        d_per_row = tf.clip_by_value(error, -1.0, 1.0)
    return (
        tf.reduce_sum(per_row * sample_weight) / count,
        d_per_row * sample_weight / count,
    )


def _gradients(tf, spec: Spec, layers, dense, x, y, sample_weight, count, masks):
    """Loss and gradients (fused layout) for time-major windows x (T, B, F); rows with sample
    weight 0 contribute nothing, and the loss is a sum over rows divided by `count`."""
    predictions, (cache, top) = _forward(tf, spec, layers, dense, x, masks)
    loss, d_predictions = _loss_and_gradient(tf, spec.loss, predictions, y, sample_weight, count)
    dense_grads = (
        tf.matmul(top, d_predictions, transpose_a=True),
        tf.reduce_sum(d_predictions, axis=0),
    )
    d_inputs = tf.matmul(d_predictions, dense[0], transpose_b=True)  # (B, H) of the top layer
    last = len(spec.units) - 1
    layer_grads = [None] * len(layers)
    for index in reversed(range(len(layers))):
        inputs, (i, cs, f, o, ci, co, h) = cache[index]
        (w, b), units = layers[index], spec.units[index]
        steps, batch = inputs.shape[0], inputs.shape[1]
        if masks[index] is not None:
            d_inputs = d_inputs * masks[index]
        if index == last:  # only the last hidden state reaches the output
            d_inputs = tf.concat([tf.zeros([steps - 1, batch, units]), d_inputs[None]], axis=0)
        x_grad, _, _, w_grad, _, _, _, b_grad = tf.raw_ops.BlockLSTMGradV2(
            **_block_arguments(tf, inputs, w, b, units),
            i=i,
            cs=cs,
            f=f,
            o=o,
            ci=ci,
            co=co,
            h=h,
            cs_grad=tf.zeros_like(cs),
            h_grad=d_inputs,
        )
        layer_grads[index] = (w_grad, b_grad)
        d_inputs = x_grad
    return loss, layer_grads, dense_grads


def _sharded_gradients(tf, spec: Spec, layers, dense, x, y, sample_weight, masks, shards: int):
    """_gradients of a batch cut into `shards` parts computed side by side, then added up.

    x: time-major (T, B, F); masks: one per layer (None = no dropout), time-major like x.
    """
    batch = x.shape[1]
    sizes = [batch // shards + (1 if s < batch % shards else 0) for s in range(shards)]
    count = tf.reduce_sum(sample_weight)
    last = len(spec.units) - 1
    shard_masks = [
        [None] * shards if mask is None else tf.split(mask, sizes, axis=0 if i == last else 1)
        for i, mask in enumerate(masks)
    ]
    parts = zip(
        tf.split(x, sizes, axis=1),
        tf.split(y, sizes),
        tf.split(sample_weight, sizes),
        zip(*shard_masks, strict=True),
        strict=True,
    )
    total_loss, total_layers, total_dense = 0.0, None, None
    for x_s, y_s, w_s, masks_s in parts:
        loss, layer_grads, dense_grads = _gradients(
            tf, spec, layers, dense, x_s, y_s, w_s, count, list(masks_s)
        )
        if total_layers is None:
            total_loss, total_layers, total_dense = loss, layer_grads, dense_grads
            continue
        total_loss += loss
        total_layers = [
            (a[0] + b[0], a[1] + b[1]) for a, b in zip(total_layers, layer_grads, strict=True)
        ]
        total_dense = tuple(a + b for a, b in zip(total_dense, dense_grads, strict=True))
    return total_loss, total_layers, total_dense


def _adam(tf, weights, moments, velocities, grads, iteration, learning_rate):
    """One Adam step exactly as keras.optimizers.Adam computes it."""
    beta_1, beta_2 = ADAM_BETAS
    step = iteration + 1.0
    alpha = learning_rate * tf.sqrt(1.0 - beta_2**step) / (1.0 - beta_1**step)
    new_weights, new_moments, new_velocities = [], [], []
    for weight, m, v, g in zip(weights, moments, velocities, grads, strict=True):
        m = m + (g - m) * (1.0 - beta_1)
        v = v + (g * g - v) * (1.0 - beta_2)
        new_weights.append(weight - (m * alpha) / (tf.sqrt(v) + ADAM_EPSILON))
        new_moments.append(m)
        new_velocities.append(v)
    return tuple(new_weights), tuple(new_moments), tuple(new_velocities), step


def default_shards(batch_size: int) -> int:
    """One shard per core, each of at least 8 rows."""
    return max(1, min(os.cpu_count() or 1, batch_size // 8))


# ---------------------------------------------------------------------------------------------
# Graph functions and the training loop


def _flatten(layers, dense):
    return tuple(t for pair in layers for t in pair) + tuple(dense)


def _unflatten(flat):
    flat = list(flat)
    return [tuple(flat[i : i + 2]) for i in range(0, len(flat) - 2, 2)], tuple(flat[-2:])


class FastLSTM:
    """Graph functions for one Spec and batch size. `predict`, `loss_sum` and `gradients` take
    Keras-order weights and batch-major windows (B, T, F); `epoch` carries the fused layout."""

    def __init__(self, spec: Spec, batch_size: int, learning_rate: float, shards: int = 0):
        tf = self.tf = _tf()
        self.spec = spec
        shards = shards or default_shards(batch_size)
        no_masks = [None] * len(spec.units)

        def time_major(x):
            return tf.transpose(x, [1, 0, 2])

        def predict(weights, x):
            layers, *dense = _block_weights(tf, spec, list(weights))
            return _forward(tf, spec, layers, dense, time_major(x), no_masks)[0]

        def loss_sum(flat, x, y):
            layers, dense = _unflatten(flat)
            predictions = _forward(tf, spec, layers, dense, time_major(x), no_masks)[0]
            return _loss_and_gradient(tf, spec.loss, predictions, y, tf.ones_like(y), 1.0)[0]

        def gradients(weights, x, y, sample_weight, keep):
            """Loss and Keras-order gradients of one batch; keep: its masks (draw_masks's order,
            without the leading batches axis), () for no dropout."""
            layers, *dense = _block_weights(tf, spec, list(weights))
            masks = _scaled_masks(tf, spec, keep) if keep else no_masks
            loss, layer_grads, dense_grads = _sharded_gradients(
                tf, spec, layers, dense, time_major(x), y, sample_weight, masks, shards
            )
            widths = [x.shape[-1], *spec.units[:-1]]
            return loss, _keras_order(layer_grads, dense_grads, widths)

        def epoch(flat, moments, velocities, iteration, x, y, order, row_weight, keep):
            """Train on the batches `order` (batches, B) of rows of x: time-major (T, N, F), so
            that a batch is gathered along axis 1. row_weight (batches, B, 1): 0 for padding.
            keep: draw_masks for these batches. Returns the new state and the summed loss."""

            def body(k, flat, moments, velocities, iteration, total):
                picked, w = order[k], row_weight[k]
                layers, dense = _unflatten(flat)
                masks = _scaled_masks(tf, spec, [mask[k] for mask in keep])
                loss, layer_grads, dense_grads = _sharded_gradients(
                    tf,
                    spec,
                    layers,
                    dense,
                    tf.gather(x, picked, axis=1),
                    tf.gather(y, picked),
                    w,
                    masks,
                    shards,
                )
                flat, moments, velocities, iteration = _adam(
                    tf,
                    flat,
                    moments,
                    velocities,
                    _flatten(layer_grads, dense_grads),
                    iteration,
                    learning_rate,
                )
                return k + 1, flat, moments, velocities, iteration, total + loss * tf.reduce_sum(w)

            state = (0, flat, moments, velocities, iteration, tf.constant(0.0))
            _, flat, moments, velocities, iteration, total = tf.while_loop(
                lambda k, *_: k < tf.shape(order)[0], body, state
            )
            return flat, moments, velocities, iteration, total

        self.predict = tf.function(predict, autograph=False)
        self.loss_sum = tf.function(loss_sum, autograph=False)
        self.gradients = tf.function(gradients, autograph=False)
        self.epoch = tf.function(epoch, autograph=False)

    def to_fused(self, weights):
        """Keras-order weights -> the flat fused-layout tuple that `epoch` carries."""
        layers, *dense = _block_weights(self.tf, self.spec, [self.tf.constant(w) for w in weights])
        return _flatten(layers, dense)

    def to_keras(self, flat, n_features: int) -> list[np.ndarray]:
        """The inverse of to_fused, as numpy arrays."""
        layers, dense = _unflatten(flat)
        widths = [n_features, *self.spec.units[:-1]]
        weights = _keras_order(layers, dense, widths)
        return [np.asarray(w) for w in weights]


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
    net = FastLSTM(spec, batch_size, learning_rate, shards=shards)
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
