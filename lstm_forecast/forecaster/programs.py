"""Compiled TensorFlow programs of a model, shared by every model of one architecture.

A program takes the model's weights as arguments (a Keras StatelessScope maps each variable the
traced layers read to one of them), so a process traces and compiles it once per architecture
and shape, not once per model: a backtest's fresh refits, a league's series, a tune study's
trials of one shape and a notebook's Forecasters reuse one another's programs. The numbers are
the ones a program of the model's own gives (tests/forecaster/test_programs.py).
"""

from __future__ import annotations

import collections
import json
import threading

from lstm_forecast.errors import ConfigError
from lstm_forecast.prep.scaling import apply_scaling, undo_scaling


def _stack_layers(model) -> list:
    """The model's layers after its input, checked to form a single chain (as build_model makes)."""
    layers = [layer for layer in model.layers if layer.__class__.__name__ != "InputLayer"]
    for layer in layers:
        if len(layer._inbound_nodes) != 1:  # noqa: SLF001 - keras keeps no public accessor
            raise ConfigError(f"layer {layer.name} is used more than once; not a stacked model")
    return layers


def _dropout_masks(layers, batch: int, steps: int, seed):
    """Keep-masks (already divided by 1 - rate) for every Dropout layer and step, drawn at once.

    Returns {layer index: (steps, batch, *layer output shape)}. One large stateless draw is much
    faster under XLA than a small draw per step inside the loop.
    """
    import tensorflow as tf

    masks = {}
    for index, layer in enumerate(layers):
        if layer.__class__.__name__ == "Dropout" and layer.rate > 0:
            shape = (steps, batch, *layer.output.shape[1:])
            layer_seed = seed + tf.constant([0, index], tf.int32)  # (seed, chunk * 64 + index)
            uniform = tf.random.stateless_uniform(shape, seed=layer_seed, alg="threefry")
            masks[index] = tf.where(uniform >= layer.rate, 1.0 / (1.0 - layer.rate), 0.0)
    return masks


def _forward(layers, window, masks, step):
    """One pass of the model over `window` (batch, length, features) -> (batch, 1).

    A Dropout layer multiplies by its mask for this step when `masks` has one, else passes through
    (inference mode: no masks at all).
    """
    x = window
    for index, layer in enumerate(layers):
        if layer.__class__.__name__ == "Dropout":
            if index in masks:
                x = x * masks[index][step]
        else:
            x = layer(x, training=False)
    return x


def _paths(
    layers, start, capacity: int, steps, seed, dropout: bool, constants, target_normalized: bool
):
    """Feed each step's output back into the window, in the model's units.

    start: (batch, length, columns) unscaled model-space values (the target first). Each step
    normalises the window (when asked), scales it, runs the model, turns the output back into
    model space, and appends a row: the new target value and the other columns held at their
    last value ([forecast] exogenous = "hold"). Returns the target values (batch, capacity):
    `steps` (at most `capacity`, a tensor) computed, the rest zeros. The dropout masks are
    drawn for `capacity` steps.
    """
    import tensorflow as tf

    multiplier, offset, normalized = constants  # (columns,) each, the run's MinMax scaling
    masks = _dropout_masks(layers, start.shape[0], capacity, seed) if dropout else {}
    outputs = tf.TensorArray(tf.float32, size=capacity, element_shape=start.shape[:1])
    window = start
    for step in tf.range(steps):
        last = window[:, -1:, :]  # (batch, 1, columns)
        divisor = tf.where(normalized, last, tf.ones_like(last))
        scaled = apply_scaling(window / divisor, multiplier, offset)
        value = _forward(layers, scaled, masks, step)  # (batch, 1)
        target = undo_scaling(value, multiplier[0], offset[0])
        if target_normalized:
            target = target * last[:, :, 0]
        new_row = tf.concat([target, last[:, 0, 1:]], axis=-1)  # (batch, columns)
        outputs = outputs.write(step, target[:, 0])
        window = tf.concat([window[:, 1:, :], new_row[:, tf.newaxis, :]], axis=1)
    return tf.transpose(outputs.stack())


def compiled_paths(model, dropout: bool, target_normalized: bool):
    """The XLA-compiled horizon loop of a model, f(start, steps, seed, constants) -> (batch,
    steps). It compiles once per (architecture, batch, capacity) in a process: without dropout
    the capacity is `steps` rounded up to a power of two (at least 8) and the loop runs `steps`
    times, so forecasts of other lengths share a program; with dropout it is `steps`, whose
    masks are drawn for exactly that many steps (the numbers a seed gives stay the same)."""

    def loop(template):
        layers = _stack_layers(template)
        return lambda start, capacity, steps, seed, constants: _paths(
            layers, start, capacity, steps, seed, dropout, constants, target_normalized
        )

    program = _shared(model, ("paths", dropout, target_normalized), loop, jit_compile=True)

    def run(start, steps: int, seed, constants):
        import tensorflow as tf

        capacity = int(steps) if dropout else max(8, 1 << (int(steps) - 1).bit_length())
        paths = program(start, capacity, tf.constant(steps, tf.int32), seed, constants)
        return paths[:, :steps]

    return run


def compiled_outputs(model):
    """f(windows) -> (windows, 1): the model's outputs with dropout off, Keras's predict_on_batch
    without a trace per model (graph mode, as Keras runs it; any number of windows)."""
    return _shared(
        model,
        ("outputs",),
        lambda template: lambda x: template(x, training=False),
        reduce_retracing=True,
    )


MAX_PROGRAMS = 16  # the latest programs kept, by (kind, architecture)
_PROGRAMS: collections.OrderedDict = collections.OrderedDict()
_PROGRAMS_LOCK = threading.Lock()


def _shared(model, kind: tuple, make, **options):
    """`model`'s program of this kind: the tf.function that the first model of its architecture
    made (make(template) is what it computes), called with `model`'s weights."""
    key = (kind, _architecture(model))
    with _PROGRAMS_LOCK:
        if key not in _PROGRAMS:
            _PROGRAMS[key] = _with_weights_as_arguments(model, make(model), options)
            if len(_PROGRAMS) > MAX_PROGRAMS:
                _PROGRAMS.popitem(last=False)
        _PROGRAMS.move_to_end(key)
        program = _PROGRAMS[key]
    import tensorflow as tf

    variables = model.variables
    # the weights' values as tensors: a tf.Variable argument would trace anew for every model
    return lambda *arguments: program([tf.convert_to_tensor(v) for v in variables], *arguments)


def _with_weights_as_arguments(template, function, options):
    """tf.function(function) whose first argument holds a value for each of `template`'s
    variables, in order: every variable the trace reads is read from it, none is captured."""
    import keras
    import tensorflow as tf

    variables = list(template.variables)

    def traced(weights, *arguments):
        with keras.StatelessScope(state_mapping=list(zip(variables, weights, strict=True))):
            return function(*arguments)

    return tf.function(traced, **options)


def _architecture(model) -> str:
    """What a traced program depends on: every layer's class and configuration but its name, and
    every variable's shape and dtype."""
    layers = [(type(layer).__name__, _unnamed(layer.get_config())) for layer in model.layers]
    variables = [(tuple(v.shape), str(v.dtype)) for v in model.variables]
    return json.dumps([layers, variables], sort_keys=True, default=str)


def _unnamed(config):
    """A layer's configuration without the names of the layers in it (the layer's own, and a
    recurrent layer's cell's, numbered per process); a dtype policy's name stays."""
    if isinstance(config, dict):
        return {
            key: _unnamed(value)
            for key, value in config.items()
            if not (key == "name" and "trainable" in config)
        }
    if isinstance(config, list | tuple):
        return [_unnamed(value) for value in config]
    return config
