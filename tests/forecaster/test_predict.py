"""The prediction plumbing, checked with stand-in models whose outputs are known exactly."""

import numpy as np
import pandas as pd
import pytest

from lstm_forecast.errors import DataError
from lstm_forecast.forecaster.predict import history_before, predict_rows, predict_series
from lstm_forecast.prep.scaling import fit_scaler, scale
from lstm_forecast.prep.transforms import get_transform
from lstm_forecast.prep.windows import Inputs


def dense_model(kernel_last: float, bias: float, length: int = 5):
    """A Keras model whose output is known exactly: kernel_last × the window's last value + bias."""
    import keras

    model = keras.Sequential(
        [keras.Input((length, 1)), keras.layers.Flatten(), keras.layers.Dense(1)]
    )
    kernel = np.zeros((length, 1), np.float32)
    kernel[-1] = kernel_last
    model.layers[-1].set_weights([kernel, np.full(1, bias, np.float32)])
    return model


def LastValueModel(length: int = 5):  # noqa: N802 - reads as the stand-in it is
    """Predicts the last value of each window: persistence in level space, 'return = last return'."""
    return dense_model(1.0, 0.0, length)


def ConstantModel(value):  # noqa: N802
    """Predicts `value` for every window."""
    return dense_model(0.0, value)


def prices_series(values, start="2020-01-01"):
    return pd.Series(np.asarray(values, float), index=pd.bdate_range(start, periods=len(values)))


def test_level_model_predicting_last_value_is_persistence():
    prices = 100 + np.cumsum(np.random.default_rng(0).normal(0, 1, 30))
    scaler = fit_scaler(prices[:20])
    rows = np.arange(20, 30)
    predicted = predict_rows(LastValueModel(), scaler, pd.Series(prices), rows, Inputs(5, "level"))
    np.testing.assert_allclose(predicted, prices[rows - 1], rtol=1e-5)


def test_log_return_of_zero_predicts_the_previous_price():
    prices = 100 + np.cumsum(np.random.default_rng(0).normal(0, 1, 30))
    scaler = fit_scaler(get_transform("log_return").forward(prices[:20]))
    zero_return_scaled = float(scale(scaler, [0.0])[0])
    rows = np.arange(20, 30)
    predicted = predict_rows(
        ConstantModel(zero_return_scaled), scaler, pd.Series(prices), rows, Inputs(5, "log_return")
    )
    np.testing.assert_allclose(predicted, prices[rows - 1], rtol=1e-5)


def test_predict_series_uses_history_for_the_first_rows():
    values = np.arange(1.0, 21.0)
    history, new = prices_series(values[:12]), prices_series(values[12:], start="2020-01-17")
    scaler = fit_scaler(values[:12])
    table = predict_series(LastValueModel(), scaler, new, history, Inputs(5, "level"), "new.csv")
    assert list(table.columns) == ["date", "actual", "predicted", "persistence"]
    assert len(table) == len(new)
    assert table["date"].iloc[0] == "2020-01-17"
    np.testing.assert_allclose(table["predicted"], values[11:19], rtol=1e-5)
    np.testing.assert_allclose(table["persistence"], values[11:19])


def test_without_history_the_first_window_rows_stay_empty():
    values = np.arange(1.0, 11.0)
    table = predict_series(
        LastValueModel(3),
        fit_scaler(values),
        prices_series(values),
        prices_series([]),
        Inputs(3, "level"),
        "x",
    )
    assert table["predicted"].isna().tolist() == [True] * 3 + [False] * 7
    with pytest.raises(DataError, match="x: no row has the 3 earlier prices"):
        predict_series(
            LastValueModel(3),
            fit_scaler(values),
            prices_series(values[:3]),
            prices_series([]),
            Inputs(3, "level"),
            "x",
        )


def test_history_before_accepts_continuations_and_the_same_series_only():
    run = prices_series(np.arange(1.0, 31.0), start="2020-01-01")  # ends 2020-02-11
    later = prices_series([31.0, 32.0], start="2020-02-12")
    assert len(history_before(run, later)) == 30  # continues the run
    overlapping = run.iloc[10:20]
    assert len(history_before(run, overlapping)) == 10  # same prices on the same dates
    other_ticker = overlapping * 3
    assert history_before(run, other_ticker).empty
    much_later = prices_series([50.0, 51.0], start="2021-06-01")
    assert history_before(run, much_later).empty


def at_close(prices: pd.Series, zone: str = "America/New_York") -> pd.Series:
    """The same daily prices stamped at the 16:00 close with a UTC offset, as fetched data is."""
    stamped = (prices.index + pd.Timedelta(hours=16)).tz_localize(zone)
    return prices.set_axis(stamped)


def test_history_before_matches_files_with_and_without_utc_offsets():
    run = prices_series(np.arange(1.0, 31.0), start="2020-01-01")
    later = prices_series([31.0, 32.0], start="2020-02-12")
    for run_file, new_file in [(run, at_close(later)), (at_close(run), later)]:
        earlier = history_before(run_file, new_file)
        assert len(earlier) == 30
        assert (earlier.index.tz is None) == (new_file.index.tz is None)  # on the new file's clock
    overlapping = run.iloc[10:20]
    assert len(history_before(run, at_close(overlapping))) == 10  # same dates, other clock
    assert history_before(at_close(run), overlapping * 3).empty  # another ticker still refused
