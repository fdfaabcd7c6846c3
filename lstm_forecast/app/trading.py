"""A backtest's strategies on file: strategies.csv (each strategy's numbers beside buy-and-hold),
strategy_returns.csv (daily returns after costs and positions) and equity.png (equity curves and
drawdowns). Not investment advice."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from lstm_forecast.files.names import EQUITY_FIGURE, STRATEGIES_FILE, STRATEGY_RETURNS_FILE
from lstm_forecast.files.write import write_csv
from lstm_forecast.report.run_plots import save_figure
from lstm_forecast.strategy.evaluate import StrategyResult


def write_strategies(directory: Path, result: StrategyResult, title: str) -> list[Path]:
    """The three files into `directory` (a staged directory of ours)."""
    from lstm_forecast.strategy.plot import equity_figure

    table = result.table.reset_index()
    write_csv(directory / STRATEGIES_FILE, table, index=False, float_format="%.6g")
    daily = pd.concat(
        [result.returns.add_suffix("_return"), result.positions.add_suffix("_position")], axis=1
    )
    write_csv(directory / STRATEGY_RETURNS_FILE, daily.rename_axis("date").reset_index(),
              index=False, float_format="%.8g")  # fmt: skip
    figure = equity_figure(result.returns, title, result.config.cost_bps)
    save_figure(figure, directory / EQUITY_FIGURE)
    return [directory / name for name in (STRATEGIES_FILE, STRATEGY_RETURNS_FILE, EQUITY_FIGURE)]
