"""Each cell against a NumPy transcription of its equations (lstm_forecast/cells.py docstring)."""

import os
import subprocess
import sys

import numpy as np
import pytest
from conftest import ROOT

from lstm_forecast.config.schema import CELLS, LayerConfig, ModelConfig
from lstm_forecast.model.build import build_model
from lstm_forecast.model.cells import CIFGLSTMCell, PeepholeLSTMCell, keras

INPUTS, UNITS, BATCH, STEPS = 3, 5, 4, 7
ATOL = 1e-5  # float32 arithmetic in Keras against float64 in NumPy


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def numpy_step(kind, weights, x, h, c=None):
    """One step of each variant, written from the equations. Returns (h, c); c None for GRU."""
    if kind == "gru":  # Keras GRU, reset_after=True: gate order z, r, h
        kernel, recurrent, bias = weights
        x_z, x_r, x_h = np.split(x @ kernel + bias[0], 3, axis=-1)
        h_z, h_r, h_h = np.split(h @ recurrent + bias[1], 3, axis=-1)
        update, reset = sigmoid(x_z + h_z), sigmoid(x_r + h_r)
        candidate = np.tanh(x_h + reset * h_h)
        return update * h + (1 - update) * candidate, None
    kernel, recurrent, bias = weights[:3]
    z = x @ kernel + h @ recurrent + bias
    if kind == "cifg":
        z_f, z_c, z_o = np.split(z, 3, axis=-1)
        forget = sigmoid(z_f)
        c_new = forget * c + (1 - forget) * np.tanh(z_c)
        return sigmoid(z_o) * np.tanh(c_new), c_new
    z_i, z_f, z_c, z_o = np.split(z, 4, axis=-1)
    p_i, p_f, p_o = weights[3:] if kind == "peephole" else (0, 0, 0)
    input_gate = sigmoid(z_i + p_i * c)
    forget = sigmoid(z_f + p_f * c)
    c_new = forget * c + input_gate * np.tanh(z_c)
    return sigmoid(z_o + p_o * c_new) * np.tanh(c_new), c_new


def make_cell(kind):
    keras.utils.set_random_seed(0)
    cell = {
        "lstm": keras.layers.LSTMCell,
        "peephole": PeepholeLSTMCell,
        "cifg": CIFGLSTMCell,
        "gru": keras.layers.GRUCell,
    }[kind](UNITS)
    cell.build((BATCH, INPUTS))
    # random weights everywhere (biases and peepholes too), so no term can hide behind a zero
    generator = np.random.default_rng(1)
    for variable in cell.weights:
        variable.assign(generator.normal(0, 0.5, variable.shape).astype(np.float32))
    return cell


def random_inputs(*shape, seed=2):
    return np.random.default_rng(seed).normal(0, 1, shape).astype(np.float32)


@pytest.mark.parametrize("kind", CELLS)
def test_one_step_equals_the_equations(kind):
    cell = make_cell(kind)
    weights = [w.numpy().astype(np.float64) for w in cell.weights]
    x, h, c = (
        random_inputs(BATCH, INPUTS),
        random_inputs(BATCH, UNITS, seed=3),
        random_inputs(BATCH, UNITS, seed=4),
    )
    states = [h] if kind == "gru" else [h, c]
    output, new_states = cell(x, states)
    expected_h, expected_c = numpy_step(kind, weights, x, h, c)
    np.testing.assert_allclose(np.asarray(output), expected_h, atol=ATOL)
    if kind != "gru":
        np.testing.assert_allclose(np.asarray(new_states[1]), expected_c, atol=ATOL)


@pytest.mark.parametrize("kind", CELLS)
def test_a_sequence_equals_stepping_by_hand(kind):
    cell = make_cell(kind)
    weights = [w.numpy().astype(np.float64) for w in cell.weights]
    layer = keras.layers.RNN(cell, return_sequences=True)
    sequence = random_inputs(BATCH, STEPS, INPUTS)
    outputs = np.asarray(layer(sequence))  # (batch, steps, units), zero initial state
    h, c = np.zeros((BATCH, UNITS)), np.zeros((BATCH, UNITS))
    for step in range(STEPS):
        h, c = numpy_step(kind, weights, sequence[:, step], h, c)
        np.testing.assert_allclose(outputs[:, step], h, atol=ATOL)


def test_peephole_with_zero_peepholes_is_the_plain_lstm():
    peephole, plain = make_cell("peephole"), make_cell("lstm")
    for name in ("kernel", "recurrent_kernel", "bias"):
        getattr(peephole, name).assign(getattr(plain, name))
    for name in ("input_peephole", "forget_peephole", "output_peephole"):
        getattr(peephole, name).assign(np.zeros(UNITS, np.float32))
    sequence = random_inputs(BATCH, STEPS, INPUTS)
    np.testing.assert_allclose(
        np.asarray(keras.layers.RNN(peephole)(sequence)),
        np.asarray(keras.layers.RNN(plain)(sequence)),
        atol=1e-6,
    )
    # ... and nonzero peepholes do change the output (the comparison can fail)
    peephole.forget_peephole.assign(np.ones(UNITS, np.float32))
    assert not np.allclose(
        np.asarray(keras.layers.RNN(peephole)(sequence)),
        np.asarray(keras.layers.RNN(plain)(sequence)),
    )


def test_parameter_counts_follow_the_equations():
    u, n = UNITS, INPUTS
    lstm = 4 * (u * n + u * u + u)  # four gates: input weights, recurrent weights, bias
    assert make_cell("lstm").count_params() == lstm
    assert make_cell("peephole").count_params() == lstm + 3 * u  # three diagonal peepholes
    assert make_cell("cifg").count_params() == 3 * (u * n + u * u + u)  # no input-gate weights
    assert make_cell("gru").count_params() == 3 * (u * n + u * u + 2 * u)  # reset_after: 2 biases


def test_cifg_forget_bias_starts_at_one():
    keras.utils.set_random_seed(0)
    cell = CIFGLSTMCell(UNITS)
    cell.build((BATCH, INPUTS))
    np.testing.assert_array_equal(cell.bias.numpy(), [1.0] * UNITS + [0.0] * 2 * UNITS)


def test_cells_refuse_dropout_inside_the_cell():
    with pytest.raises(ValueError, match="supports no dropout"):
        PeepholeLSTMCell(4, dropout=0.1)


def model_of(cell: str, per_layer: str = ""):
    keras.utils.set_random_seed(0)
    layers = (LayerConfig(units=4, dropout=0.1, cell=per_layer), LayerConfig(units=3, dropout=0.0))
    return build_model(ModelConfig(cell=cell, layers=layers), window_length=6)


@pytest.mark.parametrize("kind", CELLS)
def test_save_and_load_give_identical_predictions(kind, tmp_path):
    model = model_of(kind)
    windows = random_inputs(5, 6, 1)
    model.save(tmp_path / "model.keras")
    reloaded = keras.saving.load_model(tmp_path / "model.keras")
    np.testing.assert_array_equal(
        model.predict(windows, verbose=0), reloaded.predict(windows, verbose=0)
    )
    assert reloaded.layers[1].name == f"{kind}_1"


def test_a_layer_can_override_the_models_cell():
    model = model_of("gru", per_layer="peephole")
    kinds = [layer.name for layer in model.layers if "dropout" not in layer.name]
    assert kinds == ["window", "peephole_1", "gru_2", "next_value"]
    assert isinstance(model.get_layer("peephole_1").cell, PeepholeLSTMCell)


JAX_CHECK = """
import numpy as np, keras
from lstm_forecast.config.load import CELLS, LayerConfig, ModelConfig
from lstm_forecast.model.build import build_model
assert keras.backend.backend() == "jax"
for kind in CELLS:
    keras.utils.set_random_seed(0)
    model = build_model(ModelConfig(cell=kind, layers=(LayerConfig(4, 0.1), LayerConfig(3, 0.0))), 6)
    x = np.random.default_rng(0).normal(size=(5, 6, 1)).astype("float32")
    model.save(f"{kind}.keras")
    again = keras.saving.load_model(f"{kind}.keras")
    assert np.allclose(model.predict(x, verbose=0), again.predict(x, verbose=0)), kind
print("ok")
"""


def test_cells_build_save_and_load_on_jax(tmp_path):
    pytest.importorskip("jax")
    environment = {**os.environ, "KERAS_BACKEND": "jax"}
    root = ROOT
    environment["PYTHONPATH"] = str(root)
    result = subprocess.run(
        [sys.executable, "-c", JAX_CHECK],
        cwd=tmp_path, env=environment, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0 and "ok" in result.stdout, result.stderr[-2000:]
