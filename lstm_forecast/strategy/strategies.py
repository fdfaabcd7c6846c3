"""Would the forecasts have made money? Daily positions and returns of simple trading rules on a
backtest's out-of-sample predictions, beside buy-and-hold, after costs. Not investment advice.

Computing only, on in-memory frames; the significance tests are in strategy_significance.py.

The strategies (STRATEGIES):
  model               long when the model's forecast exceeds the entry price by more than the
                      round-trip cost, flat otherwise (short below minus that cost, allow_short)
  volatility_managed  always long, exposure min(leverage_cap, target_volatility / forecast
                      volatility): volatility targeting, as in Moreira & Muir's (2017)
                      volatility-managed portfolios (they scale by variance; we by volatility)
  baseline            the model's rule driven by the fold's strongest naive baseline instead
  buy_and_hold        long 1 throughout

Execution, the one assumption everything rests on (no look-ahead): the decision for row t is
taken at the last price its forecast knew, the *entry price*: the previous close when the table
has a `previous_close` column (an Open target forecast after the close before it; the decision
waits for that close), else the target's previous value (`persistence`). The trade fills at the
entry price and the position is kept until the next decision. So row t earns, with the previous
position, the move from the previous row's price to the entry price (nothing without a
`previous_close` column), then, with the new position, the move from the entry price to row t's
actual price. Costs: cost_bps per unit of turnover |new weight - old weight|, charged at the fill;
every strategy starts flat, so buy-and-hold pays its entry once. Cash earns nothing (Sharpe ratios
use a zero risk-free rate); short positions pay no borrowing fee; weights are rebalanced exactly
(the small trades that drift would need are not counted).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pandas as pd

from lstm_forecast.config.schema import BASIS_POINTS, StrategyConfig
from lstm_forecast.errors import DataError

STRATEGIES = ("model", "volatility_managed", "baseline", "buy_and_hold")
BENCHMARK = "buy_and_hold"
STRATEGY_LABELS = {
    "model": "model direction",
    "volatility_managed": "volatility-managed",
    "baseline": "baseline direction",
    "buy_and_hold": "buy-and-hold",
}
REQUIRED_COLUMNS = ("date", "actual", "predicted", "persistence", "baseline")
VOLATILITY_WARMUP_ROWS = 20  # first rows of a price series with no volatility estimate used


@dataclass(frozen=True)
class Simulation:
    """The strategies' daily paths, one column per strategy, indexed by date."""

    positions: pd.DataFrame  # target weight held from each row's entry price on
    returns: pd.DataFrame  # each row's return after costs
    costs: pd.DataFrame  # each row's cost, a share of the capital before the trade
    moves: pd.Series  # the price's move from the entry price to the actual price


def add_volatility(predictions: pd.DataFrame, prices: pd.Series) -> pd.DataFrame:
    """`predictions` with a `volatility` column: each row's forecast of the daily volatility,
    the exponentially weighted volatility of the target's log returns (intervals.volatility, the
    one the conformal bands scale by) at the row before it in `prices`, from prices up to that
    row only. `prices`: the target over the whole data, indexed by date, the history before the
    first fold included (rows with fewer than VOLATILITY_WARMUP_ROWS returns before them get no
    estimate: the volatility-managed strategy stays flat there)."""
    dates = pd.DatetimeIndex(pd.to_datetime(predictions["date"]))
    index = pd.DatetimeIndex(pd.to_datetime(prices.index))
    missing = dates.difference(index)
    if len(missing):
        raise DataError(
            f"no price on {missing[0].date()}, a date of the predictions; pass the whole price series"
        )
    sigma = pd.Series(causal_volatility(prices.to_numpy(np.float64)), index=index)
    at_origin = sigma.shift(1)  # row t: the volatility known at its origin, row t - 1
    return predictions.assign(volatility=at_origin.reindex(dates).to_numpy())


def causal_volatility(prices: np.ndarray) -> np.ndarray:
    """(rows,) intervals.volatility of `prices`, NaN on the first VOLATILITY_WARMUP_ROWS rows:
    there it fills in a value measured on later rows, and too few returns are known anyway. (Its
    floor, 1e-3 of the median over all rows, is the one other use of later rows: it binds only
    on a price that does not move, whose exposure is the cap at any floor that small.)"""
    from lstm_forecast.intervals.spread import volatility

    sigma = volatility(prices)
    sigma[:VOLATILITY_WARMUP_ROWS] = np.nan
    return sigma


DEFAULT_PERIODS = 252  # rows per year when the dates show no regular step


def with_periods(config: StrategyConfig, dates) -> StrategyConfig:
    """`config` with periods_per_year set: as given, or (0) from the step of `dates` (252 for
    business days, 52 for weeks, 12 for months, the bars of a year intraday); 252 when the
    dates have no regular step."""
    if config.periods_per_year:
        return config
    from lstm_forecast.data.frequency import infer_frequency

    try:
        index = pd.DatetimeIndex(pd.to_datetime(pd.Series(dates).astype(str), utc=True))
        periods = round(infer_frequency(index.tz_convert(None)).periods_per_year)
    except (DataError, ValueError, TypeError):
        periods = DEFAULT_PERIODS
    return dataclasses.replace(config, periods_per_year=max(int(periods), 1))


def simulate(predictions: pd.DataFrame, config: StrategyConfig) -> Simulation:
    """Every strategy's positions, costs and daily returns over the rows of one series'
    backtest (REQUIRED_COLUMNS; `previous_close` and `volatility` used when present)."""
    table = _checked(predictions)
    config = with_periods(config, table["date"])
    actual = table["actual"].to_numpy(np.float64)
    previous = table["persistence"].to_numpy(np.float64)
    entry = previous.copy()
    if "previous_close" in table:
        close = table["previous_close"].to_numpy(np.float64)
        entry = np.where(np.isfinite(close) & (close > 0), close, previous)
    gap = entry / previous - 1.0  # (rows,) previous price to entry price, the old position's
    move = actual / entry - 1.0  # (rows,) entry price to actual price, the new position's
    volatility = _volatility(table, actual, previous)
    threshold = 2.0 * config.cost_bps / BASIS_POINTS  # a round trip
    targets = {
        "model": _direction(table["predicted"].to_numpy(np.float64), entry, threshold, config),
        "volatility_managed": _exposure(volatility, config),
        "baseline": _direction(table["baseline"].to_numpy(np.float64), entry, threshold, config),
        "buy_and_hold": np.ones(len(table)),
    }
    positions = pd.DataFrame(
        targets, index=pd.DatetimeIndex(pd.to_datetime(table["date"]), name="date")
    )
    held_before = positions.shift(1, fill_value=0.0).to_numpy()  # everybody starts flat
    cost = config.cost_bps / BASIS_POINTS * np.abs(positions.to_numpy() - held_before)
    growth = (
        (1 + held_before * gap[:, None]) * (1 - cost) * (1 + positions.to_numpy() * move[:, None])
    )
    frame = lambda values: pd.DataFrame(values, index=positions.index, columns=positions.columns)  # noqa: E731
    return Simulation(
        positions, frame(growth - 1.0), frame(cost), pd.Series(move, index=positions.index)
    )


def _checked(predictions: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in REQUIRED_COLUMNS if c not in predictions]
    if missing:
        raise DataError(
            f"the predictions lack the column {missing[0]!r}; a backtest's predictions have {', '.join(REQUIRED_COLUMNS)}"
        )
    if len(predictions) < 2:
        raise DataError(
            f"{len(predictions)} predicted row(s): too few to trade on; backtest more folds"
        )
    table = predictions.sort_values("date", kind="stable").reset_index(drop=True)
    prices = table[["actual", "persistence"]].to_numpy(np.float64)
    if not (np.isfinite(prices).all() and (prices > 0).all()):
        raise DataError(
            "the predictions' actual and persistence prices must all be positive numbers to trade on"
        )
    if pd.to_datetime(table["date"]).duplicated().any():
        raise DataError("the predictions hold a date twice: pass one series' backtest at a time")
    # each row must start where the one before ended, or a move would be earned by nobody
    broken = ~np.isclose(
        table["persistence"].to_numpy()[1:], table["actual"].to_numpy()[:-1], rtol=1e-4
    )
    if broken.any():
        row = int(np.argmax(broken)) + 1
        raise DataError(
            f"the predictions are not consecutive rows: {table['date'].iloc[row]} does not start from the actual price of the row before"
        )
    return table


def _direction(
    forecast: np.ndarray, entry: np.ndarray, threshold: float, config: StrategyConfig
) -> np.ndarray:
    """+1 where the forecast's expected move beats the round-trip cost, -1 (allow_short) where it
    loses more than that, else 0; 0 where there is no forecast."""
    with np.errstate(invalid="ignore"):
        expected = forecast / entry - 1.0  # NaN without a forecast: flat
    position = np.where(expected > threshold, 1.0, 0.0)
    if config.allow_short:
        position = np.where(expected < -threshold, -1.0, position)
    return position


def _exposure(volatility: np.ndarray, config: StrategyConfig) -> np.ndarray:
    """min(cap, target / forecast volatility, annualised); 0 where no volatility is known."""
    annual = volatility * np.sqrt(config.periods_per_year)
    with np.errstate(divide="ignore", invalid="ignore"):
        exposure = np.minimum(config.leverage_cap, config.target_volatility / annual)
    return np.where(np.isfinite(exposure) & (exposure > 0), exposure, 0.0)


def _volatility(table: pd.DataFrame, actual: np.ndarray, previous: np.ndarray) -> np.ndarray:
    """(rows,) the daily volatility known at each row's origin: the `volatility` column
    (add_volatility) or, without one, measured on the table's own prices (causal_volatility:
    the volatility-managed strategy stays flat on the first VOLATILITY_WARMUP_ROWS rows)."""
    if "volatility" in table:
        return table["volatility"].to_numpy(np.float64)
    chain = np.concatenate([previous[:1], actual])  # the prices from the first origin on
    return causal_volatility(chain)[:-1]  # row t: the chain's row t, its origin


# ---- metrics ------------------------------------------------------------------------------------


def sharpe_ratio(returns: np.ndarray, periods_per_year: int) -> float:
    """Annualised mean over standard deviation of per-row returns (zero risk-free rate); 0 for
    returns that never vary (a strategy that never holds a position)."""
    returns = np.asarray(returns, np.float64)
    std = returns.std(ddof=1) if returns.size > 1 else 0.0
    return float(returns.mean() / std * np.sqrt(periods_per_year)) if std > 0 else 0.0


def max_drawdown(returns: np.ndarray) -> float:
    """The largest fall of the equity curve from a previous peak, as a share (0.2 = -20 %);
    the curve starts at 1."""
    equity = np.concatenate([[1.0], np.cumprod(1.0 + np.asarray(returns, np.float64))])
    return float(np.max(1.0 - equity / np.maximum.accumulate(equity)))


def strategy_metrics(simulation: Simulation, periods_per_year: int) -> pd.DataFrame:
    """One row per strategy: annualised return and volatility, Sharpe ratio, maximum drawdown,
    annualised turnover, hit rate (rows in the market whose position earned on the move it
    forecast), time in the market, total cost paid (summed shares of capital)."""
    rows = len(simulation.returns)
    years = rows / periods_per_year
    held_before = simulation.positions.shift(1, fill_value=0.0)
    rows_out = {}
    for name in simulation.returns:
        returns = simulation.returns[name].to_numpy()
        position = simulation.positions[name].to_numpy()
        earned = position * simulation.moves.to_numpy()
        in_market = (position != 0) & (simulation.moves.to_numpy() != 0)
        rows_out[name] = {
            "annual_return": float(np.prod(1.0 + returns) ** (1.0 / years) - 1.0),
            "annual_volatility": float(returns.std(ddof=1) * np.sqrt(periods_per_year)),
            "sharpe": sharpe_ratio(returns, periods_per_year),
            "max_drawdown": max_drawdown(returns),
            "turnover": float(np.abs(position - held_before[name].to_numpy()).sum() / years),
            "hit_rate": float((earned[in_market] > 0).mean()) if in_market.any() else float("nan"),
            "time_in_market": float((position != 0).mean()),
            "cost_paid": float(simulation.costs[name].sum()),
        }
    return pd.DataFrame.from_dict(rows_out, orient="index").rename_axis("strategy")


def trial_returns(
    predictions: dict[str, pd.DataFrame], config: StrategyConfig | None = None
) -> dict[str, pd.Series]:
    """{name: the model strategy's daily returns after costs} for the predictions of every
    config or trial tried on one series: what evaluate_strategies' `trials` takes."""
    config = config or StrategyConfig()
    return {name: simulate(table, config).returns["model"] for name, table in predictions.items()}
