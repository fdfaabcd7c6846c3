"""Would acting on the backtest's forecasts have paid, after costs: the strategies of
lstm_forecast.strategy on the out-of-sample predictions of every fold, beside buy-and-hold, and
what of it goes into the backtest's summary. Not investment advice."""

from __future__ import annotations

import pandas as pd

from lstm_forecast.config.schema import Config
from lstm_forecast.strategy.evaluate import StrategyResult, evaluate_strategies
from lstm_forecast.strategy.strategies import STRATEGY_LABELS, add_volatility

SUMMARY_COLUMNS = ("annual_return", "annual_volatility", "sharpe", "max_drawdown", "turnover",
                   "hit_rate", "time_in_market", "cost_paid", "sharpe_difference", "sharpe_low",
                   "sharpe_high", "spa_pvalue", "mcs_pvalue")  # fmt: skip


def trade(config: Config, predictions: pd.DataFrame, frame: pd.DataFrame) -> StrategyResult:
    """Every strategy on the pooled one-step predictions of all folds (one row per date), each
    row's volatility forecast from the prices before it (`frame`: the data, target first)."""
    rows = predictions.drop(columns="fold", errors="ignore")
    return evaluate_strategies(add_volatility(rows, frame.iloc[:, 0]), config.strategy)


def strategy_summary(result: StrategyResult) -> dict:
    """What summary.json keeps of the strategies: the settings, each strategy's numbers, the
    joint SPA test and the verdict sentence."""
    table = result.table
    return {
        "cost_bps": result.config.cost_bps,
        "allow_short": result.config.allow_short,
        "target_volatility": result.config.target_volatility,
        "periods_per_year": result.config.periods_per_year,
        "rows": len(result.returns),
        "strategies": {
            name: {
                "label": STRATEGY_LABELS.get(name, name),
                **{key: float(table.loc[name, key]) for key in SUMMARY_COLUMNS if key in table},
            }
            for name in table.index
        },
        "spa": dict(result.spa),
        "verdict": result.verdict,
    }
