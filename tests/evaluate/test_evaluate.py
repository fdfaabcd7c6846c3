import numpy as np
import pandas as pd
import pytest
from scipy import stats

from lstm_forecast.evaluate.metrics import (
    best_lag,
    diebold_mariano,
    directional_accuracy,
    evaluate,
    evaluate_table,
    lag_verdict,
    verdict_sentence,
)


def test_metrics_match_numpy_by_hand():
    actual = np.array([100.0, 102.0, 101.0, 105.0])
    predicted = np.array([99.0, 103.0, 101.5, 104.0])
    previous = np.array([98.0, 100.0, 102.0, 101.0])
    metrics = evaluate(actual, predicted, previous)
    errors = predicted - actual
    assert metrics["rows"] == 4
    assert metrics["rmse"] == pytest.approx(np.sqrt(np.mean(errors**2)))
    assert metrics["mae"] == pytest.approx(np.mean(np.abs(errors)))
    assert metrics["mape"] == pytest.approx(100 * np.mean(np.abs(errors) / actual))
    naive_rmse = np.sqrt(np.mean((previous - actual) ** 2))
    assert metrics["naive_rmse"] == pytest.approx(naive_rmse)
    assert metrics["skill_persistence"] == pytest.approx(1 - metrics["rmse"] / naive_rmse)
    assert metrics["skill_persistence"] > 0  # these predictions beat persistence


def test_persistence_itself_has_zero_skill_and_worse_is_negative():
    actual = np.array([1.0, 2.0, 4.0])
    previous = np.array([0.0, 1.0, 2.0])
    assert evaluate(actual, previous, previous)["skill_persistence"] == pytest.approx(0.0)
    assert evaluate(actual, previous - 1, previous)["skill_persistence"] < 0


def test_directional_accuracy_counts_matching_signs_and_skips_flat_days():
    previous = np.array([10.0, 10.0, 10.0, 10.0, 10.0])
    actual = np.array([11.0, 9.0, 12.0, 10.0, 8.0])  # up, down, up, flat (skipped), down
    predicted = np.array([10.5, 9.5, 9.0, 11.0, 10.1])  # right, right, wrong, -, wrong
    assert directional_accuracy(actual, predicted, previous) == pytest.approx(2 / 4)
    assert np.isnan(directional_accuracy(previous, predicted, previous))


def test_drift_baseline_adds_the_mean_training_change():
    actual = np.array([101.0, 103.0, 104.0])
    previous = np.array([100.0, 101.0, 103.0])
    metrics = evaluate(actual, actual, previous, drift=1.5)
    assert metrics["drift_rmse"] == pytest.approx(np.sqrt(np.mean((previous + 1.5 - actual) ** 2)))
    assert metrics["drift_directional_accuracy"] == 1.0  # positive drift, every day went up


@pytest.mark.parametrize("lag", [0, 1, 2, 4])
def test_best_lag_finds_a_model_that_repeats_an_earlier_price(lag):
    walk = 100 + np.cumsum(np.random.default_rng(lag).normal(0, 1, 80))
    actual, previous = walk[10:], walk[9:-1]
    predicted = walk[10 - lag : len(walk) - lag]  # predicted[t] = actual[t - lag]
    found, errors = best_lag(actual, predicted, previous)
    assert found == lag
    assert errors[lag] == pytest.approx(0.0, abs=1e-9)
    verdict = lag_verdict({"lag": found})
    assert ("mostly repeats the price from" in verdict) == (lag >= 1)


@pytest.mark.parametrize(
    ("lag", "label", "expected"),
    [
        (1, None, "from 1 day before best: the model mostly repeats the price from 1 day before"),
        (2, "week", "from 2 weeks before best: the model mostly repeats the price from 2 weeks"),
        (
            1,
            "1h bar",
            "from 1 bar before best (1h bars): the model mostly repeats the price from 1 bar",
        ),
        (3, "30min bar", "from 3 bars before best (30min bars): the model"),
    ],
)
def test_lag_verdict_counts_the_data_s_own_steps(lag, label, expected):
    metrics = {"lag": lag} if label is None else {"lag": lag, "step_label": label}
    assert expected in lag_verdict(metrics)


def numpy_diebold_mariano(model_errors, baseline_errors, horizon):
    """The DM test with squared-error loss and the HLN correction, transcribed from the papers
    (HAC variance with Newey-West weights 1 - k / horizon over horizon - 1 lags)."""
    d = model_errors**2 - baseline_errors**2
    n = len(d)
    centred = d - d.mean()
    autocovariance = [np.sum(centred[k:] * centred[: n - k]) / n for k in range(horizon)]
    weights = [1.0] + [2 * (1 - k / horizon) for k in range(1, horizon)]
    variance = np.dot(weights, autocovariance)
    statistic = d.mean() / np.sqrt(variance / n)
    statistic *= np.sqrt((n + 1 - 2 * horizon + horizon * (horizon - 1) / n) / n)
    return statistic, 2 * stats.t.sf(abs(statistic), df=n - 1)


@pytest.mark.parametrize(("seed", "horizon"), [(0, 1), (1, 1), (2, 3)])
def test_diebold_mariano_matches_the_formula(seed, horizon):
    rng = np.random.default_rng(seed)
    model_errors, baseline_errors = rng.normal(0, 1, 60), rng.normal(0, 1.2, 60)
    result = diebold_mariano(model_errors, baseline_errors, horizon=horizon)
    statistic, pvalue = numpy_diebold_mariano(model_errors, baseline_errors, horizon)
    assert result.statistic == pytest.approx(statistic, rel=1e-9)
    assert result.pvalue == pytest.approx(pvalue, rel=1e-9)


@pytest.mark.filterwarnings("error")  # no 0 / 0 RuntimeWarning
def test_identical_errors_are_no_difference_and_a_constant_gap_is_certain():
    errors = np.random.default_rng(3).normal(0, 1, 40)
    same = diebold_mariano(errors, errors.copy())
    assert (same.statistic, same.pvalue, same.verdict) == (
        0.0,
        1.0,
        "no significant difference from",
    )
    better = diebold_mariano(np.ones(10), np.full(10, 2.0))  # every squared error 3 smaller
    assert (better.pvalue, better.verdict) == (0.0, "beats")
    assert np.isnan(diebold_mariano([1.0], [2.0]).pvalue)  # one row: no test, no verdict


def test_clearly_better_model_beats_and_clearly_worse_loses():
    rng = np.random.default_rng(4)
    small, large = rng.normal(0, 1, 100), rng.normal(0, 3, 100)
    beats = diebold_mariano(small, large)
    assert beats.pvalue < 0.05 and beats.statistic < 0 and beats.verdict == "beats"
    assert diebold_mariano(large, small).verdict == "loses to"
    close = diebold_mariano(small, rng.normal(0, 1, 100))  # as accurate
    assert close.pvalue > 0.05 and close.verdict == "no significant difference from"


def test_every_baseline_scored_and_skill_against_the_chosen_one():
    rng = np.random.default_rng(5)
    actual = 100 + np.cumsum(rng.normal(0, 1, 80))
    previous = np.concatenate([[100.0], actual[:-1]])
    previous_close = actual + rng.normal(0, 0.2, 80)  # a much better baseline
    predicted = actual + rng.normal(0, 0.6, 80)
    metrics = evaluate(actual, predicted, previous, 0.1, previous_close, "previous_close")
    assert set(metrics["baselines"]) == {"persistence", "drift", "previous_close"}
    close_rmse = np.sqrt(np.mean((previous_close - actual) ** 2))
    assert metrics["baselines"]["previous_close"]["rmse"] == pytest.approx(close_rmse)
    assert metrics["baselines"]["drift"]["rmse"] == pytest.approx(metrics["drift_rmse"])
    assert metrics["baseline_rmse"] == pytest.approx(close_rmse)
    assert metrics["skill"] == pytest.approx(1 - metrics["rmse"] / close_rmse)
    assert metrics["skill"] == metrics["skill_vs"]["previous_close"] < 0
    assert metrics["skill_persistence"] == metrics["skill_vs"]["persistence"] > 0
    test = diebold_mariano(predicted - actual, previous_close - actual)
    assert (metrics["dm_statistic"], metrics["dm_pvalue"]) == (test.statistic, test.pvalue)
    assert metrics["verdict"] == "loses to"
    assert (
        verdict_sentence(metrics)
        == "the model loses to 'tomorrow's open = today's close' (DM p < 0.001)"
    )
    with pytest.raises(ValueError, match="pass previous_close"):
        evaluate(actual, predicted, previous, baseline="previous_close")


def test_evaluate_table_reads_the_previous_close_column_and_skips_unpredicted_rows():
    table = pd.DataFrame(
        {
            "date": pd.bdate_range("2017-01-02", periods=5),
            "actual": [10.0, 11.0, 12.0, 11.5, 12.5],
            "predicted": [np.nan, 10.8, 11.7, 11.9, 12.1],
            "persistence": [np.nan, 10.0, 11.0, 12.0, 11.5],
            "previous_close": [np.nan, 10.9, 11.8, 11.6, 12.4],
        }
    )
    metrics = evaluate_table(table, drift=0.2, baseline="previous_close")
    assert metrics["rows"] == 4 and metrics["test_start"].startswith("2017-01-03")
    assert metrics["baseline"] == "previous_close" and 0 < metrics["dm_pvalue"] <= 1
    rmse_close = np.sqrt(np.mean((table["previous_close"][1:] - table["actual"][1:]) ** 2))
    assert metrics["baseline_rmse"] == pytest.approx(rmse_close)
    without = evaluate_table(table.drop(columns="previous_close"))
    assert set(without["baselines"]) == {"persistence", "drift"}
    assert without["skill"] == without["skill_persistence"]
    assert verdict_sentence(without).startswith(
        f"the model {without['verdict']} 'tomorrow = today' (DM p = "
    )
