"""The `plot` command's files: the CSVs we wrote (predictions, forecasts) read back and checked, the
figure drawn by plot.py, and the PNG written safely (lstm_forecast.files.write)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from lstm_forecast.errors import DataError, LstmForecastError, OutputError
from lstm_forecast.files import read as ours
from lstm_forecast.files.names import PLOT_FILE
from lstm_forecast.files.write import check_new_file, write_figure
from lstm_forecast.forecaster.bundle import run_files

# Our figures say who drew them, so that --overwrite can tell them from a user's PNG.


def plot(
    run_dir: str | Path,
    out: Path | None = None,
    predictions: Path | None = None,
    forecast: Path | None = None,
    overwrite: bool = True,
) -> Path:
    """Draw a run's predictions over the real prices (or a fan chart of a forecast CSV) to a PNG.
    The default PNG (RUN_DIR/plot.png, FORECAST.png) is replaced; any other --out needs
    overwrite to replace a file; either only when we drew it."""
    from lstm_forecast.files.names import PREDICTIONS_FILE
    from lstm_forecast.forecaster.bundle import read_run
    from lstm_forecast.report import plot as figures

    run = read_run(run_dir)
    target = run.config.data.target
    if forecast:
        table = read_table(forecast, figures.FORECAST_COLUMNS, "predict --steps N")
        if "persistence" in table.columns:  # a one-step table has lower/upper too
            raise DataError(
                f"{forecast}: holds one-step predictions, not a forecast; draw it with "
                "--predictions, or write a forecast with `lstm-forecast predict --steps N`"
            )
        level = _sidecar_level(forecast)
        default, figure = forecast.with_suffix(".png"), None
        figure = figures.forecast_figure(table, target, run.directory.name, level)
        inputs = [forecast]
    else:
        path = predictions or run.directory / PREDICTIONS_FILE
        table = read_table(path, figures.PREDICTION_COLUMNS, "predict")
        name = Path(predictions or run.config.data.test_path or run.config.data.path).stem
        metrics = run.metrics if not predictions else {}
        figure = figures.run_figure(table, run.history, target, name, metrics)
        default, inputs = run.directory / PLOT_FILE, [path]
    out = Path(out) if out else default
    check_new_file(out, overwrite or out == default, [*inputs, *run_files(run.directory)])
    if out.suffix.lower() != ".png":
        raise OutputError(f"{out}: plot draws a PNG image; give --out a .png name")
    return save_figure(figure, out)


def save_figure(figure, out: Path) -> Path:
    import matplotlib.pyplot as plt

    try:
        write_figure(out, figure, dpi=110)
    finally:
        plt.close(figure)
    return out


def read_table(path: Path, required: tuple[str, ...], command: str) -> pd.DataFrame:
    """A CSV we wrote (predictions, forecast), checked: the columns there, the numbers numeric."""
    if not path.is_file():
        raise DataError(f"{path}: file not found; write one with `lstm-forecast {command}`")
    try:
        table = ours.read_table(path)
    except LstmForecastError as e:
        raise DataError(f"{path}: not a CSV of `lstm-forecast {command}` ({e})") from e
    missing = [column for column in required if column not in table.columns]
    if missing:
        raise DataError(
            f"{path}: missing column(s) {', '.join(missing)}; "
            f"expected the output of `lstm-forecast {command}`"
        )
    dates = pd.to_datetime(table["date"], format="ISO8601", errors="coerce")
    if dates.isna().any():
        row = int(dates.isna().to_numpy().argmax())
        raise DataError(
            f"{path}: line {row + 2}, column 'date': {table['date'].iloc[row]!r} is not an ISO "
            "date; use the CSV as `lstm-forecast` wrote it"
        )
    table["date"] = dates
    bands = [c for c in table.columns if c.split("_")[0] in ("lower", "upper")]  # and fans
    columns = [*required[1:], *(c for c in bands if c not in required)]
    ours.numeric_columns(table, columns, path, "use the CSV as `lstm-forecast` wrote it", DataError)
    for lower in (c for c in bands if c.startswith("lower")):
        upper = "upper" + lower.removeprefix("lower")
        crossed = table[lower] > table[upper] if upper in table else pd.Series(False)
        if crossed.any():
            row = int(crossed.to_numpy().argmax())
            raise DataError(
                f"{path}: line {row + 2}: {lower} {table[lower].iloc[row]:g} is above {upper} "
                f"{table[upper].iloc[row]:g}; use the CSV as `lstm-forecast` wrote it"
            )
    return table


def _sidecar_level(forecast: Path) -> str:
    """The interval level written beside a forecast CSV (NAME.json), as '90 %', or ''."""
    try:
        level = ours.read_json(forecast.with_suffix(".json"), allow_nan=True).get("level")
    except LstmForecastError:
        return ""
    return f"{100 * level:g} %" if isinstance(level, int | float) else ""
