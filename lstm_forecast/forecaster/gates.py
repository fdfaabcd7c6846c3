"""See inside the cell: gate and state traces of a trained model over one input window.

The traces are computed from the model's own weights with the arithmetic of the layers
(lstm_forecast/cells.py for the equations; Keras's LSTMCell and GRUCell for the plain cells),
in float64 NumPy, starting from zero states as the layers do. Per time step and unit:

    LSTM, peephole   input, forget, output gates, candidate g, cell state c, hidden state h
    CIFG             the same, with input = 1 - forget (recorded, so that it can be seen)
    GRU              update z, reset r, candidate, hidden state h = z * h(t-1) + (1 - z) * cand.

Every recurrent layer of the stack is traced: layer k's hidden sequence is layer k+1's input
(Dropout is the identity at inference). Nothing here reads or writes a file.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from lstm_forecast.errors import DataError

LSTM_GATES = ("forget", "input", "output", "candidate", "cell", "hidden")
GRU_GATES = ("update", "reset", "candidate", "hidden")
# the gate that keeps memory: the share of the old state carried into the new one
MEMORY_GATE = {"lstm": "forget", "peephole": "forget", "cifg": "forget", "gru": "update"}
TRACE_COLUMNS = ("layer", "cell", "step", "date", "unit", "gate", "value")


def _numpy_activation(function):
    """A Keras activation as a NumPy function (float64), by its registered name."""
    import keras

    name = keras.activations.serialize(function)
    name = name if isinstance(name, str) else name.get("config", name.get("class_name"))
    known = {
        "sigmoid": lambda x: 0.5 * (1.0 + np.tanh(0.5 * x)),  # = 1 / (1 + e^-x), no overflow
        "tanh": np.tanh,
        "hard_sigmoid": lambda x: np.clip(x / 6.0 + 0.5, 0.0, 1.0),  # Keras 3: relu6(x + 3) / 6
        "relu": lambda x: np.maximum(x, 0.0),
        "linear": lambda x: x,
    }
    if name in known:
        return known[name]
    return lambda x: np.asarray(keras.ops.convert_to_numpy(function(x)), dtype=np.float64)


def cell_kind(layer) -> str:
    """lstm, peephole, cifg or gru: which equations a recurrent layer's cell follows."""
    import keras

    from lstm_forecast.model.cells import CIFGLSTMCell, PeepholeLSTMCell

    cell = getattr(layer, "cell", None)
    # our cells subclass LSTMCell: ask for them first
    for kind, cell_type in (
        ("peephole", PeepholeLSTMCell),
        ("cifg", CIFGLSTMCell),
        ("lstm", keras.layers.LSTMCell),
        ("gru", keras.layers.GRUCell),
    ):
        if isinstance(cell, cell_type):
            return kind
    raise ValueError(f"layer {layer.name!r}: no LSTM, peephole, CIFG or GRU cell to trace")


def _weight(variable) -> np.ndarray | None:
    if variable is None:
        return None
    return np.asarray(variable.numpy(), dtype=np.float64)


def trace_layer(layer, inputs: np.ndarray) -> dict[str, np.ndarray]:
    """Gate and state values of a recurrent Keras layer run over `inputs`.

    `inputs`: (length, features) or (batch, length, features). Returns, by gate name
    (LSTM_GATES or GRU_GATES), arrays of shape (..., length, units) in float64.
    """
    kind = cell_kind(layer)
    if getattr(layer, "go_backwards", False):
        raise ValueError(f"layer {layer.name!r}: tracing a backwards layer is not supported")
    cell = layer.cell
    x = np.asarray(inputs, dtype=np.float64)  # (..., length, features)
    sigma = _numpy_activation(cell.recurrent_activation)
    squash = _numpy_activation(cell.activation)
    kernel, recurrent = _weight(cell.kernel), _weight(cell.recurrent_kernel)
    bias = _weight(cell.bias) if cell.use_bias else None
    projected = x @ kernel  # (..., length, blocks * units): the input's part of every gate
    if kind == "gru":
        return _trace_gru(cell, projected, recurrent, bias, sigma, squash)
    if bias is not None:
        projected = projected + bias
    return _trace_lstm(cell, kind, projected, recurrent, sigma, squash)


def _trace_lstm(cell, kind, projected, recurrent, sigma, squash) -> dict[str, np.ndarray]:
    units, length = cell.units, projected.shape[-2]
    if kind == "peephole":
        peep_input, peep_forget, peep_output = (
            _weight(cell.input_peephole),
            _weight(cell.forget_peephole),
            _weight(cell.output_peephole),
        )
    else:
        peep_input = peep_forget = peep_output = 0.0
    h = np.zeros(projected.shape[:-2] + (units,))  # (..., units)
    c = np.zeros_like(h)
    traces = {gate: np.empty(projected.shape[:-1] + (units,)) for gate in LSTM_GATES}
    for step in range(length):
        z = projected[..., step, :] + h @ recurrent  # (..., blocks * units)
        if kind == "cifg":  # blocks f, c, o: no input-gate weights
            z_forget, z_cell, z_output = np.split(z, 3, axis=-1)
            forget = sigma(z_forget)
            input_gate = 1.0 - forget
        else:  # blocks i, f, c, o (Keras's order)
            z_input, z_forget, z_cell, z_output = np.split(z, 4, axis=-1)
            input_gate = sigma(z_input + peep_input * c)
            forget = sigma(z_forget + peep_forget * c)
        candidate = squash(z_cell)
        c = forget * c + input_gate * candidate
        output = sigma(z_output + peep_output * c)  # the peephole looks at the new state
        h = output * squash(c)
        for gate, value in zip(
            LSTM_GATES, (forget, input_gate, output, candidate, c, h), strict=True
        ):
            traces[gate][..., step, :] = value
    return traces


def _trace_gru(cell, projected, recurrent, bias, sigma, squash) -> dict[str, np.ndarray]:
    """Keras's GRUCell: blocks z, r, h; reset_after=True (the default) has a (2, 3 * units)
    bias, the input's and the recurrent one, and applies the reset gate after the recurrent
    product; reset_after=False has one (3 * units,) bias and resets h(t-1) before it."""
    units, length = cell.units, projected.shape[-2]
    input_bias, recurrent_bias = np.zeros(3 * units), np.zeros(3 * units)
    if bias is not None and cell.reset_after:
        input_bias, recurrent_bias = bias[0], bias[1]
    elif bias is not None:
        input_bias = bias
    projected = projected + input_bias
    h = np.zeros(projected.shape[:-2] + (units,))
    traces = {gate: np.empty(projected.shape[:-1] + (units,)) for gate in GRU_GATES}
    for step in range(length):
        x_update, x_reset, x_candidate = np.split(projected[..., step, :], 3, axis=-1)
        if cell.reset_after:
            inner = h @ recurrent + recurrent_bias
            h_update, h_reset, h_candidate = np.split(inner, 3, axis=-1)
            update, reset = sigma(x_update + h_update), sigma(x_reset + h_reset)
            recurrent_candidate = reset * h_candidate
        else:
            h_update, h_reset = np.split(h @ recurrent[:, : 2 * units], 2, axis=-1)
            update, reset = sigma(x_update + h_update), sigma(x_reset + h_reset)
            recurrent_candidate = (reset * h) @ recurrent[:, 2 * units :]
        candidate = squash(x_candidate + recurrent_candidate)
        h = update * h + (1.0 - update) * candidate
        for gate, value in zip(GRU_GATES, (update, reset, candidate, h), strict=True):
            traces[gate][..., step, :] = value
    return traces


def trace_model(model, window: np.ndarray) -> list[tuple[str, dict[str, np.ndarray]]]:
    """(cell kind, traces) of every recurrent layer of `model`, input side first, over one
    scaled window (length, features): each layer runs on the previous one's hidden states."""
    import keras

    sequence = np.asarray(window, dtype=np.float64)  # (length, features)
    layers = []
    for layer in model.layers:
        if isinstance(layer, keras.layers.InputLayer | keras.layers.Dropout):
            continue  # Dropout: the identity at inference
        if not isinstance(layer, keras.layers.RNN):
            break  # the Dense head: past the recurrent stack
        traces = trace_layer(layer, sequence)
        layers.append((cell_kind(layer), traces))
        sequence = traces["hidden"]  # (length, units)
    if not layers:
        raise ValueError(f"model {model.name!r} has no recurrent layer to trace")
    return layers


def window_end_row(forecaster, window_end=None, source: str = "the run's data") -> int:
    """The row of the forecaster's data that the window ends on: the last one on or before
    `window_end` (a date string or Timestamp), the last row when None. A date outside the
    rows that have a full window is one DataError naming the valid range."""
    from lstm_forecast.data.frequency import timestamp_strings
    from lstm_forecast.forecaster.forecast import origin_row

    prices = forecaster.data.iloc[:, 0]
    first_row = forecaster.inputs.history_rows - 1  # the first row with a full window
    if first_row >= len(prices):
        raise DataError(
            f"{source}: {len(prices)} rows, too few for one window of {forecaster.inputs.length}"
        )
    index = pd.DatetimeIndex(prices.index)
    first, last = timestamp_strings(index[[first_row, -1]], index)
    valid = (
        f"the window can end on any date from {first} to {last}; give --date (window_end in "
        "Python) in that range"
    )
    shown = window_end if isinstance(window_end, str) else str(window_end)
    try:
        row = origin_row(prices, None if window_end is None else shown, source)
    except DataError as e:
        raise DataError(f"{source}: no window ends on {shown!r}: {valid}") from e
    if row < first_row:
        raise DataError(f"{source}: no full window ends on {shown!r}: {valid}")
    return row


def model_window(forecaster, row: int) -> np.ndarray:
    """The scaled input window the model sees at the end of `row`: (length, features), the
    float32 values the model is given (predict.predict_rows builds them the same way)."""
    from lstm_forecast.prep.scaling import scale

    inputs = forecaster.inputs
    matrix = inputs.matrix(forecaster.data)  # (rows, columns)
    # the window for predicting row + 1 holds rows row - length + 1 .. row
    windows, _ = inputs.windows(matrix, np.array([row + 1]))  # (1, length, columns)
    return scale(forecaster.scaler, windows).astype(np.float32)[0]


def gate_traces(forecaster, window_end=None) -> pd.DataFrame:
    """Gate and state traces of every recurrent layer of `forecaster.model` over one window.

    `window_end`: the date (string or Timestamp) of the window's last row, the last row on or
    before it; default the last row of `forecaster.data` (the window a forecast starts from).
    Returns a tidy DataFrame with columns layer (1 = input side), cell, step (0..length-1),
    date (the window's timestamps), unit, gate and value.
    """
    row = window_end_row(forecaster, window_end)
    window = model_window(forecaster, row)
    length = len(window)
    dates = forecaster.data.index[row - length + 1 : row + 1]
    frames = []
    for number, (kind, traces) in enumerate(trace_model(forecaster.model, window), start=1):
        gates = list(traces)
        values = np.stack([traces[gate] for gate in gates])  # (gates, length, units)
        n_gates, _, units = values.shape
        steps = np.tile(np.repeat(np.arange(length), units), n_gates)  # gate-major, then step
        frames.append(
            pd.DataFrame(
                {
                    "layer": number,
                    "cell": kind,
                    "step": steps,
                    "date": dates[steps],
                    "unit": np.tile(np.arange(units), n_gates * length),
                    "gate": np.repeat(gates, length * units),
                    "value": values.reshape(-1),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)
