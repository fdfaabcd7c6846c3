"""The figure of one window's gate traces (gates.gate_traces): the input prices on top, then a
heatmap (time x unit) of each gate and of the memory of one layer. Takes in-memory tables and
returns a matplotlib Figure; run_gates.py writes it to a file."""

from __future__ import annotations

import numpy as np
import pandas as pd

from lstm_forecast.errors import ConfigError
from lstm_forecast.forecaster.gates import MEMORY_GATE
from lstm_forecast.forecaster.gates_summary import gate_matrix

# what each panel shows, in the words of the explainer: (gate, title)
LSTM_PANELS = (
    ("forget", "forget gate: ≈ 0: memory erased here, ≈ 1: memory kept"),
    ("input", "input gate: ≈ 1: new information written"),
    ("output", "output gate: ≈ 1: memory read out"),
    ("cell", "cell state c: the memory itself"),
)
GRU_PANELS = (
    ("update", "update gate: ≈ 1: memory kept, ≈ 0: overwritten by the candidate"),
    ("reset", "reset gate: ≈ 0: the past ignored when the candidate is made"),
    ("hidden", "hidden state h: the memory itself"),
)
LSTM_CAPTION = (
    "forget ≈ 0: memory erased here  ·  input ≈ 1: new information written  ·  "
    "output ≈ 1: memory read out"
)
GRU_CAPTION = "update ≈ 1: memory kept  ·  update ≈ 0: memory replaced  ·  reset ≈ 0: past ignored"
STATES = ("cell", "hidden")  # unbounded or in [-1, 1]: a diverging scale around 0
DATE_TICKS = 6


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")  # headless: no display needed
    import matplotlib.pyplot as plt

    return plt


def gates_figure(traces: pd.DataFrame, prices: pd.Series, layer: int = 1, name: str = ""):
    """Input prices over the window, then heatmaps (time x unit) of the forget, input and output
    gates and the cell state of `layer` (a GRU: update, reset, hidden state), units ordered by
    their mean forget (update) gate, longest memory on top; gates on a 0..1 colour scale.

    `traces`: gate_traces' table; `prices`: the target by date (at least the window's dates).
    """
    layers = sorted(int(number) for number in traces["layer"].unique())
    if layer not in layers:
        raise ConfigError(
            f"--layer {layer}: the model has recurrent layers {layers[0]} to {layers[-1]}; "
            "give one of them"
        )
    rows = traces[traces["layer"] == layer]
    kind = str(rows["cell"].iloc[0])
    panels = GRU_PANELS if kind == "gru" else LSTM_PANELS
    memory = gate_matrix(rows, layer, MEMORY_GATE[kind])  # (steps, units)
    order = np.argsort(memory.mean(axis=0).to_numpy(), kind="stable")  # bottom: shortest memory
    dates = pd.DatetimeIndex(rows.drop_duplicates("step").sort_values("step")["date"])
    steps, units = memory.shape

    plt = _pyplot()
    figure, axes = plt.subplots(
        len(panels) + 1,
        1,
        figsize=(11, 2.0 + 1.9 * len(panels)),
        sharex=True,
        height_ratios=(1.4, *[1.0] * len(panels)),
        layout="constrained",
    )
    price_axes, *heat_axes = axes
    window_prices = pd.Series(prices).reindex(dates).to_numpy()
    price_axes.plot(np.arange(steps), window_prices, color="red", marker=".", markersize=3)
    price_axes.set_title(f"{name + ': ' if name else ''}input prices of the window")
    price_axes.set_ylabel("price")
    price_axes.grid(alpha=0.3)

    extent = (-0.5, steps - 0.5, -0.5, units - 0.5)
    gate_image = state_image = None
    for axes_, (gate, title) in zip(heat_axes, panels, strict=True):
        values = gate_matrix(rows, layer, gate).to_numpy()[:, order].T  # (units, steps)
        if gate in STATES:
            bound = float(np.abs(values).max()) or 1.0
            scale = {"cmap": "RdBu_r", "vmin": -bound, "vmax": bound}
        else:
            scale = {"cmap": "viridis", "vmin": 0.0, "vmax": 1.0}
        image = axes_.imshow(
            values, aspect="auto", origin="lower", interpolation="nearest", extent=extent, **scale
        )
        if gate in STATES:
            state_image = image
        else:
            gate_image = image
        if kind == "cifg" and gate == "input":
            title = "input gate = 1 − forget (CIFG): ≈ 1: new information written"
        axes_.set_title(f"layer {layer} ({kind}) {title}", fontsize=10, loc="left")
        axes_.set_ylabel("unit")
        axes_.set_yticks([])
    figure.colorbar(gate_image, ax=heat_axes[:-1], label="gate (0..1)", fraction=0.03)
    figure.colorbar(state_image, ax=heat_axes[-1], label="state", fraction=0.03)
    ticks = np.unique(np.linspace(0, steps - 1, min(DATE_TICKS, steps)).round().astype(int))
    from lstm_forecast.data.frequency import timestamp_strings

    price_axes.set_xlim(extent[0], extent[1])
    heat_axes[-1].set_xticks(ticks, timestamp_strings(dates[ticks], dates), rotation=20)
    heat_axes[-1].set_xlabel(
        "units ordered by mean "
        f"{MEMORY_GATE[kind]} gate, longest memory on top\n"
        + (GRU_CAPTION if kind == "gru" else LSTM_CAPTION)
    )
    return figure
