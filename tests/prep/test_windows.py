import numpy as np
import pandas as pd
import pytest

from lstm_forecast.errors import DataError
from lstm_forecast.prep.scaling import fit_scaler, scale, scaler_from_dict, scaler_to_dict, unscale
from lstm_forecast.prep.split import join_train_test, split_by_date, split_by_fraction
from lstm_forecast.prep.transforms import get_transform
from lstm_forecast.prep.windows import Inputs, training_windows


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


@pytest.mark.parametrize("transform", ["level", "return", "log_return", "diff"])
def test_transform_round_trip(transform):
    prices = np.array([10.0, 11.0, 10.5, 12.0, 12.5])
    model_values = get_transform(transform).forward(prices)
    defined = slice(Inputs(0, transform).history_rows, None)
    recovered = get_transform(transform).inverse(
        model_values[defined], np.r_[np.nan, prices[:-1]][defined]
    )
    np.testing.assert_allclose(recovered, prices[defined])


def test_log_return_values_and_positivity():
    np.testing.assert_allclose(
        get_transform("log_return").forward([1.0, np.e, 1.0])[1:], [1.0, -1.0]
    )
    assert np.isnan(get_transform("log_return").forward([1.0, 2.0])[0])
    with pytest.raises(DataError, match="above zero"):
        get_transform("log_return").forward([1.0, 0.0])


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
    scaler = fit_scaler(get_transform("log_return").forward([1.0, 2.0, 1.0]))
    assert np.isfinite(scaler.data_min_).all() and np.isfinite(scaler.data_max_).all()


def test_windows_equal_the_reference_loop():
    scaled = np.random.default_rng(0).random(50)
    length = 7
    rows = np.arange(length, 50)
    reference = np.array([scaled[i - length : i] for i in rows])[..., None]  # the reference's loop
    windows, divisor = Inputs(length, "level").windows(scaled[:, None], rows)
    assert windows.shape == (len(rows), length, 1)
    np.testing.assert_array_equal(windows, reference)
    np.testing.assert_array_equal(divisor, 1.0)


@pytest.mark.parametrize("transform", ["level", "return", "log_return", "diff"])
def test_training_windows_targets_follow_their_windows(transform):
    prices = 100 + np.cumsum(np.random.default_rng(1).normal(0, 1, 40))
    length = 5
    x, y, scaler = training_windows(prices, Inputs(length, transform))
    assert x.shape == (40 - Inputs(length, transform).history_rows, length, 1)
    scaled = scale(scaler, get_transform(transform).forward(prices))
    first = Inputs(length, transform).history_rows
    np.testing.assert_allclose(x[0, :, 0], scaled[first - length : first], rtol=1e-6)
    np.testing.assert_allclose(y, scaled[first:], rtol=1e-6)
    # the scaler spans exactly the training values
    assert np.nanmin(scaled) == pytest.approx(0.0) and np.nanmax(scaled) == pytest.approx(1.0)


def test_too_few_training_rows_says_how_many_are_needed():
    with pytest.raises(
        DataError,
        match="10 training rows, but a window of 60 with target_transform 'level' needs at least 61",
    ):
        training_windows(np.arange(1.0, 11.0), Inputs(60, "level"), "train.csv")


def test_return_and_diff_values():
    np.testing.assert_allclose(get_transform("return").forward([10.0, 12.0, 9.0])[1:], [0.2, -0.25])
    np.testing.assert_allclose(get_transform("diff").forward([10.0, 12.0, 9.0])[1:], [2.0, -3.0])
    np.testing.assert_allclose(get_transform("diff").forward([-1.0, 2.0])[1:], [3.0])  # any sign


def frame_of(rows=40, seed=1):
    generator = np.random.default_rng(seed)
    index = pd.bdate_range("2020-01-01", periods=rows)
    close = 100 + np.cumsum(generator.normal(0, 1, rows))
    return pd.DataFrame(
        {"Open": close + generator.normal(0, 0.1, rows), "Close": close,
         "Volume": generator.integers(1000, 9000, rows).astype(float)},
        index=index,
    )  # fmt: skip


def test_one_scaler_per_feature_and_the_target_inverted_alone():
    from lstm_forecast.data.features import parse_features

    frame = frame_of()
    inputs = Inputs(5, "level", parse_features(("Volume", "Close")))
    x, y, scaler = training_windows(frame, inputs)
    assert x.shape == (35, 5, 3)
    # each column spans [0, 1] on its own over what training saw
    seen = np.vstack([x.reshape(-1, 3), np.c_[y, np.full((len(y), 2), np.nan)]])
    np.testing.assert_allclose(np.nanmin(seen, axis=0), 0.0, atol=1e-6)
    np.testing.assert_allclose(np.nanmax(seen, axis=0), 1.0, atol=1e-6)
    # the target comes back in prices; the classic mistake (a one-column inverse_transform of a
    # three-column scaler) would raise, and inverting column 0 of a full row agrees with unscale
    np.testing.assert_allclose(unscale(scaler, y), frame["Open"].iloc[5:], rtol=1e-5)
    full_rows = np.c_[y, np.zeros((len(y), 2))]
    np.testing.assert_allclose(unscale(scaler, y), scaler.inverse_transform(full_rows)[:, 0])


def test_per_window_normalisation_divides_by_the_last_row():
    from lstm_forecast.data.features import parse_features

    frame = frame_of()
    inputs = Inputs(5, "level", parse_features(("Volume", "return(Close)")), normalize=True)
    matrix = inputs.matrix(frame)
    rows = np.arange(inputs.history_rows, len(frame))
    windows, divisor = inputs.windows(matrix, rows)
    assert list(inputs.normalized) == [True, True, False]  # a return is not a level
    np.testing.assert_allclose(windows[:, -1, :2], 1.0)  # the last row of each window becomes 1
    np.testing.assert_allclose(windows[:, :, 2], np.stack([matrix[r - 5 : r, 2] for r in rows]))
    np.testing.assert_allclose(divisor, frame["Open"].to_numpy()[rows - 1])
    # the target learned is then price / last price, and a level target without normalisation is not
    _, y, scaler = training_windows(frame, inputs)
    np.testing.assert_allclose(unscale(scaler, y), frame["Open"].to_numpy()[rows] / divisor)


def test_join_train_test_puts_a_test_file_with_utc_offsets_on_the_training_clock():
    train = series([1, 2, 3])
    test = series([4, 5], start="2020-01-06")
    test = test.set_axis((test.index + pd.Timedelta(hours=16)).tz_localize("America/New_York"))
    split = join_train_test(train, test, "test.csv")
    assert split.prices.index.tz is None
    assert split.prices.index[-1] == pd.Timestamp("2020-01-07 16:00")  # wall-clock time kept
    aware_train = train.set_axis(train.index.tz_localize("Europe/Berlin"))
    split = join_train_test(aware_train, series([4, 5], start="2020-01-06"), "test.csv")
    assert str(split.prices.index.tz) == "Europe/Berlin"


@pytest.mark.parametrize("transform", ["return", "log_return", "residual"])
def test_check_prices_names_the_column_date_and_value_of_a_price_at_zero(transform):
    frame = pd.DataFrame({"Open": [10.0, 11.0, 12.0, 13.0], "Close": [10.5, 0.0, 12.5, -1.0]})
    frame.index = pd.bdate_range("2020-01-01", periods=4)
    Inputs(3, transform).check_prices(frame, "x.csv")  # only the target is divided by
    Inputs(3, "diff", base="Close").check_prices(frame, "x.csv")  # differences need no sign
    checked = Inputs(3, transform, base="Close")
    if transform != "residual":
        checked = Inputs(3, transform)
        frame["Open"] = frame["Close"]
    with pytest.raises(DataError) as caught:
        checked.check_prices(frame, "x.csv")
    assert str(caught.value) == (
        f"x.csv: column {'Close' if transform == 'residual' else 'Open'!r} is 0 on 2020-01-02 "
        f"(2 rows at or below zero); the {transform} target transform needs prices above zero; "
        "correct the row, or train with --set window.target_transform=diff"
    )


def test_join_train_test_needs_the_training_files_columns():
    train = pd.DataFrame({"Open": [1.0, 2, 3], "Close": [1.0, 2, 3]}, index=series([1, 2, 3]).index)
    test = series([4, 5], start="2020-01-06").rename("Open").to_frame()
    with pytest.raises(DataError, match="test.csv: no 'Close' column, which the training file has"):
        join_train_test(train, test, "test.csv")
