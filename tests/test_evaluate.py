import numpy as np
import pytest

from lstm_forecast.evaluate import evaluate


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
