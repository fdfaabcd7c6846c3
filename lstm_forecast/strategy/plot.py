"""The equity curves of the strategies (strategy.py) beside buy-and-hold, with their drawdowns.
Takes the in-memory daily returns and returns a matplotlib Figure; the caller writes it."""

from __future__ import annotations

import numpy as np
import pandas as pd

from lstm_forecast.strategy.strategies import BENCHMARK, STRATEGY_LABELS


def equity_figure(returns: pd.DataFrame, title: str = "", cost_bps: float | None = None):
    """Growth of 1 invested for every column of `returns` (daily returns after
    costs, by date, as StrategyResult.returns holds them), buy-and-hold in black, and each
    curve's drawdown from its peak below."""
    import matplotlib

    matplotlib.use("Agg")  # headless: no display needed
    import matplotlib.pyplot as plt

    figure, (equity_axes, drawdown_axes) = plt.subplots(
        2, 1, figsize=(11, 7), height_ratios=(3, 1.2), sharex=True, layout="constrained"
    )
    dates = pd.DatetimeIndex(returns.index)
    for name in sorted(returns, key=lambda name: name == BENCHMARK):  # buy-and-hold on top
        equity = np.cumprod(1.0 + returns[name].to_numpy(np.float64))  # (rows,)
        drawdown = equity / np.maximum.accumulate(np.maximum(equity, 1.0)) - 1.0
        style = {"color": "black", "linewidth": 2.0} if name == BENCHMARK else {"linewidth": 1.2}
        label = STRATEGY_LABELS.get(name, name)
        equity_axes.plot(dates, equity, label=f"{label} ({equity[-1]:.2f})", **style)
        drawdown_axes.plot(dates, 100 * drawdown, **style)
    costs = f", after costs of {cost_bps:g} bps per side" if cost_bps is not None else ""
    equity_axes.set_title(
        f"{title}{': ' if title else ''}growth of 1 invested{costs} (not investment advice)"
    )
    equity_axes.set_ylabel("equity")
    equity_axes.axhline(1.0, color="grey", linewidth=0.8)
    equity_axes.legend()
    equity_axes.grid(alpha=0.3)
    drawdown_axes.set_ylabel("drawdown (%)")
    drawdown_axes.set_xlabel("Date")
    drawdown_axes.grid(alpha=0.3)
    return figure
