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


def _timestamps(column: pd.Series) -> pd.DatetimeIndex:
    """The date column of a table we wrote, for the x axis: times kept, and timestamps with a
    UTC offset shown at their own wall-clock time (matplotlib would show them in UTC)."""
    dates = pd.DatetimeIndex(pd.to_datetime(column, format="ISO8601"))
    return dates if dates.tz is None else dates.tz_localize(None)


def run_figure(
    table: pd.DataFrame,
    history: pd.DataFrame | None,
    target: str,
    name: str,
    metrics: dict,
):
    """Real (red) and predicted (blue) prices over dates, the one-step band shaded with the
    actual prices it missed marked, and the loss per epoch below."""
    plt = _pyplot()
    figure, (prices_axes, loss_axes) = plt.subplots(
        2, 1, figsize=(11, 8), height_ratios=(3, 1.3), layout="constrained"
    )
    dates = _timestamps(table["date"])
    if {"lower", "upper"} <= set(table.columns) and table["lower"].notna().any():
        level = metrics.get("level")
        shown = f"{100 * level:g} % interval" if isinstance(level, float) else "prediction interval"
        # drawn under the lines and strong enough to be seen beside them
        prices_axes.fill_between(dates, table["lower"], table["upper"], color="tab:blue",
                                 alpha=0.3, linewidth=0, label=shown, zorder=0)  # fmt: skip
        missed = (table["actual"] < table["lower"]) | (table["actual"] > table["upper"])
        prices_axes.scatter(dates[missed.to_numpy()], table["actual"][missed], marker="x", s=18,
                            color="black", zorder=4,
                            label=f"outside the band ({int(missed.sum())} of {int(table['lower'].notna().sum())})")  # fmt: skip
    baseline = _baseline(table, metrics)
    if baseline is not None:  # the baseline the title's skill is measured against
        prices_axes.plot(dates, baseline[1], color="grey", linestyle="--", linewidth=0.9,
                         label=f"Baseline: {baseline[0]}", zorder=1)  # fmt: skip
    prices_axes.plot(dates, table["predicted"], color="blue", linewidth=1.0,
                     label=f"Predicted {target} price", zorder=2)  # fmt: skip
    # the real price on top: where the two agree, the prediction must not hide it
    prices_axes.plot(dates, table["actual"], color="red", linewidth=1.2,
                     label=f"Real {target} price", zorder=3)  # fmt: skip
    rmse_text = ""
    if {"rmse", "skill"} <= metrics.keys():
        from lstm_forecast.numbers import price_format, reference_price

        price = price_format(reference_price(table["actual"]))  # 2.75 / 0.0000123 alike
        skill = metrics["skill"]  # against the strongest baseline; None when that is perfect
        against = metrics.get("baseline_label", "persistence")
        shown = "-" if skill is None or skill != skill else f"{skill:+.3f}"
        rmse_text = f" (RMSE {price(metrics['rmse'])}, skill vs '{against}' {shown})"
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
        if (history["loss"] > 0).any():  # a constant series trains to a loss of 0
            from matplotlib.ticker import FuncFormatter

            loss_axes.set_yscale("log")
            # one plain format for every label: the decades, and 2 and 5 between them
            loss_axes.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:.3g}"))
            loss_axes.yaxis.set_minor_formatter(FuncFormatter(_two_and_five))
        loss_axes.legend()
    from matplotlib.ticker import MaxNLocator

    loss_axes.xaxis.set_major_locator(MaxNLocator(integer=True))  # epochs are whole
    loss_axes.set_title("Training loss (scaled units)")
    loss_axes.set_xlabel("Epoch")
    loss_axes.set_ylabel("Loss")
    loss_axes.grid(alpha=0.3)
    return figure


def _two_and_five(value: float, _position) -> str:
    """A log axis' minor label: 0.02 and 0.05 shown, 0.03 and the rest left out."""
    shown = f"{value:.3g}"
    return shown if shown.lstrip("0.").startswith(("2", "5")) else ""


def _baseline(table: pd.DataFrame, metrics: dict) -> tuple[str, pd.Series] | None:
    """(label, predictions) of the strongest baseline, when the table can give them."""
    name, label = metrics.get("baseline"), metrics.get("baseline_label", "")
    if name == "drift" and "persistence" in table:
        return label, table["persistence"] + float(metrics.get("drift", 0.0))
    if name in ("persistence", "previous_close") and name in table:
        return label, table[name]
    return None


def forecast_figure(table: pd.DataFrame, target: str, name: str, level: str = ""):
    """Fan chart of a forecast table: the history it started from and any actual prices (red),
    the forecast median (blue) and its interval (shaded)."""
    from lstm_forecast.errors import DataError

    dates = _timestamps(table["date"])
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
    # the fan: the same band at narrower levels (lower_50/upper_50, ...), darker toward the middle
    fans = (c for c in table.columns if c.startswith("lower_") and c[6:].isdigit())
    for column in sorted(fans, key=lambda c: -int(c[6:])):  # 80 %, then 50 % over it
        inner = column.removeprefix("lower_")
        if f"upper_{inner}" in table and table[column].notna().any():
            axes.fill_between(dates[future], table[column][future], table[f"upper_{inner}"][future],
                              color="blue", alpha=0.15, linewidth=0, label=f"{inner} %")  # fmt: skip
    origin_row = int(future.argmax()) - 1 if future.argmax() > 0 else 0
    axes.axvline(dates[origin_row], color="grey", linewidth=0.8, linestyle=":")
    from lstm_forecast.data.frequency import timestamp_string
    from lstm_forecast.numbers import price_format, reference_price

    price = price_format(reference_price(table["actual"]))
    last = table[future].iloc[-1]
    axes.set_title(
        f"{name}: {int(future.sum())}-step forecast from "
        f"{timestamp_string(pd.DatetimeIndex(dates)[origin_row], pd.DatetimeIndex(dates))}"
        f" (last step {price(last['predicted'])})"
    )
    axes.set_xlabel("Date")
    axes.set_ylabel(f"{target} price")
    axes.legend(loc="upper left")
    axes.grid(alpha=0.3)
    figure.autofmt_xdate()
    return figure


def backtest_figure(prices: pd.Series, predictions: pd.DataFrame, target: str):
    """Every fold's one-step predictions over the real series, fold origins marked."""
    plt = _pyplot()
    dates = _timestamps(predictions["date"])
    if prices.index.tz is not None:  # on the same wall clock as the dates
        prices = prices.tz_localize(None)
    first_fold_rows = int((predictions["fold"] == predictions["fold"].iloc[0]).sum())
    shown = prices[prices.index >= dates.min()].iloc[: len(predictions)]
    before = prices[prices.index < dates.min()].iloc[-first_fold_rows:]  # some context
    figure, axes = plt.subplots(figsize=(11, 5), layout="constrained")
    axes.plot(pd.concat([before, shown]), color="red", label=f"Real {target} price")
    for index, (_, rows) in enumerate(predictions.groupby("fold")):
        fold_dates = _timestamps(rows["date"])
        axes.plot(
            fold_dates,
            rows["predicted"],
            color="blue",
            label="Predicted (one step ahead, per fold)" if index == 0 else None,
        )
        axes.axvline(fold_dates[0], color="grey", linewidth=0.8, linestyle=":")
    axes.set_title(
        f"Walk-forward backtest: {predictions['fold'].nunique()} folds (dotted: fold origins)"
    )
    axes.set_xlabel("Date")
    axes.set_ylabel(f"{target} price")
    axes.legend()
    axes.grid(alpha=0.3)
    return figure
