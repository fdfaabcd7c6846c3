"""The `gates` command's files: a run read back, one window's gate traces written as a CSV and
their figure as a PNG, both checked first and written safely (lstm_forecast.files.write)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from lstm_forecast.files.write import check_new_file, write_csv
from lstm_forecast.forecaster.bundle import run_files
from lstm_forecast.report.run_plots import save_figure

GATES_PREFIX = "gates"  # RUN_DIR/gates.png and RUN_DIR/gates.csv by default
PREFIX_SUFFIXES = (".png", ".csv")  # --out runs/x/gates.png means the prefix runs/x/gates


@dataclass(frozen=True)
class GatesResult:
    png: Path
    csv: Path
    summary: dict  # gates.gates_summary's numbers
    seconds: float  # computing the traces of the window, the model already loaded


def gates_paths(run_dir: Path, out: Path | None) -> tuple[Path, Path]:
    """The PNG and the CSV for an --out prefix (default RUN_DIR/gates)."""
    prefix = Path(out) if out else Path(run_dir) / GATES_PREFIX
    if prefix.suffix.lower() in PREFIX_SUFFIXES:
        prefix = prefix.with_suffix("")
    return Path(f"{prefix}.png"), Path(f"{prefix}.csv")


def write_gates(
    run_dir: str | Path,
    date: str | None = None,
    out: Path | None = None,
    overwrite: bool = False,
    layer: int = 1,
) -> GatesResult:
    """Trace the gates of a run's model over the window ending on `date` (default: the last
    row of its data) and write PREFIX.png (the figure of `layer`) and PREFIX.csv (every layer's
    traces). The default files in the run directory are replaced when we wrote them; any other
    existing file only with `overwrite`, and a file we did not write never."""
    import time

    from lstm_forecast.data.frequency import timestamp_strings
    from lstm_forecast.forecaster.forecaster import Forecaster
    from lstm_forecast.forecaster.gates import gate_traces
    from lstm_forecast.forecaster.gates_summary import gates_summary, input_moves
    from lstm_forecast.report.gates_plot import gates_figure

    run_dir = Path(run_dir)
    forecaster = Forecaster.load(run_dir)
    png, csv = gates_paths(run_dir, out)
    for path in (png, csv):
        check_new_file(path, overwrite or out is None, run_files(run_dir))
    start = time.perf_counter()
    traces = gate_traces(forecaster, date)
    seconds = time.perf_counter() - start
    prices = forecaster.data.iloc[:, 0]
    summary = gates_summary(traces, input_moves(forecaster))
    name = Path(forecaster.config.data.test_path or forecaster.config.data.path).stem
    figure = gates_figure(traces, prices, layer, name or run_dir.name)
    table = traces.assign(date=timestamp_strings(traces["date"], forecaster.data.index))
    write_csv(csv, table, index=False, float_format="%.6g")
    save_figure(figure, png)
    return GatesResult(png=png, csv=csv, summary=summary, seconds=seconds)
