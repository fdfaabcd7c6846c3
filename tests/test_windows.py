import numpy as np
import pandas as pd
import pytest

from lstm_forecast.errors import DataError
from lstm_forecast.windows import (
    fit_scaler,
    history_rows,
    join_train_test,
    scale,
    scaler_from_dict,
    scaler_to_dict,
    split_by_date,
    split_by_fraction,
    to_model_space,
    to_prices,
    training_windows,
    unscale,
    windows_for_rows,
)


def series(values, start="2020-01-01"):
    return pd.Series(
        np.asarray(values, dtype=float), index=pd.bdate_range(start, periods=len(values))
    )


def test_split_by_fraction_keeps_the_newest_rows_for_testing():
    prices = series(range(1, 101))
    split = split_by_fraction(prices, 0.1, "x.csv")
    assert split.n_train == 90
    assert split.train.iloc[-1] == 90 and split.test.iloc[0] == 91
    assert split.train.index.max() < split.test.index.min()


def test_split_by_date():
    prices = series(range(10), start="2020-01-01")  # 2020-01-01 .. 2020-01-14 business days
    split = split_by_date(prices, "2020-01-08", "x.csv")
    assert split.test.index[0] == pd.Timestamp("2020-01-08")
    assert len(split.train) == 5
    with pytest.raises(
        DataError, match="leaves no rows on one side; the data runs from 2020-01-01"
    ):
        split_by_date(prices, "2030-01-01", "x.csv")
    with pytest.raises(DataError, match="is not a date"):
        split_by_date(prices, "next tuesday", "x.csv")


def test_join_train_test_requires_the_test_file_to_come_later():
    train, test = series([1, 2, 3]), series([4, 5], start="2020-01-06")
    split = join_train_test(train, test, "test.csv")
    assert split.n_train == 3 and split.prices.tolist() == [1, 2, 3, 4, 5]
    with pytest.raises(DataError, match="test.csv: the test data starts on 2020-01-01"):
        join_train_test(train, series([9, 9]), "test.csv")


@pytest.mark.parametrize("transform", ["level", "log_return"])
def test_transform_round_trip(transform):
    prices = np.array([10.0, 11.0, 10.5, 12.0, 12.5])
    model_values = to_model_space(prices, transform)
    defined = slice(history_rows(0, transform), None)
    recovered = to_prices(model_values[defined], np.r_[np.nan, prices[:-1]][defined], transform)
    np.testing.assert_allclose(recovered, prices[defined])


def test_log_return_values_and_positivity():
    np.testing.assert_allclose(to_model_space([1.0, np.e, 1.0], "log_return")[1:], [1.0, -1.0])
    assert np.isnan(to_model_space([1.0, 2.0], "log_return")[0])
    with pytest.raises(DataError, match="above zero"):
        to_model_space([1.0, 0.0], "log_return")


def test_scaler_fit_on_train_only_and_json_round_trip():
    train = np.array([10.0, 20.0, 30.0])
    scaler = fit_scaler(train)
    np.testing.assert_allclose(
        scale(scaler, [10.0, 30.0, 40.0]), [0.0, 1.0, 1.5]
    )  # test may exceed 1
    rebuilt = scaler_from_dict(scaler_to_dict(scaler))
    values = np.array([12.5, 41.0, -3.0])
    np.testing.assert_allclose(scale(rebuilt, values), scale(scaler, values))
    np.testing.assert_allclose(unscale(rebuilt, scale(rebuilt, values)), values)


def test_scaler_ignores_the_undefined_first_return():
    scaler = fit_scaler(to_model_space([1.0, 2.0, 1.0], "log_return"))
    assert np.isfinite(scaler.data_min_).all() and np.isfinite(scaler.data_max_).all()


def test_windows_equal_the_reference_loop():
    scaled = np.random.default_rng(0).random(50)
    length = 7
    rows = np.arange(length, 50)
    reference = np.array([scaled[i - length : i] for i in rows])[..., None]  # the reference's loop
    windows = windows_for_rows(scaled, rows, length)
    assert windows.shape == (len(rows), length, 1)
    assert windows.dtype == np.float32
    np.testing.assert_allclose(windows, reference.astype(np.float32))


@pytest.mark.parametrize("transform", ["level", "log_return"])
def test_training_windows_targets_follow_their_windows(transform):
    prices = 100 + np.cumsum(np.random.default_rng(1).normal(0, 1, 40))
    length = 5
    x, y, scaler = training_windows(prices, length, transform)
    assert x.shape == (40 - history_rows(length, transform), length, 1)
    scaled = scale(scaler, to_model_space(prices, transform))
    first = history_rows(length, transform)
    np.testing.assert_allclose(x[0, :, 0], scaled[first - length : first], rtol=1e-6)
    np.testing.assert_allclose(y, scaled[first:], rtol=1e-6)
    # the scaler spans exactly the training values
    assert np.nanmin(scaled) == pytest.approx(0.0) and np.nanmax(scaled) == pytest.approx(1.0)


def test_too_few_training_rows_says_how_many_are_needed():
    with pytest.raises(
        DataError,
        match="10 training rows, but a window of 60 with target_transform 'level' needs at least 61",
    ):
        training_windows(np.arange(1.0, 11.0), 60, "level", "train.csv")
