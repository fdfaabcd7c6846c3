"""The graph of the fast trainer (lstm_forecast.model.fast): stacked plain-LSTM forward and backward
passes on TensorFlow's fused `BlockLSTMV2` / `BlockLSTMGradV2` kernels, dropout, the loss, Adam,
and one `tf.function` per epoch. Everything here is the same math as Keras's layers and optimizer;
tests/test_fast.py checks each piece against Keras.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

# Keras's Adam defaults (keras.optimizers.Adam): beta_1, beta_2, epsilon.
ADAM_BETAS = (0.9, 0.999)
ADAM_EPSILON = 1e-7


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
    from lstm_forecast.model.backend import import_tensorflow

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
    (T, B, D) from zero state, without peephole connections. Dynamic shapes: B is left open in
    the traces that serve fits of different sizes."""
    shape = tf.shape(inputs)
    zeros = tf.zeros(tf.stack([shape[1], units]))
    no_peephole = tf.zeros([units])
    return dict(
        seq_len_max=tf.cast(shape[0], tf.int64),
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
        steps, batch = tf.shape(inputs)[0], tf.shape(inputs)[1]
        if masks[index] is not None:
            d_inputs = d_inputs * masks[index]
        if index == last:  # only the last hidden state reaches the output
            padding = tf.zeros(tf.stack([steps - 1, batch, units]))
            d_inputs = tf.concat([padding, d_inputs[None]], axis=0)
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
    from lstm_forecast.model.backend import available_cores

    return max(1, min(available_cores(), batch_size // 8))


# ---------------------------------------------------------------------------------------------
# Graph functions and the training loop


def _flatten(layers, dense):
    return tuple(t for pair in layers for t in pair) + tuple(dense)


def _unflatten(flat):
    flat = list(flat)
    return [tuple(flat[i : i + 2]) for i in range(0, len(flat) - 2, 2)], tuple(flat[-2:])


@functools.lru_cache(maxsize=4)
def network(spec: Spec, batch_size: int, learning_rate: float, shards: int = 0) -> FastLSTM:
    """The graph functions for this shape, traced once and shared by every fit that has it."""
    return FastLSTM(spec, batch_size, learning_rate, shards)


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
        self.gradients = tf.function(gradients, autograph=False)  # shards need a static batch
        # the windows' count changes from fit to fit (walk-forward folds): after a second count,
        # one trace with that axis left open serves them all
        self.loss_sum = tf.function(loss_sum, autograph=False, reduce_retracing=True)
        self.epoch = tf.function(epoch, autograph=False, reduce_retracing=True)

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
