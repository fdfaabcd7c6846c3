"""The LSTM variants of the reference material as Keras RNN cells: peephole and CIFG.

Both extend Keras's LSTMCell (same initializers, forget-gate bias of one, gate order i, f, c, o)
and change only the gates. In the plain Keras LSTM, with z = x W + h(t-1) U + b split by gate:

    i = σ(z_i)   f = σ(z_f)   g = tanh(z_c)   o = σ(z_o)
    c(t) = f * c(t-1) + i * g          h(t) = o * tanh(c(t))

Peephole (Gers & Schmidhuber, 2000): the gates also look at the cell state through diagonal
weights p_i, p_f, p_o (vectors, multiplied element-wise):

    i = σ(z_i + p_i * c(t-1))   f = σ(z_f + p_f * c(t-1))   o = σ(z_o + p_o * c(t))

CIFG, coupled input and forget gate (Greff et al., 2017): i = 1 - f, so W, U and b have three
blocks (f, c, o) instead of four and there are no input-gate weights.

The GRU is Keras's own layer. Cells are registered for serialization, so a `.keras` file holding
them loads wherever this module has been imported (as lstm_forecast.model.build does).
"""

from __future__ import annotations

from lstm_forecast.model.backend import import_keras

keras = import_keras()
ops = keras.ops

PACKAGE = "lstm_forecast"


class _PlainCellMixin:
    """Our cells implement the gates only: no input or recurrent dropout inside the cell (the
    model puts Dropout layers between recurrent layers instead)."""

    def _refuse_cell_dropout(self) -> None:
        if self.dropout or self.recurrent_dropout:
            raise ValueError(f"{type(self).__name__} supports no dropout or recurrent_dropout")


@keras.saving.register_keras_serializable(package=PACKAGE)
class PeepholeLSTMCell(_PlainCellMixin, keras.layers.LSTMCell):
    """LSTM cell with peephole connections (see the module docstring for the equations).

    Peephole weights start from the kernel initializer, as TensorFlow's former
    `tf.keras.experimental.PeepholeLSTMCell` did.
    """

    def __init__(self, units: int, **kwargs):
        super().__init__(units, **kwargs)
        self._refuse_cell_dropout()

    def build(self, input_shape):
        super().build(input_shape)
        # (units,) each: diagonal weights from the cell state to the input, forget, output gates
        self.input_peephole = self.add_weight(
            shape=(self.units,), name="input_peephole", initializer=self.kernel_initializer
        )
        self.forget_peephole = self.add_weight(
            shape=(self.units,), name="forget_peephole", initializer=self.kernel_initializer
        )
        self.output_peephole = self.add_weight(
            shape=(self.units,), name="output_peephole", initializer=self.kernel_initializer
        )

    def call(self, inputs, states, training=False):
        h_previous, c_previous = states  # (batch, units) each
        z = ops.matmul(inputs, self.kernel) + ops.matmul(h_previous, self.recurrent_kernel)
        if self.use_bias:
            z = z + self.bias
        z_input, z_forget, z_cell, z_output = ops.split(z, 4, axis=-1)
        input_gate = self.recurrent_activation(z_input + self.input_peephole * c_previous)
        forget_gate = self.recurrent_activation(z_forget + self.forget_peephole * c_previous)
        c = forget_gate * c_previous + input_gate * self.activation(z_cell)
        output_gate = self.recurrent_activation(z_output + self.output_peephole * c)
        h = output_gate * self.activation(c)
        return h, [h, c]


@keras.saving.register_keras_serializable(package=PACKAGE)
class CIFGLSTMCell(_PlainCellMixin, keras.layers.LSTMCell):
    """LSTM cell whose input gate is 1 - forget gate (see the module docstring).

    Parameters: 3 * (units * inputs + units * units + units), three quarters of an LSTM's.
    """

    def __init__(self, units: int, **kwargs):
        super().__init__(units, **kwargs)
        self._refuse_cell_dropout()

    def build(self, input_shape):
        input_dim = input_shape[-1]
        # blocks in the order forget, cell, output
        self.kernel = self.add_weight(
            shape=(input_dim, 3 * self.units),
            name="kernel",
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
        )
        self.recurrent_kernel = self.add_weight(
            shape=(self.units, 3 * self.units),
            name="recurrent_kernel",
            initializer=self.recurrent_initializer,
            regularizer=self.recurrent_regularizer,
            constraint=self.recurrent_constraint,
        )
        if self.use_bias:
            self.bias = self.add_weight(
                shape=(3 * self.units,),
                name="bias",
                initializer=self._bias_initializer(),
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
            )
        else:
            self.bias = None

    def _bias_initializer(self):
        if not self.unit_forget_bias:
            return self.bias_initializer

        def forget_bias_one(_, *args, **kwargs):  # like LSTMCell: forget-gate bias starts at 1
            return ops.concatenate(
                [
                    keras.initializers.get("ones")((self.units,), *args, **kwargs),
                    self.bias_initializer((2 * self.units,), *args, **kwargs),
                ]
            )

        return forget_bias_one

    def call(self, inputs, states, training=False):
        h_previous, c_previous = states  # (batch, units) each
        z = ops.matmul(inputs, self.kernel) + ops.matmul(h_previous, self.recurrent_kernel)
        if self.use_bias:
            z = z + self.bias
        z_forget, z_cell, z_output = ops.split(z, 3, axis=-1)
        forget_gate = self.recurrent_activation(z_forget)
        c = forget_gate * c_previous + (1.0 - forget_gate) * self.activation(z_cell)
        h = self.recurrent_activation(z_output) * self.activation(c)
        return h, [h, c]


def recurrent_layer(cell: str, units: int, return_sequences: bool, name: str):
    """The Keras layer for one recurrent layer of the stack: cell is lstm, peephole, cifg or gru."""
    if cell == "lstm":
        return keras.layers.LSTM(units, return_sequences=return_sequences, name=name)
    if cell == "gru":
        return keras.layers.GRU(units, return_sequences=return_sequences, name=name)
    cell_type = {"peephole": PeepholeLSTMCell, "cifg": CIFGLSTMCell}[cell]
    return keras.layers.RNN(cell_type(units), return_sequences=return_sequences, name=name)
