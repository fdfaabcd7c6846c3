"""Pictures of a run: predicted over real prices (the reference figure) and the loss curve."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from lstm_forecast.bundle import HISTORY_FILE, PREDICTIONS_FILE, load_run
from lstm_forecast.errors import DataError

REQUIRED_PREDICTION_COLUMNS = ("date", "actual", "predicted")
REQUIRED_FORECAST_COLUMNS = ("date", "actual", "predicted", "lower", "upper")


def plot_run(
    run_dir: str | Path, out: str | Path | None = None, predictions: str | Path | None = None
) -> Path:
    """Draw real (red) and predicted (blue) prices over dates, and the loss per epoch, to a PNG.

    `predictions` is a CSV from `lstm-forecast predict` (default: the run's own test span).
    Returns the PNG's path (default: RUN_DIR/plot.png).
    """
    run = load_run(run_dir)
    predictions_path = Path(predictions) if predictions else run.directory / PREDICTIONS_FILE
    table = _read_predictions(predictions_path)
    history_path = run.directory / HISTORY_FILE
    history = pd.read_csv(history_path) if history_path.exists() else None
    out = Path(out) if out else run.directory / "plot.png"

    import matplotlib

    matplotlib.use("Agg")  # headless: no display needed
    import matplotlib.pyplot as plt

    target = run.config.data.target
    figure, (prices_axes, loss_axes) = plt.subplots(
        2, 1, figsize=(11, 8), height_ratios=(3, 1.3), layout="constrained"
    )
    dates = pd.to_datetime(table["date"])
    prices_axes.plot(dates, table["actual"], color="red", label=f"Real {target} price")
    prices_axes.plot(dates, table["predicted"], color="blue", label=f"Predicted {target} price")
    rmse_text = ""
    if {"rmse", "skill"} <= run.metrics.keys() and not predictions:
        rmse_text = (
            f" (RMSE {run.metrics['rmse']:.2f}, skill vs persistence {run.metrics['skill']:+.3f})"
        )
    name = Path(predictions or run.config.data.test_path or run.config.data.path).stem
    prices_axes.set_title(f"{name}: {target} price prediction{rmse_text}")
    prices_axes.set_xlabel("Date")
    prices_axes.set_ylabel(f"{target} price")
    prices_axes.legend()
    prices_axes.grid(alpha=0.3)

    if history is not None and "loss" in history:
        loss_axes.plot(history["epoch"], history["loss"], marker=".", label="training loss")
        if "val_loss" in history:
            loss_axes.plot(
                history["epoch"], history["val_loss"], marker=".", label="validation loss"
            )
        loss_axes.set_yscale("log")
        loss_axes.legend()
    loss_axes.set_title("Training loss (scaled units)")
    loss_axes.set_xlabel("Epoch")
    loss_axes.set_ylabel("Loss")
    loss_axes.grid(alpha=0.3)

    out.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(out, dpi=110)
    plt.close(figure)
    return out


def plot_forecast(run_dir: str | Path, forecast: str | Path, out: str | Path | None = None) -> Path:
    """Fan chart of a `predict --horizon` CSV: the history it started from and any actual prices
    (red), the forecast median (blue) and its interval (shaded). Returns the PNG's path (default:
    the CSV's name with .png).
    """
    run = load_run(run_dir)
    forecast = Path(forecast)
    table = _read_predictions(forecast, REQUIRED_FORECAST_COLUMNS, "predict --horizon N")
    dates = pd.to_datetime(table["date"])
    future = table["predicted"].notna().to_numpy()
    if not future.any():
        raise DataError(f"{forecast}: no forecast rows (empty predicted column)")
    out = Path(out) if out else forecast.with_suffix(".png")

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    target = run.config.data.target
    figure, axes = plt.subplots(figsize=(11, 5), layout="constrained")
    axes.plot(dates, table["actual"], color="red", label=f"Real {target} price")
    # start the forecast line at the last known price so it joins the history
    joined = future.copy()
    joined[max(int(future.argmax()) - 1, 0)] = True
    line = table["predicted"].fillna(table["actual"])
    axes.plot(dates[joined], line[joined], color="blue", label=f"Forecast {target} (median)")
    if table["lower"].notna().any():
        level = _interval_level(forecast)
        axes.fill_between(
            dates[future],
            table["lower"][future],
            table["upper"][future],
            color="blue",
            alpha=0.2,
            linewidth=0,
            label=f"{level} prediction interval" if level else "prediction interval",
        )
    origin = dates[int(future.argmax()) - 1] if future.argmax() > 0 else dates[0]
    axes.axvline(origin, color="grey", linewidth=0.8, linestyle=":")
    axes.set_title(f"{run.directory.name}: {int(future.sum())}-day forecast from {origin.date()}")
    axes.set_xlabel("Date")
    axes.set_ylabel(f"{target} price")
    axes.legend(loc="upper left")
    axes.grid(alpha=0.3)
    figure.autofmt_xdate()
    out.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(out, dpi=110)
    plt.close(figure)
    return out


def _interval_level(forecast: Path) -> str:
    """The interval level written beside a forecast CSV (NAME.json), as '90 %', or ''."""
    sidecar = forecast.with_suffix(".json")
    if not sidecar.is_file():
        return ""
    import json

    level = json.loads(sidecar.read_text()).get("level")
    return f"{100 * level:g} %" if level else ""


def _read_predictions(
    path: Path,
    required: tuple[str, ...] = REQUIRED_PREDICTION_COLUMNS,
    command: str = "predict",
) -> pd.DataFrame:
    if not path.is_file():
        raise DataError(f"{path}: file not found; write one with `lstm-forecast {command}`")
    table = pd.read_csv(path)
    missing = [column for column in required if column not in table.columns]
    if missing:
        raise DataError(
            f"{path}: missing column(s) {', '.join(missing)}; "
            f"expected the output of `lstm-forecast {command}`"
        )
    return table


def plot_backtest(prices, predictions: pd.DataFrame, out: Path, target: str) -> Path:
    """Every fold's one-step predictions over the real series, fold origins marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    dates = pd.to_datetime(predictions["date"])
    first_fold_rows = int((predictions["fold"] == predictions["fold"].iloc[0]).sum())
    shown = prices[prices.index >= dates.min()].iloc[: len(predictions)]
    before = prices[prices.index < dates.min()].iloc[-first_fold_rows:]  # some context
    figure, axes = plt.subplots(figsize=(11, 5), layout="constrained")
    axes.plot(pd.concat([before, shown]), color="red", label=f"Real {target} price")
    for index, (_, rows) in enumerate(predictions.groupby("fold")):
        fold_dates = pd.to_datetime(rows["date"])
        axes.plot(
            fold_dates,
            rows["predicted"],
            color="blue",
            label="Predicted (one step ahead, per fold)" if index == 0 else None,
        )
        axes.axvline(fold_dates.iloc[0], color="grey", linewidth=0.8, linestyle=":")
    axes.set_title(
        f"Walk-forward backtest: {predictions['fold'].nunique()} folds (dotted: fold origins)"
    )
    axes.set_xlabel("Date")
    axes.set_ylabel(f"{target} price")
    axes.legend()
    axes.grid(alpha=0.3)
    figure.savefig(out, dpi=110)
    plt.close(figure)
    return out
