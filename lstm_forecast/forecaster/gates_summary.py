"""What a gate trace says in numbers and in words: how much memory survives, when the forget gate erases, how gates answer the input's moves."""

from __future__ import annotations

import numpy as np
import pandas as pd

from lstm_forecast.errors import DataError
from lstm_forecast.forecaster.gates import MEMORY_GATE


def gate_matrix(traces: pd.DataFrame, layer: int, gate: str) -> pd.DataFrame:
    """One gate of one layer as a (step, unit) table: rows steps, columns units."""
    rows = traces[(traces["layer"] == layer) & (traces["gate"] == gate)]
    if rows.empty:
        raise DataError(f"the traces have no {gate!r} values for layer {layer}")
    return rows.pivot(index="step", columns="unit", values="value")


def input_moves(forecaster) -> pd.Series:
    """The move the model sees at each row, by date: its target input in model space (the
    log return, the residual over the previous close, the difference), or the log return of
    the price when the model reads price levels. Named after what it is."""
    inputs = forecaster.inputs
    prices = forecaster.data.iloc[:, 0]
    if inputs.transform == "level":
        return np.log(prices).diff().rename("log return")
    target = inputs.matrix(forecaster.data)[:, 0]  # (rows,)
    over = f" over the previous {inputs.base}" if inputs.base else ""
    return pd.Series(target, index=forecaster.data.index, name=inputs.transform + over)


def gates_summary(traces: pd.DataFrame, moves: pd.Series | None = None) -> dict:
    """Numbers a learner can read from gate_traces' table: the window, then per layer.

    For each layer: the mean of its memory gate (forget; a GRU's update gate, the share of the
    old state kept), the share of (step, unit) where it is below ERASED_BELOW ("memory
    erased"), the share of the state that survives the last SURVIVAL_STEPS steps (the product
    of the memory gate over them, mean over units), the date where the gate closes most (its
    mean over units lowest) and its highest mean, the mean input and output gates, and for CIFG the largest
    |input - (1 - forget)|. With `moves` (input_moves: the move the model sees, by date): the
    window's largest one and each layer's memory gate on that step, the move where the gate
    closes most, and the correlation over
    the window of the gate (mean over units) with the move and with its size |move|. The memory gate on the steps that follow a gap of
    more than GAP_DAYS calendar days is given when the window has such gaps.
    """
    from lstm_forecast.data.frequency import timestamp_strings

    dates = pd.DatetimeIndex(traces.drop_duplicates("step").sort_values("step")["date"])
    shown = timestamp_strings(dates, dates)
    days = pd.Series(dates.normalize()).diff().dt.days.to_numpy()  # (steps,), NaN first
    after_gap = days > GAP_DAYS
    summary = {
        "window_start": shown[0],
        "window_end": shown[-1],
        "steps": len(dates),
        "gap_steps": int(after_gap.sum()),
    }
    if moves is not None:
        move_kind = str(moves.name or "move")
        moves = pd.Series(moves).astype(np.float64).reindex(dates).to_numpy()  # (steps,)
        largest = int(np.nanargmax(np.abs(moves)))
        summary |= {
            "move": move_kind,
            "largest_move": float(moves[largest]),
            "largest_move_date": shown[largest],
        }
    summary["layers"] = []
    for layer, rows in traces.groupby("layer", sort=True):
        kind = str(rows["cell"].iloc[0])
        gate = MEMORY_GATE[kind]
        memory = gate_matrix(rows, layer, gate).to_numpy()  # (steps, units)
        last = memory[-SURVIVAL_STEPS:]
        per_step = memory.mean(axis=1)  # (steps,)
        closed = int(per_step.argmin())
        numbers = {
            "layer": int(layer),
            "cell": kind,
            "units": memory.shape[1],
            "memory_gate": gate,
            "mean_forget": float(memory.mean()),
            "erased_share": float((memory < ERASED_BELOW).mean()),
            "survives_steps": len(last),
            "survives": float(np.prod(last, axis=0).mean()),
            "most_closed_date": shown[closed],
            "most_closed_forget": float(per_step[closed]),
            "most_open_forget": float(per_step.max()),
        }
        if kind != "gru":
            for other in ("input", "output"):
                numbers[f"mean_{other}"] = float(gate_matrix(rows, layer, other).to_numpy().mean())
        if kind == "cifg":
            coupled = 1.0 - memory
            deviation = np.abs(gate_matrix(rows, layer, "input").to_numpy() - coupled)
            numbers["cifg_max_deviation"] = float(deviation.max())
        if moves is not None:
            numbers["forget_at_largest_move"] = float(per_step[largest])
            numbers["move_where_most_closed"] = float(moves[closed])
            numbers["move_forget_correlation"] = _correlation(moves, per_step)
            numbers["size_forget_correlation"] = _correlation(np.abs(moves), per_step)
        if after_gap.any():
            numbers["forget_after_gaps"] = float(per_step[after_gap].mean())
            numbers["forget_elsewhere"] = float(per_step[~after_gap].mean())
        summary["layers"].append(numbers)
    return summary


def _correlation(first: np.ndarray, second: np.ndarray) -> float:
    """Pearson's correlation over the finite pairs (NaN when either is constant)."""
    keep = np.isfinite(first) & np.isfinite(second)
    if keep.sum() < 3 or np.std(first[keep]) == 0 or np.std(second[keep]) == 0:
        return float("nan")
    return float(np.corrcoef(first[keep], second[keep])[0, 1])


def summary_lines(summary: dict) -> list[str]:
    """The summary as lines a learner reads (what the `gates` command prints)."""
    window = (
        f"window {summary['window_start']} .. {summary['window_end']} ({summary['steps']} steps"
    )
    if "largest_move" in summary:
        window += f"; largest input move ({summary['move']}) {summary['largest_move']:+.4f} on "
        window += summary["largest_move_date"]
    gaps = summary["gap_steps"]
    plural = "" if gaps == 1 else "s"
    lines = [window + f"; {gaps} step{plural} after a gap of more than {GAP_DAYS} days)"]
    for numbers in summary["layers"]:
        gate = numbers["memory_gate"]
        lines.append(
            f"layer {numbers['layer']} ({numbers['cell']}, {numbers['units']} units): "
            f"mean {gate} {numbers['mean_forget']:.3f}; {gate} < {ERASED_BELOW} (memory erased) "
            f"on {100 * numbers['erased_share']:.1f} % of steps x units; "
            f"{100 * numbers['survives']:.2f} % of the state survives the last "
            f"{numbers['survives_steps']} steps"
        )
        where = numbers["most_closed_date"]
        if "move_where_most_closed" in numbers:
            where += f", move {numbers['move_where_most_closed']:+.4f}"
        details = [
            f"mean {gate} per step from {numbers['most_closed_forget']:.4f} (on {where}) to "
            f"{numbers['most_open_forget']:.4f}"
        ]
        if "mean_input" in numbers:
            details.append(f"mean input {numbers['mean_input']:.3f}, "
                           f"output {numbers['mean_output']:.3f}")  # fmt: skip
        if "cifg_max_deviation" in numbers:
            details.append(f"max |input - (1 - forget)| = {numbers['cifg_max_deviation']:.1e}")
        if "forget_at_largest_move" in numbers:
            details.append(
                f"{gate} {numbers['forget_at_largest_move']:.4f} on the largest move; correlation "
                f"with the move {numbers['move_forget_correlation']:+.2f}, with its size "
                f"{numbers['size_forget_correlation']:+.2f}"
            )
        if "forget_after_gaps" in numbers:
            details.append(f"{gate} {numbers['forget_after_gaps']:.4f} after gaps "
                           f"(elsewhere {numbers['forget_elsewhere']:.4f})")  # fmt: skip
        lines.append("  " + "; ".join(details))
    return lines


ERASED_BELOW = 0.1  # a forget gate under this erases (nearly) all of the unit's memory
SURVIVAL_STEPS = 20  # "how much of the cell state survives 20 steps"
GAP_DAYS = 3  # more calendar days than a weekend between two rows: a holiday or a gap
