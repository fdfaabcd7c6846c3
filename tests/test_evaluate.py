import numpy as np
import pytest

from lstm_forecast.evaluate import best_lag, directional_accuracy, evaluate, lag_verdict


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
    assert metrics["skill"] == pytest.approx(1 - metrics["rmse"] / naive_rmse)
    assert metrics["skill"] > 0  # these predictions beat persistence


def test_persistence_itself_has_zero_skill_and_worse_is_negative():
    actual = np.array([1.0, 2.0, 4.0])
    previous = np.array([0.0, 1.0, 2.0])
    assert evaluate(actual, previous, previous)["skill"] == pytest.approx(0.0)
    assert evaluate(actual, previous - 1, previous)["skill"] < 0


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
