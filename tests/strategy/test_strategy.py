"""Trading rules on backtest predictions (strategy.py), their significance tests
(strategy_significance.py) and the equity figure (strategy_plot.py), on hand-made prices."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lstm_forecast.config.load import config_from_dict
from lstm_forecast.config.schema import StrategyConfig
from lstm_forecast.errors import ConfigError, DataError
from lstm_forecast.strategy.evaluate import evaluate_strategies
from lstm_forecast.strategy.significance import confidence_set, ranking, spa_test
from lstm_forecast.strategy.strategies import (
    add_volatility,
    max_drawdown,
    sharpe_ratio,
    simulate,
    strategy_metrics,
    trial_returns,
    with_periods,
)

COST = 5e-4  # the default 5 bps per side
FAST = StrategyConfig(bootstrap_reps=200)  # enough replications for tests that need no precision


def table_of(prices, predicted=None, baseline=None, start="2024-01-01") -> pd.DataFrame:
    """A backtest's predictions of prices[1:], each row's last known price the one before."""
    prices = np.asarray(prices, np.float64)
    previous, actual = prices[:-1], prices[1:]
    return pd.DataFrame(
        {
            "date": pd.bdate_range(start, periods=len(actual)),
            "actual": actual,
            "predicted": actual if predicted is None else predicted,
            "persistence": previous,
            "baseline": previous if baseline is None else baseline,
        }
    )


def random_prices(rows: int, seed: int, drift: float = 0.0) -> np.ndarray:
    generator = np.random.default_rng(seed)
    return 100 * np.exp(np.cumsum(np.r_[0.0, generator.normal(drift, 0.01, rows)]))


def test_a_perfect_forecast_earns_every_rise_less_the_costs_of_its_trades():
    prices = [100, 102, 101, 103, 103.5, 99]
    simulation = simulate(table_of(prices), StrategyConfig())
    model = simulation.returns["model"].to_numpy()
    # rises of 2 %, 1.98 % and 0.49 % beat the 0.1 % round trip: long; falls: flat
    assert simulation.positions["model"].tolist() == [1, 0, 1, 1, 0]
    expected = [
        (1 - COST) * 102 / 100 - 1,  # buy at 100
        (1 - COST) - 1,  # sell at 102, before the fall
        (1 - COST) * 103 / 101 - 1,  # buy at 101
        103.5 / 103 - 1,  # hold
        (1 - COST) - 1,  # sell at 103.5
    ]
    np.testing.assert_allclose(model, expected, rtol=0, atol=1e-15)
    growth = np.prod(1 + model)
    assert growth == pytest.approx(1.02 * (103 / 101) * (103.5 / 103) * (1 - COST) ** 4, rel=1e-14)
    assert simulation.costs["model"].sum() == pytest.approx(4 * COST)


def test_a_forecast_that_always_says_up_is_buy_and_hold_which_pays_its_entry_once():
    prices = random_prices(60, seed=1)
    simulation = simulate(table_of(prices, predicted=prices[:-1] * 1.05), StrategyConfig())
    returns = simulation.returns
    pd.testing.assert_series_equal(returns["model"], returns["buy_and_hold"], check_names=False)
    moves = prices[1:] / prices[:-1] - 1
    assert returns["buy_and_hold"].iloc[0] == pytest.approx((1 - COST) * (1 + moves[0]) - 1)
    np.testing.assert_allclose(returns["buy_and_hold"].to_numpy()[1:], moves[1:], rtol=1e-12)
    assert simulation.costs["buy_and_hold"].sum() == pytest.approx(COST)


def test_costs_change_the_returns_only_by_the_cost_paid():
    generator = np.random.default_rng(2)
    # every move is 1 % or more, so the 0.1 % round trip never changes a decision
    prices = 100 * np.cumprod(
        np.r_[1.0, 1 + generator.choice([-1, 1], 80) * generator.uniform(0.01, 0.03, 80)]
    )
    table = add_volatility(
        table_of(prices), pd.Series(prices, index=pd.bdate_range("2023-12-29", periods=len(prices)))
    )
    free, costly = simulate(table, StrategyConfig(cost_bps=0)), simulate(table, StrategyConfig())
    pd.testing.assert_frame_equal(free.positions, costly.positions)
    assert (free.costs == 0).all().all()
    turnover = np.abs(costly.positions.diff().fillna(costly.positions)).to_numpy()
    np.testing.assert_allclose(costly.costs.to_numpy(), COST * turnover, rtol=1e-12)
    np.testing.assert_allclose(
        1 + costly.returns, (1 + free.returns) * (1 - costly.costs), rtol=1e-12
    )
    free_paid = strategy_metrics(free, 252)["cost_paid"]
    costly_paid = strategy_metrics(costly, 252)["cost_paid"]
    np.testing.assert_allclose(costly_paid - free_paid, COST * turnover.sum(axis=0), rtol=1e-12)


@pytest.mark.parametrize("volatility", ["measured on the table", "from the price series"])
def test_no_look_ahead_a_different_future_changes_nothing_before_it(volatility):
    rows, k = 90, 50
    prices = random_prices(rows, seed=3)
    future = prices.copy()
    future[k + 1 :] *= np.exp(np.cumsum(np.random.default_rng(4).normal(0.01, 0.03, rows - k)))
    config = StrategyConfig(allow_short=True, leverage_cap=2.0)

    def paths(p):
        # the "model": a forecast from the two prices before each row only
        predicted = p[1:-1] * (p[1:-1] / p[:-2]) ** 0.5
        table = table_of(p[1:], predicted=predicted, baseline=p[1:-1] * 1.001)
        if volatility == "from the price series":
            table = add_volatility(
                table, pd.Series(p, index=pd.bdate_range("2023-12-28", periods=len(p)))
            )
        return simulate(table, config)

    before, after = paths(prices), paths(future)
    # row j of the table predicts prices[j + 2]: rows up to k - 2 predict prices up to k
    last = k - 2
    pd.testing.assert_frame_equal(
        before.positions.iloc[: last + 2], after.positions.iloc[: last + 2]
    )
    pd.testing.assert_frame_equal(before.returns.iloc[: last + 1], after.returns.iloc[: last + 1])
    assert not before.returns.iloc[last + 1 :].equals(
        after.returns.iloc[last + 1 :]
    )  # the test can fail


def test_an_open_target_trades_at_the_previous_close_and_loses_no_move():
    # each row: the previous open, the close after it (the entry price), the open predicted
    opens = np.array([100.0, 101.0, 99.0, 100.5, 102.0])
    closes = np.array([100.5, 100.2, 99.5, 101.5])  # after opens[:-1]
    table = table_of(opens, predicted=closes * np.array([1.01, 0.99, 1.01, 1.01]))
    table["previous_close"] = closes
    simulation = simulate(table, StrategyConfig(cost_bps=0))
    assert simulation.positions["model"].tolist() == [1, 0, 1, 1]  # decided against the close
    model = simulation.returns["model"].to_numpy()
    expected = [
        opens[1] / closes[0] - 1,  # flat until the first close, then long to the next open
        (closes[1] / opens[1]) - 1,  # long through the day, sold at its close
        opens[3] / closes[2] - 1,  # flat through the day, bought at its close
        (closes[3] / opens[3]) * (opens[4] / closes[3]) - 1,  # held
    ]
    np.testing.assert_allclose(model, expected, rtol=1e-14)
    growth = np.prod(1 + simulation.returns["buy_and_hold"])
    assert growth == pytest.approx(opens[-1] / closes[0])  # bought at the first close


def test_metrics_of_a_hand_made_path():
    assert max_drawdown(np.array([0.1, -0.5, 0.2, 0.5])) == pytest.approx(0.5)
    assert max_drawdown(np.array([-0.1, 0.05])) == pytest.approx(0.1)  # from the start at 1
    assert sharpe_ratio(np.zeros(10), 252) == 0.0
    returns = np.array([0.01, -0.02, 0.03, 0.0])
    assert sharpe_ratio(returns, 252) == pytest.approx(
        returns.mean() / returns.std(ddof=1) * np.sqrt(252)
    )
    prices = [100, 102, 101, 103, 103.5, 99]
    table = strategy_metrics(simulate(table_of(prices), StrategyConfig()), periods_per_year=5)
    assert table.loc["model", "turnover"] == pytest.approx(4.0)  # 4 trades in one "year"
    assert table.loc["model", "hit_rate"] == 1.0
    assert table.loc["model", "time_in_market"] == pytest.approx(0.6)
    assert table.loc["buy_and_hold", "annual_return"] == pytest.approx(0.99 * (1 - COST) - 1)


def test_the_volatility_managed_exposure_aims_at_the_target_and_stops_at_the_cap():
    prices = random_prices(40, seed=5)
    table = table_of(prices).assign(volatility=np.r_[np.full(20, 0.02), np.full(20, 0.001)])
    positions = simulate(table, StrategyConfig(target_volatility=0.1, leverage_cap=1.5)).positions
    exposure = positions["volatility_managed"].to_numpy()
    np.testing.assert_allclose(exposure[:20], 0.1 / (0.02 * np.sqrt(252)))
    np.testing.assert_allclose(exposure[20:], 1.5)


def test_spa_finds_a_clearly_dominating_strategy_and_not_noise():
    generator = np.random.default_rng(6)
    dates = pd.bdate_range("2020-01-01", periods=750)
    benchmark = pd.Series(generator.normal(0.0, 0.01, 750), index=dates)
    better = benchmark + 0.002 + generator.normal(0, 0.002, 750)
    noise = pd.DataFrame(
        {f"noise{i}": generator.normal(0.0, 0.01, 750) for i in range(3)}, index=dates
    )
    config = StrategyConfig(bootstrap_reps=500, seed=1)
    dominating = spa_test(noise.assign(better=better), benchmark, config)
    assert dominating["consistent"] < 0.01
    assert dominating["lower"] <= dominating["consistent"] <= dominating["upper"]
    assert spa_test(noise, benchmark, config)["consistent"] > 0.1
    assert spa_test(noise, benchmark, config) == spa_test(noise, benchmark, config)  # seeded


def test_evaluate_strategies_on_noise_finds_no_evidence_and_counts_the_trials():
    prices = random_prices(300, seed=7, drift=0.0005)
    noise = np.random.default_rng(8).normal(0, 0.01, 300)
    table = table_of(prices, predicted=prices[:-1] * np.exp(noise))
    result = evaluate_strategies(table, FAST)
    assert list(result.table.index) == ["model", "volatility_managed", "baseline", "buy_and_hold"]
    assert result.verdict.startswith(
        f"No evidence that any strategy beats buy-and-hold after costs of 5 bps per side (SPA p = {result.spa['consistent']:.2f} over 3 strategies)"
    )
    assert result.verdict.endswith("Not investment advice.")
    assert result.spa["consistent"] > 0.05
    others = result.table.drop(index="buy_and_hold")
    assert (others["sharpe_low"] <= others["sharpe_difference"]).all()
    assert (others["sharpe_difference"] <= others["sharpe_high"]).all()
    assert result.table["in_confidence_set"].any()
    trials = trial_returns(
        {f"config {i}": table_of(prices, predicted=prices[:-1] * (1 + 0.01 * i)) for i in range(2)},
        FAST,
    )
    with_trials = evaluate_strategies(table, FAST, trials)
    assert with_trials.spa["strategies"] == 5 and with_trials.spa["trials"] == 2
    assert "over 5 strategies including 2 trials" in with_trials.verdict


def test_the_confidence_set_keeps_the_best_and_ties_share_a_pvalue():
    generator = np.random.default_rng(9)
    base = generator.normal(0, 0.01, 500)
    returns = pd.DataFrame({"best": base + 0.003, "twin": base + 0.003, "worse": base - 0.003})
    table = confidence_set(returns, FAST)
    assert table.loc["best", "in_confidence_set"] and not table.loc["worse", "in_confidence_set"]
    assert table.loc["best", "mcs_pvalue"] == table.loc["twin", "mcs_pvalue"]
    assert list(ranking(returns, FAST).index)[-1] == "worse"


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"cost_bps": -1}, "[strategy] cost_bps must be from 0 to 9999"),
        ({"target_volatility": 0}, "[strategy] target_volatility must be above 0"),
        ({"leverage_cap": -2.0}, "[strategy] leverage_cap must be above 0"),
        ({"periods_per_year": -1}, "[strategy] periods_per_year must be 0 (from the data's step)"),
        ({"bootstrap_reps": 10}, "[strategy] bootstrap_reps must be at least 100"),
        ({"level": 1.5}, "[strategy] level must be between 0 and 1"),
        ({"seed": -1}, "[strategy] seed must be from 0"),
        ({"cost_bps": float("inf")}, "x.toml: [strategy] cost_bps must be a finite number"),
        ({"allow_short": "yes"}, 'x.toml: [strategy] allow_short must be true or false, got "yes"'),
        ({"periods_per_year": 252.5}, "x.toml: [strategy] periods_per_year must be a whole number"),
        ({"cost": 5}, "x.toml: [strategy]: unknown key 'cost'; valid keys: cost_bps"),
    ],
)
def test_bad_config_values_raise_a_one_line_config_error(values, message):
    with pytest.raises(ConfigError) as error:
        config_from_dict({"strategy": values}, "x.toml")
    assert str(error.value).startswith(message)
    assert "\n" not in str(error.value)


def test_a_config_from_toml_values_and_directly():
    toml = {"strategy": {"cost_bps": 2, "allow_short": True, "leverage_cap": 2}}
    config = config_from_dict(toml).strategy
    assert config == StrategyConfig(cost_bps=2.0, allow_short=True, leverage_cap=2.0)
    with pytest.raises(ConfigError, match="target_volatility"):
        StrategyConfig(target_volatility=float("nan"))


def test_predictions_that_cannot_be_traded_are_refused():
    table = table_of(random_prices(10, seed=10))
    with pytest.raises(DataError, match="lack the column 'baseline'"):
        simulate(table.drop(columns="baseline"), FAST)
    with pytest.raises(DataError, match="not consecutive"):
        simulate(table.drop(index=4), FAST)
    with pytest.raises(DataError, match="date twice"):
        simulate(pd.concat([table, table]), FAST)
    with pytest.raises(DataError, match="whole price series"):
        add_volatility(
            table, pd.Series([100.0, 101.0], index=pd.bdate_range("2024-01-01", periods=2))
        )


def test_the_equity_figure_draws_every_strategy_beside_buy_and_hold():
    from lstm_forecast.strategy.plot import equity_figure

    prices = random_prices(60, seed=11)
    result = evaluate_strategies(table_of(prices), FAST)
    figure = equity_figure(result.returns, "test", cost_bps=5)
    equity_axes = figure.axes[0]
    labels = [
        line.get_label() for line in equity_axes.get_lines() if not line.get_label().startswith("_")
    ]
    assert len(labels) == 4 and labels[-1].startswith("buy-and-hold")
    final = np.prod(1 + result.returns["buy_and_hold"])
    assert equity_axes.get_lines()[3].get_ydata()[-1] == pytest.approx(final)
    import matplotlib.pyplot as plt

    plt.close(figure)


@pytest.mark.parametrize(
    ("dates", "periods"),
    [
        (pd.bdate_range("2024-01-01", periods=60), 252),
        (pd.date_range("2024-01-07", periods=60, freq="W-SUN"), 52),
        (pd.date_range("2020-01-31", periods=40, freq="ME"), 12),
    ],
)
def test_rows_per_year_come_from_the_data_step_unless_given(dates, periods):
    config = StrategyConfig()
    assert with_periods(config, dates).periods_per_year == periods
    assert with_periods(StrategyConfig(periods_per_year=7), dates).periods_per_year == 7


def test_weekly_rows_annualise_with_52():
    prices = random_prices(60, seed=4)
    table = table_of(prices)
    table = table.assign(date=pd.date_range("2023-01-06", periods=len(table), freq="W-FRI"))
    weekly = evaluate_strategies(table, FAST)
    assert weekly.config.periods_per_year == 52
    returns = weekly.returns["buy_and_hold"].to_numpy()
    assert weekly.table.loc["buy_and_hold", "sharpe"] == pytest.approx(sharpe_ratio(returns, 52))


def test_too_few_rows_are_scored_but_not_tested():
    result = evaluate_strategies(table_of(random_prices(8, seed=5)), FAST)
    # 9 prices, 8 rows traded
    assert result.verdict.startswith("Too few rows (8) to test the strategies")
    assert np.isnan(result.spa["consistent"]) and "sharpe" in result.table
    assert len(result.returns) == 8
