"""Models of one architecture share their compiled programs, each with its own weights' numbers."""

import numpy as np
import pytest
import tensorflow as tf

from lstm_forecast.config.schema import CELLS, LayerConfig, ModelConfig
from lstm_forecast.forecaster import programs
from lstm_forecast.model.build import build_model, keras

LENGTH = 4
CONSTANTS = (
    tf.constant([0.5], tf.float32),
    tf.constant([0.1], tf.float32),
    tf.constant([True]),
)
SEED = tf.constant([3, 0], tf.int32)


def model(seed: int, units: int = 3, dropout: float = 0.2):
    keras.utils.set_random_seed(seed)
    layers = (LayerConfig(units=units, dropout=dropout), LayerConfig(units=2, dropout=0.0))
    return build_model(ModelConfig(layers=layers), LENGTH)


def own_program(fitted, dropout: bool):
    """The loop traced on the model's own layers and variables (as compiled_paths was before)."""
    layers = programs._stack_layers(fitted)
    return tf.function(
        lambda start, steps, seed, constants: programs._paths(
            layers, start, steps, steps, seed, dropout, constants, True
        ),
        jit_compile=True,
    )


@pytest.fixture
def traces(monkeypatch):
    """How many times the paths loop is traced from here on."""
    count = []
    loop = programs._paths
    monkeypatch.setattr(programs, "_paths", lambda *a: count.append(1) or loop(*a))
    monkeypatch.setattr(programs, "_PROGRAMS", type(programs._PROGRAMS)())
    return count


@pytest.mark.parametrize("dropout", [False, True])
def test_models_of_one_architecture_share_one_trace_and_keep_their_own_numbers(traces, dropout):
    start = tf.constant(np.random.default_rng(0).uniform(0.9, 1.1, (7, LENGTH, 1)), tf.float32)
    first, second, other = model(0), model(1), model(2, units=5)
    got = [
        programs.compiled_paths(m, dropout, True)(start, 3, SEED, CONSTANTS)
        for m in (first, second)
    ]
    assert len(traces) == 1  # the second model reused the first one's program
    programs.compiled_paths(other, dropout, True)(start, 3, SEED, CONSTANTS)
    assert len(traces) == 2  # another architecture: a program of its own
    for fitted, paths in zip((first, second), got, strict=True):
        expected = own_program(fitted, dropout)(start, 3, SEED, CONSTANTS)
        np.testing.assert_array_equal(paths.numpy(), expected.numpy())
    assert not np.allclose(got[0].numpy(), got[1].numpy())  # not one model's weights twice


def test_a_trace_made_with_another_models_weights_runs_on_each_models_own(traces):
    start = tf.constant(np.random.default_rng(2).uniform(0.9, 1.1, (3, LENGTH, 1)), tf.float32)
    first, second = model(0), model(1)
    programs.compiled_paths(first, False, True)(start, 2, SEED, CONSTANTS)  # traced on first
    # 9 steps, past the first trace's 8: traced while second's weights are the arguments
    got = [
        programs.compiled_paths(m, False, True)(start, 9, SEED, CONSTANTS) for m in (second, first)
    ]
    assert len(traces) == 2
    for fitted, paths in zip((second, first), got, strict=True):
        expected = own_program(fitted, False)(start, 9, SEED, CONSTANTS)
        np.testing.assert_array_equal(paths.numpy(), expected.numpy())


def test_paths_without_dropout_of_other_lengths_share_a_program(traces):
    fitted = model(0)
    start = tf.constant(np.random.default_rng(3).uniform(0.9, 1.1, (2, LENGTH, 1)), tf.float32)
    got = {
        steps: programs.compiled_paths(fitted, False, True)(start, steps, SEED, CONSTANTS)
        for steps in (1, 5, 8)
    }
    assert len(traces) == 1
    for steps, paths in got.items():
        assert paths.shape == (2, steps)
        expected = own_program(fitted, False)(start, steps, SEED, CONSTANTS)
        np.testing.assert_array_equal(paths.numpy(), expected.numpy())


def test_a_model_trained_after_its_program_was_traced_runs_with_its_new_weights(traces):
    fitted = model(0)
    start = tf.ones((2, LENGTH, 1), tf.float32)
    program = programs.compiled_paths(fitted, False, True)
    before = program(start, 2, SEED, CONSTANTS).numpy()
    for variable in fitted.trainable_variables:
        variable.assign(variable * 0.5)
    after = program(start, 2, SEED, CONSTANTS).numpy()
    np.testing.assert_array_equal(after, own_program(fitted, False)(start, 2, SEED, CONSTANTS))
    assert not np.allclose(before, after)


def test_compiled_outputs_are_keras_predictions_for_any_number_of_windows():
    windows = np.random.default_rng(1).uniform(0, 1, (9, LENGTH, 1)).astype(np.float32)
    for seed in (0, 1):
        fitted = model(seed)
        outputs = programs.compiled_outputs(fitted)
        for rows in (9, 4, 1):
            np.testing.assert_allclose(
                outputs(tf.constant(windows[:rows])).numpy(),
                fitted.predict_on_batch(windows[:rows]),
                rtol=1e-6,
                atol=1e-7,
            )


@pytest.mark.parametrize("cell", CELLS)
def test_fresh_models_of_every_cell_have_one_architecture_and_other_shapes_another(cell):
    def built(dropout: float = 0.2, length: int = LENGTH):
        layers = (LayerConfig(units=3, dropout=dropout), LayerConfig(units=2, dropout=0.0))
        return build_model(ModelConfig(cell=cell, layers=layers), length)

    key = programs._architecture(built())
    assert programs._architecture(built()) == key  # the cells' numbered names are left out
    assert programs._architecture(built(dropout=0.3)) != key
    assert programs._architecture(built(length=LENGTH + 1)) != key
