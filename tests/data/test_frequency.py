"""The step of a series and the timestamps that continue it, on the golden files and made series."""

import numpy as np
import pandas as pd
import pytest
from conftest import FIXTURES

from lstm_forecast.data.calendar import future_timestamps
from lstm_forecast.data.frequency import Frequency, infer_frequency, resample
from lstm_forecast.data.read import load_prices
from lstm_forecast.errors import ConfigError, DataError

GOLDEN = FIXTURES


def stamps(index) -> list[str]:
    return [str(t) for t in index]


def session_bars(days, first: str, bars: int, step: str, tz=None) -> pd.DatetimeIndex:
    """`bars` bars of `step` from `first` o'clock on each of `days`."""
    return pd.DatetimeIndex(
        [
            pd.Timestamp(f"{day} {first}") + k * pd.Timedelta(step)
            for day in days
            for k in range(bars)
        ]
    ).tz_localize(tz)


@pytest.mark.parametrize(
    ("name", "target", "kind", "label", "is_daily"),
    [
        ("fred.csv", "DEXUSEU", "business_day", "day", True),
        ("month_first.csv", "Open", "business_day", "day", True),
        ("crypto_daily.csv", "Close", "day", "day", True),
        ("weekly.csv", "Close", "week", "week", False),
        ("monthly.csv", "Close", "month", "month", False),
        ("hourly_offset.csv", "Close", "intraday", "1h bar", False),
        ("hourly_dst.csv", "Close", "intraday", "1h bar", False),
        ("bars_30min.csv", "Close", "intraday", "30min bar", False),
        ("crypto_hourly.csv", "Close", "intraday", "1h bar", False),
    ],
)
def test_golden_files_have_their_frequency(name, target, kind, label, is_daily):
    frequency = infer_frequency(load_prices(GOLDEN / name, target).values.index)
    assert (frequency.kind, frequency.label, frequency.is_daily) == (kind, label, is_daily)


def test_business_days_with_a_holiday_continue_monday_to_friday_in_their_zone():
    index = pd.bdate_range("2024-01-02", periods=30, tz="UTC+01:00").delete(10)  # one holiday
    frequency = infer_frequency(index)
    assert frequency.kind == "business_day" and frequency.periods_per_year == 252
    future = future_timestamps(pd.Timestamp("2024-03-08", tz="UTC+01:00"), 4, frequency)
    assert stamps(future) == [
        "2024-03-11 00:00:00+01:00",
        "2024-03-12 00:00:00+01:00",
        "2024-03-13 00:00:00+01:00",
        "2024-03-14 00:00:00+01:00",
    ]


def test_seven_day_data_continues_over_the_weekend():
    frequency = infer_frequency(pd.date_range("2024-01-01", periods=20, freq="D"))
    assert frequency.kind == "day" and frequency.weekends
    future = future_timestamps(pd.Timestamp("2024-01-20"), 3, frequency)  # a Saturday
    assert [t.strftime("%a %d") for t in future] == ["Sun 21", "Mon 22", "Tue 23"]


@pytest.mark.parametrize(
    ("index", "after", "expected", "label"),
    [
        (
            pd.date_range("2023-01-01", periods=6, freq="MS"),
            "2023-06-01",
            ["2023-07-01", "2023-08-01", "2023-09-01"],
            "month",
        ),
        (
            pd.date_range("2023-01-31", periods=6, freq="ME"),
            "2023-06-30",
            ["2023-07-31", "2023-08-31", "2023-09-30"],
            "month",
        ),
        (
            pd.date_range("2022-03-31", periods=6, freq="QE"),
            "2023-06-30",
            ["2023-09-30", "2023-12-31", "2024-03-31"],
            "quarter",
        ),
        (
            pd.DatetimeIndex(["2023-01-15", "2023-02-15", "2023-03-15", "2023-04-15"]),
            "2023-04-15",
            ["2023-05-15", "2023-06-15", "2023-07-15"],
            "month",
        ),
    ],
    ids=["month-start", "month-end", "quarter-end", "mid-month"],
)
def test_months_and_quarters_keep_their_anchor(index, after, expected, label):
    frequency = infer_frequency(index)
    assert frequency.label == label
    future = future_timestamps(pd.Timestamp(after), 3, frequency)
    assert [str(t.date()) for t in future] == expected


def test_session_bars_finish_the_session_then_skip_the_night_and_weekend():
    frequency = infer_frequency(load_prices(GOLDEN / "bars_30min.csv", "Close").values.index)
    assert (frequency.session_start.isoformat(), frequency.session_bars) == ("09:30:00", 13)
    assert frequency.has_sessions and not frequency.weekends
    future = future_timestamps(pd.Timestamp("2024-01-12 14:30"), 4, frequency)  # a Friday
    assert stamps(future) == [
        "2024-01-12 15:00:00",
        "2024-01-12 15:30:00",
        "2024-01-15 09:30:00",
        "2024-01-15 10:00:00",
    ]


def test_missing_bars_and_a_half_day_do_not_change_the_session():
    days = pd.bdate_range("2023-11-20", "2023-12-01").strftime("%Y-%m-%d")
    index = session_bars(days, "09:30", 78, "5min")  # 09:30 .. 15:55
    dropped = set(range(3, len(index), 40)) | set(range(5 * 78 + 40, 6 * 78))  # a short day
    frequency = infer_frequency(index.delete(sorted(dropped)))
    assert (frequency.session_start.isoformat(), frequency.session_bars) == ("09:30:00", 78)
    assert frequency.describe() == "5min bars in sessions from 09:30, 78 a session, Monday-Friday"


def test_session_bars_keep_a_fixed_offset():
    index = load_prices(GOLDEN / "hourly_offset.csv", "Close").values.index
    future = future_timestamps(index[-1], 2, infer_frequency(index))
    assert stamps(future) == ["2024-01-09 09:00:00+01:00", "2024-01-09 10:00:00+01:00"]


def test_session_hours_follow_the_latest_sessions_in_utc_data_across_dst():
    index = load_prices(GOLDEN / "hourly_dst.csv", "Close").values.index
    frequency = infer_frequency(index)
    assert frequency.session_start.isoformat() == "13:30:00"  # after the switch, not before
    future = future_timestamps(index[-1], 1, frequency)
    assert stamps(future) == ["2024-03-12 13:30:00+00:00"]


def test_session_hours_in_a_named_zone_stay_on_the_wall_clock_over_dst():
    days = pd.bdate_range("2024-02-26", "2024-03-08")
    index = session_bars(days.strftime("%Y-%m-%d"), "09:30", 7, "1h", tz="America/New_York")
    frequency = infer_frequency(index)
    assert frequency.session_days == frozenset(range(5))
    future = future_timestamps(index[-1], 2, frequency)  # Friday 15:30 EST -> Monday 09:30 EDT
    assert stamps(future) == ["2024-03-11 09:30:00-04:00", "2024-03-11 10:30:00-04:00"]


def test_sessions_that_start_the_evening_before_continue_over_midnight():
    # futures-like: 18:00 to 16:00 the next day, one-hour break, Sunday to Thursday evenings
    starts = [
        d for d in pd.date_range("2024-01-07", "2024-01-25") if d.day_of_week in (6, 0, 1, 2, 3)
    ]
    index = session_bars([f"{d:%Y-%m-%d}" for d in starts], "18:00", 23, "1h")
    frequency = infer_frequency(index)
    assert (frequency.session_start.isoformat(), frequency.session_bars) == ("18:00:00", 23)
    assert frequency.session_days == frozenset({6, 0, 1, 2, 3})
    future = future_timestamps(pd.Timestamp("2024-01-26 15:00"), 3, frequency)  # Friday
    assert stamps(future) == ["2024-01-26 16:00:00", "2024-01-28 18:00:00", "2024-01-28 19:00:00"]


def test_round_the_clock_bars_go_on_every_hour_or_skip_weekends_when_the_data_does():
    crypto = pd.date_range("2024-01-01", periods=24 * 14, freq="h", tz="UTC")
    frequency = infer_frequency(crypto)
    assert not frequency.has_sessions and frequency.weekends
    friday_night = pd.Timestamp("2024-01-19 23:00", tz="UTC")
    assert stamps(future_timestamps(friday_night, 1, frequency)) == ["2024-01-20 00:00:00+00:00"]
    weekdays = crypto[crypto.day_of_week < 5]
    frequency = infer_frequency(weekdays)
    assert not frequency.has_sessions and not frequency.weekends
    assert stamps(future_timestamps(friday_night, 1, frequency)) == ["2024-01-22 00:00:00+00:00"]


def test_irregular_data_is_refused_with_the_resample_setting():
    index = pd.DatetimeIndex(["2024-01-01", "2024-01-03", "2024-01-08", "2024-01-20", "2024-02-11"])
    with pytest.raises(DataError) as error:
        infer_frequency(index, "ticks.csv")
    assert str(error.value) == (
        "ticks.csv: the timestamps have no regular step (the most common gap, 2 days 00:00:00, "
        'is only 25% of them); resample it with [data] resample = "1D" (or "W-FRI", "ME", '
        '"1h", "30min")'
    )
    with pytest.raises(DataError, match="1 timestamp"):
        infer_frequency(index[:1], "ticks.csv")


def test_resample_keeps_the_last_price_per_bucket_and_drops_empty_ones():
    index = pd.DatetimeIndex(
        ["2024-01-02 09:31", "2024-01-02 09:59", "2024-01-02 10:12", "2024-01-02 12:05"]
    )
    frame = pd.DataFrame({"Close": [1.0, 2.0, 3.0, 4.0], "Volume": [10, 20, 30, 40]}, index=index)
    hourly = resample(frame, "1h")
    assert stamps(hourly.index) == [
        "2024-01-02 09:00:00",
        "2024-01-02 10:00:00",
        "2024-01-02 12:00:00",
    ]  # 11:00 had no price: dropped
    np.testing.assert_array_equal(hourly["Close"], [2.0, 3.0, 4.0])
    np.testing.assert_array_equal(resample(frame["Close"], "1D"), [4.0])
    with pytest.raises(ConfigError, match='resample = "fortnightly" is not a pandas frequency'):
        resample(frame, "fortnightly")


def test_exchange_calendar_skips_holidays_for_days_and_session_bars():
    pytest.importorskip("exchange_calendars")
    days = infer_frequency(pd.bdate_range("2017-12-01", "2017-12-29"))
    future = future_timestamps(pd.Timestamp("2017-12-29"), 3, days, calendar="XNYS")
    assert [str(t.date()) for t in future] == ["2018-01-02", "2018-01-03", "2018-01-04"]
    bars = infer_frequency(load_prices(GOLDEN / "bars_30min.csv", "Close").values.index)
    future = future_timestamps(pd.Timestamp("2017-12-29 15:30"), 2, bars, calendar="XNYS")
    assert stamps(future) == ["2018-01-02 09:30:00", "2018-01-02 10:00:00"]
    with pytest.raises(ConfigError, match="unknown exchange calendar 'NOPE'"):
        future_timestamps(pd.Timestamp("2017-12-29"), 3, days, calendar="NOPE")


def test_a_calendar_on_seven_day_data_is_a_config_error():
    frequency = infer_frequency(pd.date_range("2024-01-01", periods=20, freq="D"))
    with pytest.raises(ConfigError, match="needs trading-day or trading-session data"):
        future_timestamps(pd.Timestamp("2024-01-20"), 3, frequency, calendar="XNYS")


def test_counts_read_as_words():
    frequency = infer_frequency(pd.date_range("2024-01-01", periods=5, freq="30min"))
    assert isinstance(frequency, Frequency)
    assert (frequency.count(1), frequency.count(12)) == ("1 30min bar", "12 30min bars")


def test_a_steady_step_of_several_days_or_weeks_is_a_frequency():
    prices = pd.Series(1.0, index=pd.bdate_range("2020-01-03", periods=300))
    fortnights = prices.resample("2W-FRI").last().index
    frequency = infer_frequency(fortnights)
    assert frequency.describe() == "every 2 weeks (Fridays)"
    assert stamps(future_timestamps(fortnights[-1], 1, frequency)) == [
        str(fortnights[-1] + pd.Timedelta(days=14))
    ]
    assert infer_frequency(prices.resample("3D").last().dropna().index).describe() == "every 3 days"


def test_an_exchange_calendar_prints_no_warning_of_its_own():
    import warnings

    from lstm_forecast.data.calendar import future_timestamps
    from lstm_forecast.data.frequency import infer_frequency

    index = pd.bdate_range("2024-12-02", periods=20)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        dates = future_timestamps(index[-1], 5, infer_frequency(index), calendar="XNYS")
    assert len(dates) == 5
