"""The report's "inside the cell" section of a run: the gate figure of one window embedded as a
PNG data URI, and the summary numbers (gates.py) as sentences and a table."""

from __future__ import annotations

from lstm_forecast.report.parts import _section, _table, figure_uri

SUMMARY_COLUMNS = (
    ("layer", "layer"),
    ("cell", "cell"),
    ("mean_forget", "mean forget (GRU: update)"),
    ("erased_share", "share erased (< 0.1)"),
    ("survives", "state left after 20 steps"),
    ("most_closed_date", "closes most on"),
)


def gates_section(forecaster, window_end=None, layer: int = 1) -> dict:
    """A report section (report_parts._section) of the gates over the window ending on
    `window_end` (default: the last row of the forecaster's data): the figure of `layer`
    embedded, the summary as paragraphs and a table; its numbers also under "summary"."""
    from lstm_forecast.forecaster.gates import gate_traces
    from lstm_forecast.forecaster.gates_summary import gates_summary, input_moves, summary_lines
    from lstm_forecast.report.gates_plot import gates_figure

    traces = gate_traces(forecaster, window_end)
    prices = forecaster.data.iloc[:, 0]
    summary = gates_summary(traces, input_moves(forecaster))
    figure = {
        "caption": "The window's prices, then each gate of layer "
        f"{layer} by step (across) and unit (down): forget ≈ 0 erases the memory, input ≈ 1 "
        "writes new information, output ≈ 1 reads the memory out",
        "uri": figure_uri(gates_figure(traces, prices, layer)),
        "alt": "gate activations over one window",
    }
    rows = [
        [_shown(numbers[key], key) for key, _ in SUMMARY_COLUMNS] for numbers in summary["layers"]
    ]
    table = _table("one window; 20 steps or the whole window when shorter",
                   [header for _, header in SUMMARY_COLUMNS], rows)  # fmt: skip
    section = _section("gates", "Inside the cell", summary_lines(summary), [table], [figure])
    return {**section, "summary": summary}


def _shown(value, key: str = "") -> str:
    if key in ("erased_share", "survives"):
        return f"{100 * value:.2f} %"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)
