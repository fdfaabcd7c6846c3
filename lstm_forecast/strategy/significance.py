"""Whether a strategy's edge over buy-and-hold survives data snooping, with `arch`'s bootstraps:
Hansen's (2005) SPA test of every strategy tried at once, a stationary-bootstrap interval of each
Sharpe-ratio difference, and the model confidence set (Hansen, Lunde & Nason 2011) for rankings.

Daily returns are serially dependent (volatility clusters), so every resample is a stationary
bootstrap (Politis & Romano 1994) with the block length of Politis & White (2004), seeded.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from lstm_forecast.config.schema import StrategyConfig
from lstm_forecast.strategy.strategies import BENCHMARK, STRATEGY_LABELS, sharpe_ratio

SIGNIFICANCE_LEVEL = 0.05  # an SPA p-value below it is evidence that something beats the benchmark


def block_length(data: np.ndarray | pd.DataFrame) -> int:
    """The stationary bootstrap's mean block length for `data` (rows, columns): the mean over
    the columns of Politis & White's estimate, at least 1; sqrt(rows) where it cannot be told
    (a column that never varies)."""
    from arch.bootstrap import optimal_block_length

    values = np.asarray(data, np.float64).reshape(len(data), -1)
    varying = values[:, values.std(axis=0) > 0]
    estimate = (
        float(np.mean(optimal_block_length(varying)["stationary"])) if varying.size else np.nan
    )
    if not np.isfinite(estimate):
        estimate = np.sqrt(len(values))
    return max(1, int(np.ceil(estimate)))


def spa_test(returns: pd.DataFrame, benchmark: pd.Series, config: StrategyConfig) -> dict:
    """Hansen's SPA test of whether any column of `returns` has a higher mean daily return than
    `benchmark` (losses are negative returns), accounting for all the columns tried.

    Returns {"lower", "consistent", "upper": p-values (the consistent one is the test's own),
    "strategies": columns tested, "block_length", "reps"}. A column identical to the benchmark
    cannot beat it and is left out; with none left every p-value is 1.
    """
    from arch.bootstrap import SPA

    losses = -returns.to_numpy(np.float64)  # (rows, strategies)
    benchmark_losses = -benchmark.to_numpy(np.float64)
    differs = np.any(np.abs(losses - benchmark_losses[:, None]) > 1e-15, axis=0)
    out = {"strategies": int(returns.shape[1]), "reps": config.bootstrap_reps}
    if not differs.any():
        return {"lower": 1.0, "consistent": 1.0, "upper": 1.0, "block_length": 1} | out
    size = block_length(benchmark_losses[:, None] - losses[:, differs])
    test = SPA(benchmark_losses, losses[:, differs], block_size=size, reps=config.bootstrap_reps,
               bootstrap="stationary", seed=config.seed)  # fmt: skip
    test.compute()
    pvalues = test.pvalues
    return (
        {name: float(pvalues[name]) for name in ("lower", "consistent", "upper")}
        | out
        | {"block_length": size}
    )


def sharpe_intervals(
    returns: pd.DataFrame, benchmark: pd.Series, config: StrategyConfig
) -> pd.DataFrame:
    """Per column of `returns`: its Sharpe ratio minus the benchmark's (`sharpe_difference`) and
    the stationary-bootstrap percentile interval of that difference at config.level
    (`sharpe_low`, `sharpe_high`), the rows resampled in the same blocks for both."""
    from arch.bootstrap import StationaryBootstrap

    periods = config.periods_per_year
    rows = {}
    for name in returns:
        strategy = returns[name].to_numpy(np.float64)
        bench = benchmark.to_numpy(np.float64)

        def difference(x: np.ndarray, y: np.ndarray) -> np.ndarray:
            return np.array([sharpe_ratio(x, periods) - sharpe_ratio(y, periods)])

        bootstrap = StationaryBootstrap(
            block_length(np.c_[strategy, bench]), strategy, bench, seed=config.seed
        )
        low, high = bootstrap.conf_int(
            difference, reps=config.bootstrap_reps, method="percentile", size=config.level
        )[:, 0]
        rows[name] = {
            "sharpe_difference": float(difference(strategy, bench)[0]),
            "sharpe_low": float(low),
            "sharpe_high": float(high),
        }
    return pd.DataFrame.from_dict(rows, orient="index")


def confidence_set(returns: pd.DataFrame, config: StrategyConfig) -> pd.DataFrame:
    """The model confidence set of the columns of `returns` (losses: negative returns) at
    config.level: per column its MCS p-value (`mcs_pvalue`) and whether it is in the set
    (`in_confidence_set`): the strategies that the data cannot tell from the best. Columns with
    identical returns share one p-value."""
    from arch.bootstrap import MCS

    losses = -returns
    distinct = losses.T.drop_duplicates().T  # a tie has no variance to studentise by
    if distinct.shape[1] < 2:
        pvalues = pd.Series(1.0, index=distinct.columns)
    else:
        test = MCS(distinct, size=1.0 - config.level, reps=config.bootstrap_reps, block_size=block_length(distinct),
                   method="R", bootstrap="stationary", seed=config.seed)  # fmt: skip
        test.compute()
        pvalues = test.pvalues.iloc[:, 0]
    # a duplicate column takes the p-value of the first column with the same returns
    same = {name: next(c for c in distinct if losses[c].equals(losses[name])) for name in losses}
    shown = pd.Series({name: float(pvalues[same[name]]) for name in losses})
    return pd.DataFrame({"mcs_pvalue": shown, "in_confidence_set": shown >= 1.0 - config.level})


def ranking(returns: pd.DataFrame, config: StrategyConfig) -> pd.DataFrame:
    """Columns of `returns` (strategies, configs, trials) ranked by Sharpe ratio, each with its
    model-confidence-set p-value: a ranking that says which places the data can tell apart."""
    sharpe = pd.Series(
        {name: sharpe_ratio(returns[name], config.periods_per_year) for name in returns},
        name="sharpe",
    )
    return confidence_set(returns, config).join(sharpe).sort_values("sharpe", ascending=False)


def verdict(table: pd.DataFrame, spa: dict, config: StrategyConfig) -> str:
    """One plain sentence: whether any strategy beat buy-and-hold after costs, with the SPA
    p-value, the best strategy's Sharpe ratio beside buy-and-hold's and its interval."""
    others = table.drop(index=BENCHMARK)
    best = others["annual_return"].idxmax()
    row, bench = others.loc[best], table.loc[BENCHMARK]
    tried = f"{spa['strategies']} strateg{'y' if spa['strategies'] == 1 else 'ies'}"
    if spa.get("trials"):
        tried += f" including {spa['trials']} trial{'s' * (spa['trials'] != 1)}"
    costs = f"after costs of {config.cost_bps:g} bps per side"
    detail = (
        f"the best, {STRATEGY_LABELS.get(best, best)}, returned {100 * row['annual_return']:.1f} % a year "
        f"against buy-and-hold's {100 * bench['annual_return']:.1f} %, Sharpe {row['sharpe']:.2f} against "
        f"{bench['sharpe']:.2f} ({100 * config.level:g} % interval of the difference "
        f"{row['sharpe_low']:+.2f} to {row['sharpe_high']:+.2f})"
    )
    p = spa["consistent"]
    if p < SIGNIFICANCE_LEVEL:
        return f"A strategy beat buy-and-hold {costs} (SPA p = {p:.3f} over {tried}): {detail}. Not investment advice."
    return f"No evidence that any strategy beats buy-and-hold {costs} (SPA p = {p:.2f} over {tried}); {detail}. Not investment advice."
