import numpy as np
import pandas as pd
import pytest
from conftest import random_walk
from naive_loop import predict_loop_paths

from lstm_forecast.config.schema import LayerConfig, ModelConfig
from lstm_forecast.data.calendar import future_timestamps
from lstm_forecast.data.frequency import infer_frequency
from lstm_forecast.errors import ConfigError, DataError
from lstm_forecast.forecaster.forecast import (
    SAMPLES_PER_CHUNK,
    forecast_series,
    interval,
    origin_row,
    sample_paths,
)
from lstm_forecast.model.build import build_model, keras
from lstm_forecast.prep.scaling import fit_scaler
from lstm_forecast.prep.transforms import get_transform
from lstm_forecast.prep.windows import Inputs

IDENTITY = fit_scaler([0.0, 1.0])  # scaled = value

LENGTH = 6


def tiny_model(dropout: float, seed: int = 0):
    keras.utils.set_random_seed(seed)
    layers = (LayerConfig(units=5, dropout=dropout), LayerConfig(units=4, dropout=dropout))
    return build_model(ModelConfig(layers=layers), LENGTH)


@pytest.fixture(scope="module")
def model():
    return tiny_model(dropout=0.3)


@pytest.fixture(scope="module")
def prices():
    frame = random_walk(80, seed=5)
    return pd.Series(frame["Close"].to_numpy(float), index=frame["Date"])


def scaler_for(prices):
    return fit_scaler(get_transform("log_return").forward(prices.to_numpy()))


def forecast(model, prices, steps=7, samples=40, seed=0, row=None, level=0.9, scaler=None):
    return forecast_series(
        model,
        scaler or scaler_for(prices),
        prices,
        len(prices) - 1 if row is None else row,
        steps,
        Inputs(LENGTH, "log_return"),
        samples=samples,
        level=level,
        seed=seed,
    )


BUSINESS_DAYS = infer_frequency(pd.bdate_range("2024-01-01", periods=30))


def future_dates(last, count, calendar=""):
    return future_timestamps(last, count, BUSINESS_DAYS, calendar)


def test_future_dates_are_business_days_after_the_last_date():
    friday = pd.Timestamp("2024-03-08")
    dates = future_dates(friday, 6)
    assert [d.strftime("%a %d") for d in dates] == [
        "Mon 11", "Tue 12", "Wed 13", "Thu 14", "Fri 15", "Mon 18",
    ]  # fmt: skip


def test_an_exchange_calendar_skips_its_holidays_too():
    pytest.importorskip("exchange_calendars")
    dates = future_dates(pd.Timestamp("2017-12-29"), 3, calendar="XNYS")
    assert [str(d.date()) for d in dates] == ["2018-01-02", "2018-01-03", "2018-01-04"]
    with pytest.raises(ConfigError, match="unknown exchange calendar 'NOPE'"):
        future_dates(pd.Timestamp("2017-12-29"), 3, calendar="NOPE")


@pytest.mark.parametrize(
    ("index", "expected"),
    [
        # crypto: every day, weekends included
        (pd.date_range("2024-01-01", periods=40, freq="D"), ["2024-02-10", "2024-02-11"]),
        # month ends
        (pd.date_range("2020-01-31", periods=30, freq="ME"), ["2022-07-31", "2022-08-31"]),
        # hourly session bars 09:30 .. 15:30 New York time, kept in their zone and offset
        (
            pd.DatetimeIndex(
                [
                    pd.Timestamp(f"{day.date()} 09:30") + pd.Timedelta(hours=hour)
                    for day in pd.bdate_range("2024-01-02", periods=15)
                    for hour in range(7)
                ]
            ).tz_localize("America/New_York"),
            ["2024-01-22 15:30:00-05:00", "2024-01-23 09:30:00-05:00"],
        ),
    ],
    ids=["every-day", "month-ends", "session-bars"],
)
def test_forecast_dates_continue_the_data_s_own_step(model, index, expected):
    walk = 100 * np.exp(np.cumsum(np.random.default_rng(0).normal(0, 0.01, len(index))))
    series = pd.Series(walk, index=index)
    if len(expected[0]) > 10:  # the session test: start one bar before the session's last
        series = series.iloc[:-1]
    table = forecast(model, series, steps=2, samples=0).table
    assert list(table["date"].iloc[-2:]) == expected


def test_table_is_the_starting_window_then_exactly_the_horizon(model, prices):
    result = forecast(model, prices, steps=7)
    table = result.table
    assert list(table.columns) == ["date", "actual", "predicted", "lower", "upper"]
    history, future = table.iloc[: LENGTH + 1], table.iloc[LENGTH + 1 :]
    assert len(future) == 7 and future["actual"].isna().all()
    assert history["predicted"].isna().all()
    np.testing.assert_array_equal(history["actual"], prices.iloc[-LENGTH - 1 :])
    assert list(future["date"]) == [str(d.date()) for d in future_dates(prices.index[-1], 7)]
    assert result.frequency.kind == "business_day"
    assert result.paths.shape == (40, 7)


def test_interval_holds_the_median(model, prices):
    future = forecast(model, prices, samples=60).table.dropna(subset=["predicted"])
    assert (future["lower"] <= future["predicted"]).all()
    assert (future["predicted"] <= future["upper"]).all()
    assert (future["upper"] - future["lower"] > 0).all()  # dropout on: the samples differ


def test_without_dropout_the_interval_collapses_to_the_point_forecast(prices):
    no_dropout = tiny_model(dropout=0.0)
    sampled = forecast(no_dropout, prices, samples=30).table.dropna(subset=["predicted"])
    point = forecast(no_dropout, prices, samples=0).table.dropna(subset=["predicted"])
    np.testing.assert_allclose(sampled["lower"], sampled["upper"], rtol=1e-9)
    np.testing.assert_allclose(sampled["predicted"], point["predicted"], rtol=1e-6)
    assert point["lower"].isna().all() and point["upper"].isna().all()  # samples = 0: no interval


def test_compiled_loop_equals_the_model_predict_loop(model):
    window = np.random.default_rng(1).uniform(0, 1, LENGTH)
    compiled = sample_paths(model, window, steps=9, samples=0, scaler=IDENTITY)
    naive = predict_loop_paths(model, window, steps=9, samples=1, scaler=IDENTITY)
    np.testing.assert_allclose(compiled, naive, atol=1e-5)  # float32 arithmetic, other op order


def test_same_seed_same_paths_other_seed_other_paths(model):
    window = np.linspace(0.2, 0.8, LENGTH)
    samples = 2 * SAMPLES_PER_CHUNK + 3
    first = sample_paths(model, window, 5, samples, IDENTITY, seed=7)
    again = sample_paths(model, window, 5, samples, IDENTITY, seed=7)
    other = sample_paths(model, window, 5, samples, IDENTITY, seed=8)
    np.testing.assert_array_equal(first, again)
    assert not np.allclose(first, other)
    # chunks are seeded by their index: fewer samples give the first rows of more samples
    fewer = sample_paths(model, window, 5, SAMPLES_PER_CHUNK, IDENTITY, seed=7)
    np.testing.assert_array_equal(fewer, first[:SAMPLES_PER_CHUNK])


def test_a_saved_and_reloaded_model_forecasts_the_same_numbers(model, prices, tmp_path):
    model.save(tmp_path / "model.keras")
    reloaded = keras.saving.load_model(tmp_path / "model.keras")
    before = forecast(model, prices, seed=3).paths
    after = forecast(reloaded, prices, seed=3).paths
    np.testing.assert_allclose(before, after, rtol=1e-6)


def test_forecast_from_a_past_origin_fills_actuals_and_ignores_later_prices(model, prices):
    row = 60
    scaler = scaler_for(prices.iloc[: row + 1])  # as a model trained up to the origin has it
    result = forecast(model, prices, steps=5, row=row, scaler=scaler)
    future = result.table.dropna(subset=["predicted"])
    np.testing.assert_array_equal(future["actual"], prices.iloc[row + 1 : row + 6])
    assert result.origin == prices.index[row]
    changed = prices.copy()
    changed.iloc[row + 1 :] *= 3
    again = forecast(model, changed, steps=5, row=row, scaler=scaler)
    np.testing.assert_array_equal(again.paths, result.paths)


def test_forecast_needs_a_full_window_before_the_origin(model, prices):
    with pytest.raises(DataError, match="has 4 prices up to it, and the model needs 7"):
        forecast(model, prices, row=3)
    with pytest.raises(ConfigError, match=r"needs at least 1 step \(--steps\)"):
        forecast(model, prices, steps=0)
    with pytest.raises(ConfigError, match=r"--steps 2521 reaches more than 10 years past the data"):
        forecast(model, prices, steps=2521)  # business days: 252 a year


def test_origin_row_is_the_last_row_on_or_before_the_date(prices):
    assert origin_row(prices, None, "x") == len(prices) - 1
    saturday = prices.index[10] + pd.offsets.Day(6 - prices.index[10].day_of_week - 1)
    assert prices.index[origin_row(prices, str(saturday.date()), "x")] <= saturday
    with pytest.raises(DataError, match="before the data starts"):
        origin_row(prices, "1990-01-01", "x")
    with pytest.raises(DataError, match="is not a date"):
        origin_row(prices, "soon", "x")


def test_inverse_path_inverts_each_transform():
    returns = np.log(np.array([[1.1, 1.1], [0.5, 2.0]]))
    np.testing.assert_allclose(
        get_transform("log_return").inverse_path(returns, 10.0), [[11.0, 12.1], [5.0, 10.0]]
    )
    levels = np.array([[3.0, 4.0]])
    np.testing.assert_array_equal(get_transform("level").inverse_path(levels, 10.0), levels)


def test_interval_takes_the_central_quantiles():
    paths = np.arange(1.0, 102.0)[:, None]  # 101 samples of one step: 1 .. 101
    median, lower, upper = interval(paths, 0.9)
    assert (median[0], lower[0], upper[0]) == pytest.approx((51.0, 6.0, 96.0))


def test_compiled_loop_equals_predict_loop_with_features_and_normalisation():
    keras.utils.set_random_seed(2)
    layers = (LayerConfig(units=5, dropout=0.3),)
    multi = build_model(ModelConfig(layers=layers), LENGTH, n_features=3)
    generator = np.random.default_rng(3)
    window = generator.uniform(50, 150, (LENGTH, 3))  # target level, a level feature, another
    scaler = fit_scaler(np.column_stack([generator.uniform(0.9, 1.1, 50),
                                         generator.uniform(0.8, 1.2, 50),
                                         generator.uniform(50, 150, 50)]))  # fmt: skip
    normalized = np.array([True, True, False])
    compiled = sample_paths(multi, window, 6, 0, scaler, normalized)
    naive = predict_loop_paths(multi, window, 6, 1, scaler, normalized)
    np.testing.assert_allclose(compiled, naive, rtol=1e-4)  # float32 loop, float64 NumPy
    # the other columns are held: a changed last value of column 2 changes the forecast
    held = window.copy()
    held[-1, 2] += 40
    assert not np.allclose(sample_paths(multi, held, 6, 0, scaler, normalized), compiled)


def test_future_is_the_forecast_rows_alone(model, prices):
    result = forecast(model, prices, steps=4)
    future = result.future
    assert len(future) == 4 and future["predicted"].notna().all()
    assert list(future.index) == [0, 1, 2, 3]
    assert future["date"].tolist() == result.table["date"].iloc[-4:].tolist()
