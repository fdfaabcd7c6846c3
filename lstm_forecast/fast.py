"""Fast training of stacked plain-LSTM models: a whole epoch in one XLA-compiled call.

Keras trains an LSTM step by step through ~15 small operations per time step and layer, forward and
backward, and on a CPU that per-operation overhead, not arithmetic, is most of the cost. This module
trains the same model (the same weights, the same math: LSTM cells as Keras computes them, Dropout
after each layer, Dense(1), Adam, MSE/MAE/Huber) with:

- each layer's input projection `x @ W + b` hoisted out of the time loop into one matrix product,
- a hand-written backward pass through time (one small matrix product per step; the weight gradients
  in one product over all steps afterwards),
- the per-step inputs of the time loops carried as loop state (so XLA does not fuse a dynamic slice
  into the gate arithmetic, which stops it from vectorising),
- all batches of an epoch, their Adam updates included, inside one `tf.function(jit_compile=True)`;
  a short last batch is padded with zero-weight rows so that every batch has one shape.

The trained weights are written back into the Keras model, so everything downstream (predict,
forecast, the saved run) is unchanged. Only the random streams differ from Keras's: window order
and dropout masks come from `seed`, so numbers match Keras only where no randomness is involved
(tests/test_fast.py checks predictions, gradients, Adam steps and whole epochs without dropout or
shuffling against Keras).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

LOSSES = ("mse", "mae", "huber")

# Keras's Adam defaults (keras.optimizers.Adam): beta_1, beta_2, epsilon.
ADAM_BETAS = (0.9, 0.999)
ADAM_EPSILON = 1e-7


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
# The math, as plain functions of tensors (traced inside the compiled epoch)


def _layer_forward(tf, xw, kernel_r):
    """One LSTM layer over time. xw: (T, B, 4H) = inputs @ kernel + bias, time-major.

    Returns the hidden states (T, B, H) and, per step, the gate activations and the cell state
    (T, B, 5H) that the backward pass needs.
    """
    steps, batch = xw.shape[0], xw.shape[1]
    units = kernel_r.shape[0]
    hs = tf.TensorArray(tf.float32, steps)
    records = tf.TensorArray(tf.float32, steps)

    def body(t, h, c, x_t, record, hs, records):
        # write the previous step's outputs first: a write fused with the gate arithmetic below
        # would stop XLA from vectorising it
        hs = hs.write(tf.maximum(t - 1, 0), h)
        records = records.write(tf.maximum(t - 1, 0), record)
        z = x_t + tf.matmul(h, kernel_r)
        # the next step's input, sliced here so that the slice is its own operation
        x_t = xw[tf.minimum(t + 1, steps - 1)]
        i = tf.sigmoid(z[:, :units])
        f = tf.sigmoid(z[:, units : 2 * units])
        g = tf.tanh(z[:, 2 * units : 3 * units])
        o = tf.sigmoid(z[:, 3 * units :])
        c = f * c + i * g
        h = o * tf.tanh(c)
        return t + 1, h, c, x_t, tf.concat([i, f, g, o, c], axis=1), hs, records

    zeros = tf.zeros([batch, units])
    state = (0, zeros, zeros, xw[0], tf.zeros([batch, 5 * units]), hs, records)
    _, h, _, _, record, hs, records = tf.while_loop(lambda t, *_: t < steps, body, state)
    hs = hs.write(steps - 1, h)
    records = records.write(steps - 1, record)
    return hs.stack(), records.stack()


def _layer_backward(tf, d_hs, records, kernel_r):
    """Backpropagation through time for one layer.

    d_hs: (T, B, H), the loss gradient with respect to each hidden state from above.
    Returns dz (T, B, 4H), the gradient with respect to the gate pre-activations.
    """
    steps, batch = d_hs.shape[0], d_hs.shape[1]
    units = kernel_r.shape[0]
    previous_c = tf.concat([tf.zeros([1, batch, units]), records[:-1, :, 4 * units :]], axis=0)
    per_step = tf.concat([records, previous_c, d_hs], axis=2)  # (T, B, 7H)
    kernel_r_t = tf.transpose(kernel_r)
    dzs = tf.TensorArray(tf.float32, steps)

    def body(k, dh_next, dc_next, row, dz, dzs):
        t = steps - 1 - k
        dzs = dzs.write(tf.minimum(t + 1, steps - 1), dz)  # the previous step's (see above)
        following = per_step[tf.maximum(t - 1, 0)]
        i, f, g, o, c, c_prev, dh_above = tf.split(row, 7, axis=1)
        tanh_c = tf.tanh(c)
        dh = dh_above + dh_next
        dc = dc_next + dh * o * (1.0 - tanh_c * tanh_c)
        dz = tf.concat(
            [
                dc * g * i * (1.0 - i),
                dc * c_prev * f * (1.0 - f),
                dc * i * (1.0 - g * g),
                dh * tanh_c * o * (1.0 - o),
            ],
            axis=1,
        )
        return k + 1, tf.matmul(dz, kernel_r_t), dc * f, following, dz, dzs

    zeros = tf.zeros([batch, units])
    state = (0, zeros, zeros, per_step[steps - 1], tf.zeros([batch, 4 * units]), dzs)
    _, _, _, _, dz, dzs = tf.while_loop(lambda k, *_: k < steps, body, state)
    dzs = dzs.write(0, dz)
    return dzs.stack()


def _masks(tf, spec: Spec, steps: int, batch: int, seed):
    """Dropout masks (already scaled by 1 / (1 - rate)) for each layer's output; None = no dropout."""
    masks = []
    last = len(spec.units) - 1
    for index, (units, rate) in enumerate(zip(spec.units, spec.dropout, strict=True)):
        if rate <= 0:
            masks.append(None)
            continue
        shape = [steps, batch, units] if index < last else [batch, units]
        # seed = (epoch stream, batch): each layer of each batch draws its own masks
        layer_seed = seed * tf.constant([1, 64], seed.dtype) + tf.constant([0, index], seed.dtype)
        # Philox named, so the masks of a seed do not change with TensorFlow's automatic choice
        keep = tf.random.stateless_uniform(shape, seed=layer_seed, alg="philox") >= rate
        masks.append(tf.cast(keep, tf.float32) / (1.0 - rate))
    return masks


def _forward(tf, spec: Spec, weights, x, masks):
    """Predictions (B, 1) for windows x (B, T, F), and what the backward pass needs."""
    inputs = tf.transpose(x, [1, 0, 2])  # time-major (T, B, F)
    steps, batch = inputs.shape[0], inputs.shape[1]
    cache = []
    last = len(spec.units) - 1
    for index in range(len(spec.units)):
        kernel, kernel_r, bias = weights[3 * index : 3 * index + 3]
        width = inputs.shape[-1]
        xw = tf.reshape(
            tf.matmul(tf.reshape(inputs, [-1, width]), kernel) + bias, [steps, batch, -1]
        )
        hs, records = _layer_forward(tf, xw, kernel_r)
        cache.append((inputs, hs, records))
        inputs = hs if index < last else hs[-1]
        if masks[index] is not None:
            inputs = inputs * masks[index]
    dense_kernel, dense_bias = weights[-2:]
    return tf.matmul(inputs, dense_kernel) + dense_bias, (cache, inputs)


def _loss_and_gradient(tf, loss: str, predictions, y, sample_weight):
    """Mean loss over the weighted rows, and its gradient with respect to the predictions."""
    error = predictions - y
    count = tf.reduce_sum(sample_weight)
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


def _gradients(tf, spec: Spec, weights, x, y, sample_weight, masks):
    """Loss and gradients for one batch (rows with sample_weight 0 contribute nothing)."""
    predictions, (cache, top) = _forward(tf, spec, weights, x, masks)
    loss, d_predictions = _loss_and_gradient(tf, spec.loss, predictions, y, sample_weight)
    grads = [None] * len(weights)
    grads[-2] = tf.matmul(top, d_predictions, transpose_a=True)
    grads[-1] = tf.reduce_sum(d_predictions, axis=0)
    d_inputs = tf.matmul(d_predictions, weights[-2], transpose_b=True)  # (B, H) of the top layer
    last = len(spec.units) - 1
    for index in reversed(range(len(spec.units))):
        inputs, hs, records = cache[index]
        kernel, kernel_r, _ = weights[3 * index : 3 * index + 3]
        steps, batch, width = inputs.shape
        units = spec.units[index]
        if masks[index] is not None:
            d_inputs = d_inputs * masks[index]
        if index == last:  # only the last hidden state reaches the output
            d_hs = tf.concat([tf.zeros([steps - 1, batch, units]), d_inputs[None]], axis=0)
        else:
            d_hs = d_inputs
        dz = tf.reshape(_layer_backward(tf, d_hs, records, kernel_r), [steps * batch, 4 * units])
        previous_h = tf.concat([tf.zeros([1, batch, units]), hs[:-1]], axis=0)
        grads[3 * index] = tf.matmul(tf.reshape(inputs, [-1, width]), dz, transpose_a=True)
        grads[3 * index + 1] = tf.matmul(tf.reshape(previous_h, [-1, units]), dz, transpose_a=True)
        grads[3 * index + 2] = tf.reduce_sum(dz, axis=0)
        if index > 0:
            d_inputs = tf.reshape(tf.matmul(dz, kernel, transpose_b=True), [steps, batch, width])
    return loss, grads


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


# ---------------------------------------------------------------------------------------------
# Compiled functions and the training loop


class FastLSTM:
    """Compiled forward, gradient and whole-epoch functions for one Spec and batch size."""

    def __init__(self, spec: Spec, batch_size: int, learning_rate: float, jit_compile: bool = True):
        tf = self.tf = _tf()
        self.spec = spec
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        no_masks = [None] * len(spec.units)

        def predict(weights, x):
            return _forward(tf, spec, list(weights), x, no_masks)[0]

        def loss_sum(weights, x, y):
            predictions = _forward(tf, spec, list(weights), x, no_masks)[0]
            ones = tf.ones_like(y)
            return _loss_and_gradient(tf, spec.loss, predictions, y, ones)[0] * tf.cast(
                tf.shape(y)[0], tf.float32
            )

        def gradients(weights, x, y, sample_weight, seed):
            steps, batch = x.shape[1], x.shape[0]
            masks = _masks(tf, spec, steps, batch, seed) if seed is not None else no_masks
            return _gradients(tf, spec, list(weights), x, y, sample_weight, masks)

        def epoch(weights, moments, velocities, iteration, x, y, order, seed):
            """All batches of one epoch in `order`; returns the new state and the summed loss."""
            batch = batch_size
            rows = tf.shape(order)[0]
            n_batches = (rows + batch - 1) // batch
            padding = n_batches * batch - rows
            order = tf.reshape(tf.concat([order, tf.zeros([padding], tf.int32)], 0), [-1, batch])
            row_weight = tf.concat([tf.ones([rows]), tf.zeros([padding])], axis=0)
            row_weight = tf.reshape(row_weight, [-1, batch, 1])

            def body(k, weights, moments, velocities, iteration, total):
                picked, w = order[k], row_weight[k]
                masks = _masks(tf, spec, x.shape[1], batch, tf.stack([seed, k]))
                loss, grads = _gradients(
                    tf, spec, list(weights), tf.gather(x, picked), tf.gather(y, picked), w, masks
                )
                weights, moments, velocities, iteration = _adam(
                    tf, weights, moments, velocities, grads, iteration, learning_rate
                )
                return (
                    k + 1,
                    weights,
                    moments,
                    velocities,
                    iteration,
                    total + loss * tf.reduce_sum(w),
                )

            state = (0, weights, moments, velocities, iteration, tf.constant(0.0))
            _, weights, moments, velocities, iteration, total = tf.while_loop(
                lambda k, *_: k < n_batches, body, state
            )
            return weights, moments, velocities, iteration, total

        compile_ = dict(jit_compile=jit_compile, autograph=False)
        self.predict = tf.function(predict, **compile_)
        self.loss_sum = tf.function(loss_sum, **compile_)
        self.gradients = tf.function(gradients, **compile_)
        self.epoch = tf.function(epoch, **compile_)


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
    report: Callable[[str], object] | None = None,
) -> FastHistory:
    """Train from `weights` like keras.Model.fit(x, y, validation_split=..., EarlyStopping(...,
    restore_best_weights=True)) would: the newest `validation_fraction` of windows held out
    (Keras's split point), the rest shuffled each epoch, loss and val_loss per epoch as Keras
    averages them, and the best epoch's weights kept when patience > 0.
    """
    tf = _tf()
    x = np.asarray(x, dtype=np.float32)
    y = np.asarray(y, dtype=np.float32).reshape(-1, 1)
    n_train = len(x)
    if validation_fraction > 0:
        n_train = int(np.floor(len(x) * (1.0 - validation_fraction)))
    x_train, y_train = tf.constant(x[:n_train]), tf.constant(y[:n_train])
    x_val, y_val = tf.constant(x[n_train:]), tf.constant(y[n_train:])
    net = FastLSTM(spec, batch_size, learning_rate)
    state = tuple(tf.constant(w) for w in weights)
    moments = tuple(tf.zeros_like(w) for w in state)
    velocities = tuple(tf.zeros_like(w) for w in state)
    iteration = tf.constant(0.0)
    rng = np.random.default_rng(seed)
    monitor = "val_loss" if len(x_val) else "loss"
    best, best_weights, wait = np.inf, None, 0
    history = []
    for epoch in range(epochs):
        started = time.perf_counter()
        order = rng.permutation(n_train) if shuffle else np.arange(n_train)
        state, moments, velocities, iteration, total = net.epoch(
            state,
            moments,
            velocities,
            iteration,
            x_train,
            y_train,
            tf.constant(order, tf.int32),
            tf.constant(seed * 1_000_003 + epoch, tf.int32),
        )
        logs = {"loss": float(total) / n_train}
        if len(x_val):
            logs["val_loss"] = float(net.loss_sum(state, x_val, y_val)) / len(x_val)
        logs["seconds"] = time.perf_counter() - started
        history.append(logs)
        if report is not None:
            shown = "  ".join(f"{key} {value:.4g}" for key, value in logs.items())
            report(f"epoch {epoch + 1}/{epochs}  {shown}")
        if not np.isfinite(logs["loss"]):
            break
        if patience > 0:  # keras.callbacks.EarlyStopping(restore_best_weights=True)
            wait += 1
            if logs[monitor] < best:
                best, best_weights, wait = logs[monitor], [w.numpy() for w in state], 0
            elif wait >= patience and epoch > 0:
                break
    kept = best_weights if best_weights is not None else [w.numpy() for w in state]
    return FastHistory(history=history, weights=kept)
