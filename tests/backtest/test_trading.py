"""Trading on a backtest's forecasts (backtest.trading, app.trading, the tune study's SPA over
all trials): what reaches summary.json, the files, the options, and no look-ahead."""

from __future__ import annotations

import json

import numpy as np
import optuna
import pandas as pd
from conftest import random_walk
from test_cli import invoke

from lstm_forecast.app.commands import backtest
from lstm_forecast.backtest.trading import strategy_summary, trade
from lstm_forecast.config.load import load_config, with_overrides
from lstm_forecast.config.schema import Config
from lstm_forecast.tune.results import trials_strategy

STRATEGIES = ["model", "volatility_managed", "baseline", "buy_and_hold"]


def predictions_of(prices: pd.Series, seed: int = 0) -> pd.DataFrame:
    """One-step predictions of the last 60 rows, as a backtest's pooled table has them."""
    noise = np.random.default_rng(seed).normal(0, 0.004, len(prices))
    rows = np.arange(len(prices) - 60, len(prices))
    return pd.DataFrame(
        {
            "fold": np.repeat([1, 2, 3], 20),
            "date": prices.index[rows].strftime("%Y-%m-%d"),
            "actual": prices.to_numpy()[rows],
            "predicted": prices.to_numpy()[rows - 1] * (1 + noise[rows]),
            "persistence": prices.to_numpy()[rows - 1],
            "baseline": prices.to_numpy()[rows - 1],
        }
    )


def test_trading_a_row_uses_no_price_after_it():
    walk = random_walk(200, seed=11)
    frame = walk.set_index("Date")[["Close"]]
    predictions = predictions_of(frame["Close"])
    first = trade(Config(), predictions, frame)
    # change every price from row 170 on, and the predictions of those rows
    changed = frame.copy()
    changed.iloc[170:, 0] *= np.linspace(1.5, 0.5, 30)
    later = predictions_of(changed["Close"], seed=1)
    later.iloc[:30] = predictions.iloc[:30]  # rows 140..169 keep what they knew
    second = trade(Config(), later, changed)
    pd.testing.assert_frame_equal(first.positions.iloc[:30], second.positions.iloc[:30])
    pd.testing.assert_frame_equal(first.returns.iloc[:30], second.returns.iloc[:30])
    assert not first.returns.iloc[31:].equals(second.returns.iloc[31:])


def test_the_summary_holds_each_strategy_the_test_and_the_verdict():
    frame = random_walk(200, seed=12).set_index("Date")[["Close"]]
    summary = strategy_summary(trade(Config(), predictions_of(frame["Close"]), frame))
    assert list(summary["strategies"]) == STRATEGIES
    assert summary["rows"] == 60 and summary["periods_per_year"] == 252
    assert summary["cost_bps"] == 5.0 and 0 <= summary["spa"]["consistent"] <= 1
    model = summary["strategies"]["model"]
    assert {"sharpe", "max_drawdown", "turnover", "spa_pvalue", "sharpe_low"} <= set(model)
    assert summary["verdict"].endswith("Not investment advice.")
    json.dumps(summary, allow_nan=True)  # what summary.json takes


def test_a_backtest_writes_the_strategies_with_the_cost_asked(tmp_path, tiny_config):
    frame = random_walk(90, seed=3)
    path = tmp_path / "prices.csv"
    frame.to_csv(path, index=False)
    config = with_overrides(
        load_config(tiny_config), data__path=str(path), train__epochs=1,
        forecast__interval="dropout", strategy__cost_bps=0.0,
    )  # fmt: skip
    backtest(config, 3, 8, tmp_path / "bt")
    summary = json.loads((tmp_path / "bt" / "summary.json").read_text())
    assert summary["strategy"]["cost_bps"] == 0 and summary["strategy"]["rows"] == 24
    assert summary["strategy"]["strategies"]["model"]["cost_paid"] == 0
    table = pd.read_csv(tmp_path / "bt" / "strategies.csv")
    assert table["strategy"].tolist() == STRATEGIES
    daily = pd.read_csv(tmp_path / "bt" / "strategy_returns.csv")
    assert len(daily) == 24 and "model_return" in daily and "model_position" in daily
    assert (tmp_path / "bt" / "equity.png").read_bytes()[:4] == b"\x89PNG"


def test_backtest_options_set_the_cost_and_shorting(tmp_path, tiny_config):
    path = tmp_path / "prices.csv"
    random_walk(90, seed=4).to_csv(path, index=False)
    result = invoke(
        "backtest", "--config", tiny_config, "--data", path, "--folds", "2", "--fold-length",
        "10", "--epochs", "1", "--cost-bps", "12.5", "--allow-short", "--out", tmp_path / "bt",
        "--set", "forecast.interval=\"dropout\"",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "trading on the predictions, 12.5 bps per side (20 rows" in result.output
    strategy = json.loads((tmp_path / "bt" / "summary.json").read_text())["strategy"]
    assert (strategy["cost_bps"], strategy["allow_short"]) == (12.5, True)
    bad = invoke("backtest", "--data", path, "--cost-bps", "-3", "--out", tmp_path / "b2")
    assert bad.exit_code == 2 and "cost_bps must be from 0 to 9999" in bad.output


def completed(study, number_of_rows: int, seed: int, dates=None) -> None:
    generator = np.random.default_rng(seed)
    dates = dates or [str(d.date()) for d in pd.bdate_range("2024-01-01", periods=number_of_rows)]
    trading = {
        "dates": dates,
        "model": generator.normal(0.0005, 0.01, len(dates)).tolist(),
        "buy_and_hold": np.random.default_rng(99).normal(0.0003, 0.01, len(dates)).tolist(),
    }
    study.add_trial(
        optuna.trial.create_trial(
            value=0.0, params={}, distributions={}, user_attrs={"trading": trading}
        )
    )


def test_a_study_tests_every_trial_it_tried_against_buy_and_hold():
    study = optuna.create_study(direction="maximize")
    for seed in range(3):
        completed(study, 60, seed)
    completed(study, 60, 7, dates=[str(d.date()) for d in pd.bdate_range("2023-01-02", periods=60)])
    result = trials_strategy(study, Config())
    assert result["trials"] == 3  # the trial on other rows is not comparable
    assert result["spa"]["strategies"] == 3 and 0 <= result["spa"]["consistent"] <= 1
    assert set(result["mcs_pvalue"]) == {"trial 0", "trial 1", "trial 2", "buy_and_hold"}
    assert "of the 3 trials' model strategies" in result["verdict"]
    assert trials_strategy(optuna.create_study(), Config()) is None


def test_train_trades_its_test_span(trained_run):
    result, _, _ = trained_run
    strategy = json.loads((result.run_dir / "metrics.json").read_text())["strategy"]
    assert list(strategy["strategies"]) == STRATEGIES
    assert strategy["rows"] == result.metrics["rows"] == 20  # the test file's rows
    assert strategy["verdict"].endswith("Not investment advice.")
