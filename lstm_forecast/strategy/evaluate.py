"""The strategy evaluation's entry point: simulate every strategy on one series' backtest
predictions (strategies.py), then test them against buy-and-hold after costs (significance.py)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import pandas as pd

from lstm_forecast.config.schema import StrategyConfig
from lstm_forecast.errors import DataError
from lstm_forecast.strategy.significance import (
    confidence_set,
    sharpe_intervals,
    spa_test,
    verdict,
)
from lstm_forecast.strategy.strategies import BENCHMARK, simulate, strategy_metrics, with_periods

MIN_TEST_ROWS = 20  # fewer rows are traded and scored, not tested (one 20-row fold is enough)


@dataclass(frozen=True)
class StrategyResult:
    table: pd.DataFrame  # one row per strategy: metrics, Sharpe interval, SPA p, confidence set
    returns: pd.DataFrame  # daily returns after costs, one column per strategy, by date
    positions: pd.DataFrame  # daily target weights, one column per strategy, by date
    spa: dict  # the joint SPA test of every strategy (and trial) against buy-and-hold
    verdict: str  # one plain sentence
    config: StrategyConfig = dataclasses.field(default_factory=StrategyConfig)


def evaluate_strategies(
    predictions: pd.DataFrame,
    config: StrategyConfig | None = None,
    trials: dict[str, pd.Series] | None = None,
) -> StrategyResult:
    """Trade one series' backtest predictions with every strategy and test them against
    buy-and-hold after costs.

    Parameters
    ----------
    predictions: backtest.walk_forward's predictions of one series: date, actual, predicted,
        persistence, baseline, and when present previous_close (the entry price) and volatility
        (add_volatility(); without it the volatility is measured on the table's own prices).
    trials: daily returns after costs of every other strategy that was tried on the same rows
        (the model strategy of every config of a league or trial of a tune: trial_returns()),
        so that the SPA p-value pays for all of them.

    Returns the metrics table (with each strategy's Sharpe-difference interval and SPA p-value
    against buy-and-hold, and its model-confidence-set p-value), the daily returns and positions,
    the joint SPA test and the verdict sentence.
    """
    config = with_periods(config or StrategyConfig(), predictions["date"])
    simulation = simulate(predictions, config)
    returns = simulation.returns
    table = strategy_metrics(simulation, config.periods_per_year)
    benchmark = returns[BENCHMARK]
    others = returns.drop(columns=BENCHMARK)
    if len(returns) < MIN_TEST_ROWS:  # the bootstraps need a few blocks of rows
        spa = {"consistent": float("nan"), "strategies": others.shape[1], "reps": 0,
               "trials": len(trials or {})}  # fmt: skip
        sentence = (
            f"Too few rows ({len(returns)}) to test the strategies against buy-and-hold: the "
            f"test needs at least {MIN_TEST_ROWS}; backtest more folds. Not investment advice."
        )
        return StrategyResult(table, returns, simulation.positions, spa, sentence, config)
    table = table.join(sharpe_intervals(others, benchmark, config))
    table["spa_pvalue"] = pd.Series(
        {name: spa_test(others[[name]], benchmark, config)["consistent"] for name in others}
    )
    table = table.join(confidence_set(returns, config))
    tried = others
    if trials:
        extra = pd.DataFrame(trials).reindex(returns.index)
        if extra.isna().any().any():
            raise DataError("every trial's returns must cover the dates of the predictions")
        tried = pd.concat([others, extra.add_prefix("trial:")], axis=1)
    spa = spa_test(tried, benchmark, config) | {"trials": len(trials or {})}
    return StrategyResult(
        table=table,
        returns=returns,
        positions=simulation.positions,
        spa=spa,
        verdict=verdict(table, spa, config),
        config=config,
    )
