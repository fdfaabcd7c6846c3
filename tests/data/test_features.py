import numpy as np
import pandas as pd
import pytest

from lstm_forecast.data.features import (
    compute,
    history_rows,
    parse_feature,
    parse_features,
    source_columns,
)
from lstm_forecast.errors import ConfigError


def frame(rows=30, seed=0):
    generator = np.random.default_rng(seed)
    index = pd.bdate_range("2024-01-01", periods=rows)  # a Monday
    return pd.DataFrame(
        {"Close": 100 + np.cumsum(generator.normal(0, 1, rows)),
         "Volume": generator.integers(0, 9000, rows).astype(float),
         "Open": 100 + np.cumsum(generator.normal(0, 1, rows))},
        index=index,
    )  # fmt: skip


@pytest.mark.parametrize(
    "spec, kind, column, window",
    [
        ("Volume", "raw", "Volume", 0),
        ("Adj Close", "raw", "Adj Close", 0),
        ("return(Close)", "return", "Close", 0),
        ("log1p( Volume )", "log1p", "Volume", 0),
        ("sma(Close, 20)", "sma", "Close", 20),
        ("day_of_week", "day_of_week", "", 0),
    ],
)
def test_parse_feature(spec, kind, column, window):
    feature = parse_feature(spec)
    assert (feature.kind, feature.column, feature.window) == (kind, column, window)


@pytest.mark.parametrize(
    "spec, message",
    [
        ("sma(Close)", "needs a window of 2 or more"),
        ("sma(Close, 1)", "needs a window of 2 or more"),
        ("return(Close, 3)", "return() takes one column"),
        ("ema(Close, 3)", "is not a feature; use a column name, return(COLUMN)"),
    ],
)
def test_bad_features_say_what_is_allowed(spec, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_feature(spec)


def test_a_feature_listed_twice_is_refused_and_columns_are_read_once():
    with pytest.raises(ConfigError, match="'Volume' is listed twice"):
        parse_features(("Volume", "Volume"))
    features = parse_features(("return(Close)", "sma(Close, 3)", "log1p(Volume)", "day_of_week"))
    assert source_columns(features) == ("Close", "Volume")
    assert history_rows(features) == 2  # sma over 3 rows is first defined on row 2


def test_values():
    data = frame()
    close, volume = data["Close"].to_numpy(), data["Volume"].to_numpy()
    np.testing.assert_allclose(compute(parse_feature("return(Close)"), data)[1:],
                               close[1:] / close[:-1] - 1)  # fmt: skip
    assert np.isnan(compute(parse_feature("return(Close)"), data)[0])
    sma = compute(parse_feature("sma(Close, 3)"), data)
    assert np.isnan(sma[:2]).all()
    np.testing.assert_allclose(sma[2:], [close[i - 2 : i + 1].mean() for i in range(2, 30)])
    np.testing.assert_allclose(compute(parse_feature("log1p(Volume)"), data), np.log1p(volume))
    assert compute(parse_feature("day_of_week"), data)[:6].tolist() == [0, 1, 2, 3, 4, 0]
    open_ = data["Open"].to_numpy()
    np.testing.assert_allclose(
        compute(parse_feature("log_ratio(Close, Open)"), data), np.log(close / open_)
    )
    gap = compute(parse_feature("gap(Open, Close)"), data)
    assert np.isnan(gap[0])
    np.testing.assert_allclose(gap[1:], np.log(open_[1:] / close[:-1]))
    assert history_rows(parse_features(("gap(Open, Close)",))) == 1
    assert source_columns(parse_features(("gap(Open, Close)", "Close"))) == ("Open", "Close")


@pytest.mark.parametrize(
    "spec",
    [
        "Volume",
        "return(Close)",
        "log1p(Volume)",
        "sma(Close, 5)",
        "day_of_week",
        "log_ratio(Close, Open)",
        "gap(Open, Close)",
    ],
)
def test_no_feature_looks_ahead(spec):
    """A feature's value at row t must not change when the rows after t change or go away."""
    data = frame()
    feature = parse_feature(spec)
    full = compute(feature, data)
    for t in (5, 12, 29):
        truncated = compute(feature, data.iloc[: t + 1])
        changed = data.copy()
        changed.iloc[t + 1 :] *= 7
        np.testing.assert_array_equal(truncated, full[: t + 1])
        np.testing.assert_array_equal(compute(feature, changed)[: t + 1], full[: t + 1])
