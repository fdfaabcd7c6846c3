import numpy as np
import pandas as pd
import pytest

from lstm_forecast.evaluate.baselines import (
    CHOICE_ROWS,
    baseline_predictions,
    baseline_scores,
    choose_baseline,
    training_drift,
)


def open_close_prices(rows=1000, seed=0, overnight=0.2, intraday=2.0):
    """Opens and closes where the next open is the close plus a small overnight gap, so
    "tomorrow's open = today's close" beats "tomorrow = today"."""
    rng = np.random.default_rng(seed)
    opens, closes = np.empty(rows), np.empty(rows)
    opens[0] = 500.0
    for t in range(rows):
        closes[t] = opens[t] + rng.normal(0, intraday)
        if t + 1 < rows:
            opens[t + 1] = closes[t] + rng.normal(0, overnight)
    dates = pd.bdate_range("2012-01-03", periods=rows, name="date")
    return pd.DataFrame({"Open": opens, "Close": closes}, index=dates)


def whole_span_rmse(frame, name):
    predictions = baseline_predictions(frame, "Open", "Close", drift=training_drift(frame, "Open"))
    return np.sqrt(np.mean((predictions[name] - frame["Open"].to_numpy()[1:]) ** 2))


def test_predictions_are_the_previous_rows_values():
    frame = pd.DataFrame({"Open": [10.0, 11.0, 13.0, 12.0], "Close": [10.5, 12.5, 12.2, 12.9]})
    predictions = baseline_predictions(frame, "Open", "Close", rows=np.array([1, 3]), drift=0.5)
    np.testing.assert_allclose(predictions["persistence"], [10.0, 13.0])
    np.testing.assert_allclose(predictions["drift"], [10.5, 13.5])
    np.testing.assert_allclose(predictions["previous_close"], [10.5, 12.2])
    assert set(baseline_predictions(frame)) == {"persistence", "drift"}  # default: first column
    assert len(baseline_predictions(frame["Open"])["persistence"]) == 3  # every row but the first
    with pytest.raises(ValueError, match="each needs the row before"):
        baseline_predictions(frame, "Open", rows=np.array([0, 1]))


def test_previous_close_only_for_an_open_target():
    frame = pd.DataFrame({"High": [10.0, 11.0, 13.0], "close": [10.5, 12.5, 12.2]})
    assert "previous_close" not in baseline_predictions(frame, "High", "close")
    assert "previous_close" not in baseline_predictions(frame.rename(columns={"High": "Open"}))
    assert "previous_close" in baseline_predictions(
        frame.rename(columns={"High": " open"}), " open", "close"
    )


def test_previous_close_chosen_despite_a_split_unadjusted_close_in_early_history():
    # as in the reference Google file: Close is twice the Open before a split the Open is
    # adjusted for, and the right baseline afterwards
    frame = open_close_prices()
    frame.iloc[:450, frame.columns.get_loc("Close")] *= 2
    # over the whole span previous close looks hopeless: the naive choice would be persistence
    assert whole_span_rmse(frame, "previous_close") > 10 * whole_span_rmse(frame, "persistence")
    assert choose_baseline(frame, "Open", "Close") == "previous_close"


def test_a_few_bad_closes_in_the_recent_span_do_not_change_the_choice():
    frame = open_close_prices(seed=1)
    recent = frame.index[-CHOICE_ROWS:]
    frame.loc[recent[::60], "Close"] *= 2  # 5 bad rows in the last year
    assert choose_baseline(frame, "Open", "Close") == "previous_close"


def test_persistence_chosen_when_the_close_is_useless():
    frame = open_close_prices(seed=2, overnight=2.0, intraday=0.0)
    frame["Close"] = frame["Open"] + np.random.default_rng(3).normal(0, 20, len(frame))
    scores = baseline_scores(frame, "Open", "Close")
    assert scores["previous_close"] > scores["persistence"]
    assert choose_baseline(frame, "Open", "Close") == "persistence"


def test_drift_chosen_for_a_steady_trend_and_persistence_for_a_walk():
    rng = np.random.default_rng(4)
    trend = pd.Series(100 + 0.5 * np.arange(600) + rng.normal(0, 0.05, 600), name="Close")
    assert training_drift(trend) == pytest.approx(0.5, abs=0.01)
    assert choose_baseline(trend) == "drift"
    walk = pd.Series(100 + np.cumsum(rng.normal(0, 1, 600)), name="Close")
    # drift's step is the walk's mean change, noise: not chosen unless it really is better
    assert choose_baseline(walk, drift=5.0) == "persistence"


def test_the_choice_looks_at_the_last_training_rows_only():
    frame = open_close_prices(seed=5)
    scores = baseline_scores(frame, "Open", "Close")
    tail = frame.iloc[-(CHOICE_ROWS + 1) :]  # the rows scored and the one before them
    assert baseline_scores(tail, "Open", "Close", drift=training_drift(frame, "Open")) == scores
