"""Figures: predicted over real prices (the reference figure) with the loss curve, the fan chart
of a forecast, and a backtest's folds. Each function takes in-memory tables and returns a
matplotlib Figure; runs.py writes it to a file."""

from __future__ import annotations

import pandas as pd

PREDICTION_COLUMNS = ("date", "actual", "predicted")
FORECAST_COLUMNS = ("date", "actual", "predicted", "lower", "upper")


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")  # headless: no display needed
    import matplotlib.pyplot as plt

    return plt


def run_figure(
    table: pd.DataFrame,
    history: pd.DataFrame | None,
    target: str,
    name: str,
    metrics: dict,
):
    """Real (red) and predicted (blue) prices over dates, and the loss per epoch below."""
    plt = _pyplot()
    figure, (prices_axes, loss_axes) = plt.subplots(
        2, 1, figsize=(11, 8), height_ratios=(3, 1.3), layout="constrained"
    )
    dates = pd.to_datetime(table["date"])
    prices_axes.plot(dates, table["actual"], color="red", label=f"Real {target} price")
    prices_axes.plot(dates, table["predicted"], color="blue", label=f"Predicted {target} price")
    rmse_text = ""
    if {"rmse", "skill"} <= metrics.keys():
        rmse_text = f" (RMSE {metrics['rmse']:.2f}, skill vs persistence {metrics['skill']:+.3f})"
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
    return figure


def forecast_figure(table: pd.DataFrame, target: str, name: str, level: str = ""):
    """Fan chart of a forecast table: the history it started from and any actual prices (red),
    the forecast median (blue) and its interval (shaded)."""
    from lstm_forecast.errors import DataError

    dates = pd.to_datetime(table["date"])
    future = table["predicted"].notna().to_numpy()
    if not future.any():
        raise DataError("the forecast has no forecast rows (empty predicted column)")
    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(11, 5), layout="constrained")
    axes.plot(dates, table["actual"], color="red", label=f"Real {target} price")
    # start the forecast line at the last known price so it joins the history
    joined = future.copy()
    joined[max(int(future.argmax()) - 1, 0)] = True
    line = table["predicted"].fillna(table["actual"])
    axes.plot(dates[joined], line[joined], color="blue", label=f"Forecast {target} (median)")
    if table["lower"].notna().any():
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
    axes.set_title(f"{name}: {int(future.sum())}-step forecast from {origin}")
    axes.set_xlabel("Date")
    axes.set_ylabel(f"{target} price")
    axes.legend(loc="upper left")
    axes.grid(alpha=0.3)
    figure.autofmt_xdate()
    return figure


def backtest_figure(prices: pd.Series, predictions: pd.DataFrame, target: str):
    """Every fold's one-step predictions over the real series, fold origins marked."""
    plt = _pyplot()
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
    return figure
