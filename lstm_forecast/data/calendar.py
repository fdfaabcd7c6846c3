"""The timestamps that continue a price series past its last row, in its own step (frequency.py's
`Frequency`): business days (or an exchange calendar's sessions), every day, weeks, months, bars
within the data's session hours or round the clock. Pure functions, no I/O."""

from __future__ import annotations

import datetime
import warnings

import pandas as pd

from lstm_forecast.data.frequency import ONE_DAY, Frequency
from lstm_forecast.errors import ConfigError, DataError


def future_timestamps(
    last: pd.Timestamp, count: int, frequency: Frequency, calendar: str = ""
) -> pd.DatetimeIndex:
    """`count` timestamps after `last` that continue `frequency`, in `last`'s time zone.

    Business days skip weekends (and, with `calendar` an exchange code such as "XNYS", that
    exchange's holidays); daily crypto data goes on every day; months go month end to month end
    (or start to start). Session bars go on within the session's hours and then to the next
    session's first bar, on the weekdays sessions started on in the data (or the calendar's
    sessions). Round-the-clock bars go on every step, skipping weekends if the data has none.
    """
    last = pd.Timestamp(last)
    if calendar and not (frequency.kind == "business_day" or frequency.has_sessions):
        raise ConfigError(
            f"calendar {calendar!r} needs trading-day or trading-session data; the data has one "
            f'row per {frequency.label}: set calendar = ""'
        )
    if frequency.has_sessions:
        return _session_bars(last, count, frequency, calendar)
    if frequency.is_intraday:
        return _round_the_clock(last, count, frequency)
    if calendar:
        return _calendar_days(last, count, calendar)
    offset = frequency.offset
    return pd.date_range(last + offset, periods=count, freq=offset, name=None)


def _round_the_clock(last: pd.Timestamp, count: int, frequency: Frequency) -> pd.DatetimeIndex:
    stamps = pd.DatetimeIndex([], tz=last.tz)
    span = count
    while len(stamps) < count:  # weekends removed: take a longer range until enough remain
        span *= 2
        stamps = pd.date_range(last + frequency.step, periods=span, freq=frequency.step)
        if not frequency.weekends:
            stamps = stamps[stamps.day_of_week < 5]
    return stamps[:count]


def _session_bars(
    last: pd.Timestamp, count: int, frequency: Frequency, calendar: str
) -> pd.DatetimeIndex:
    """Bars of the session `last` is in, then whole sessions, each from its first bar."""
    step, bars = frequency.step, frequency.session_bars
    start = _at(last.normalize(), frequency.session_start, last.tz)
    if start > last:  # the session began the day before (or `last` is before today's)
        start = _at(last.normalize() - ONE_DAY, frequency.session_start, last.tz)
    position = (last - start) / step  # bars into its session
    stamps = [last + step * k for k in range(1, bars - int(position)) if position == int(position)]
    days = _session_dates(last, count // max(bars, 1) + 2, frequency, calendar)
    for day in days:
        if len(stamps) >= count:
            break
        first = _at(day, frequency.session_start, last.tz)
        if first > last and (not stamps or first > stamps[-1]):
            stamps += [first + step * k for k in range(bars)]
    return pd.DatetimeIndex(stamps[:count])


def _at(day: pd.Timestamp, time: datetime.time, tz) -> pd.Timestamp:
    """`day` at wall-clock `time` in `tz` (a time skipped by a DST switch moves forward)."""
    wall = pd.Timestamp.combine(day.date(), time)
    return (
        wall if tz is None else wall.tz_localize(tz, nonexistent="shift_forward", ambiguous=False)
    )


def _session_dates(
    last: pd.Timestamp, count: int, frequency: Frequency, calendar: str
) -> list[pd.Timestamp]:
    """At least `count` session dates from `last`'s date on (naive midnights)."""
    first = pd.Timestamp(last.date())
    if calendar:
        sessions = _calendar_days(first - ONE_DAY, count + 1, calendar)
        return list(sessions)
    days = pd.date_range(first, periods=count * 7 + 7, freq="D")
    return list(days[days.day_of_week.isin(list(frequency.session_days))])


def _calendar_days(last: pd.Timestamp, count: int, calendar: str) -> pd.DatetimeIndex:
    """The `count` sessions of exchange `calendar` after `last`'s date, at `last`'s time and zone."""
    try:
        import exchange_calendars
    except ImportError as e:
        raise ConfigError(
            f"calendar {calendar!r} needs the exchange_calendars package; "
            "install it with: pip install 'lstm-forecast[calendars]'"
        ) from e
    try:
        with warnings.catch_warnings():
            # exchange_calendars builds its calendars with pandas APIs that pandas 3.1 deprecates
            # (Series.values on time zones): its warning, not one about the caller's code
            warnings.filterwarnings("ignore", category=FutureWarning, module="exchange_calendars")
            warnings.filterwarnings("ignore", message=".*DatetimeTZDtype is deprecated.*")
            sessions = exchange_calendars.get_calendar(calendar)
    except exchange_calendars.errors.InvalidCalendarName as e:
        raise ConfigError(
            f"unknown exchange calendar {calendar!r}; use a code such as XNYS (New York), "
            "XLON (London), XETR (Xetra), XTKS (Tokyo)"
        ) from e
    after = sessions.sessions[sessions.sessions > pd.Timestamp(last.date())][:count]
    if len(after) < count:
        raise DataError(
            f"calendar {calendar} has sessions only until {sessions.last_session.date()}; "
            f'use a shorter horizon or calendar = "" (business days)'
        )
    time_of_day = last - last.normalize()
    dates = pd.DatetimeIndex(after).tz_localize(None) + time_of_day
    return dates if last.tz is None else dates.tz_localize(last.tz)
