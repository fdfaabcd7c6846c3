"""The `gates` command: see inside the cell of a trained run.

It parses, calls lstm_forecast.app.gates.write_gates, prints the summary numbers.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from lstm_forecast.cli.base import app
from lstm_forecast.cli.options import OverwriteOption, user_errors


@app.command()
def gates(
    run_dir: Annotated[
        Path, typer.Argument(metavar="RUN_DIR", help="Run directory written by `train`.")
    ],
    date: Annotated[
        str | None,
        typer.Option(help="Last date of the window to trace (ISO); default: the data's last date."),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(help="Prefix of the PNG and CSV to write; default: RUN_DIR/gates."),
    ] = None,
    overwrite: OverwriteOption = False,
    layer: Annotated[
        int, typer.Option(help="Recurrent layer the figure shows (1 = input side).")
    ] = 1,
):
    """See inside the cell: the gates and the memory of the run's model over one input window.

    Computes, from the model's own weights, every recurrent layer's forget, input and output
    gates, candidate, cell and hidden states (a GRU: update and reset gates) at each step of the
    window that ends on --date, and prints what they say: how often the forget gate erases the
    memory (forget < 0.1), how much of the cell state survives 20 steps, where the gate closes.
    Writes PREFIX.png (the window's prices over a heatmap of each gate of --layer) and
    PREFIX.csv (layer, cell, step, date, unit, gate, value for every layer).

    Example: lstm-forecast gates runs/quickstart --date 2018-12-24 --out runs/quickstart/gates-christmas
    """
    with user_errors():
        from lstm_forecast.app.gates import write_gates
        from lstm_forecast.forecaster.gates_summary import summary_lines

        result = write_gates(run_dir, date, out, overwrite, layer)
    for line in summary_lines(result.summary):
        typer.echo(line)
    typer.echo(f"traced in {1000 * result.seconds:.0f} ms; wrote {result.png} and {result.csv}")
    return result
