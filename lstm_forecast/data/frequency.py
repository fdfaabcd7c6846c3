"""The step a price series moves in. Pure functions, no I/O.

`infer_frequency` reads the step and its pattern from the timestamps alone: business days, every
day (crypto), weeks, months, quarters, years, or intraday bars of N minutes — trading-session
bars (nights, and weekends unless the data has them, skipped) or round-the-clock bars.
`resample` makes irregular data regular; future_timestamps.py continues the pattern.
"""

from __future__ import annotations

import datetime
from collections import Counter
from dataclasses import dataclass

import numpy as np
import pandas as pd

from lstm_forecast.errors import ConfigError, DataError

DOMINANT_SHARE = 0.5  # the step must be at least this share of the gaps between rows
WEEKEND_SHARE = 0.1  # rows on Saturdays and Sundays above this share: the data trades weekends
ANCHOR_SHARE = 0.9  # share of monthly rows on a month end (start) for month-end (start) data
RECENT_SESSIONS = 20  # session hours from the latest sessions (a DST switch in UTC data moves them)
SESSIONS_TO_TRUST_WEEKDAYS = 10  # fewer sessions: assume Monday-Friday (plus weekend days seen)
ONE_DAY = pd.Timedelta(days=1)
WEEKDAYS = frozenset(range(5))  # Monday = 0 .. Friday = 4
WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
RESAMPLE_HINT = 'resample it with [data] resample = "1D" (or "W-FRI", "ME", "1h", "30min")'


@dataclass(frozen=True)
class Frequency:
    """How a series steps: what `infer_frequency` found and `future_timestamps` continues."""

    kind: str  # "business_day", "day", "week", "days" (n of them), "month", "quarter", "year",
    # or "intraday"
    step: pd.Timedelta  # the typical gap between rows (a month: about 30 days)
    label: str  # one step in messages: "day", "week", "month", "1h bar", "30min bar"
    offset: pd.DateOffset  # steps calendar kinds forward: BDay, Day, Week(weekday=4), MonthEnd...
    periods_per_year: float  # steps in a year: 252 business days, 12 months, bars per year
    weekends: bool = False  # rows fall on Saturdays and Sundays too
    # intraday session bars only (None / 0 / empty for round-the-clock bars and calendar kinds):
    session_start: datetime.time | None = None  # wall-clock time of a session's first bar
    session_bars: int = 0  # bars in a full session
    session_days: frozenset[int] = frozenset()  # weekdays (Monday = 0) on which sessions start

    @property
    def is_daily(self) -> bool:
        """One row per day: business days or every day."""
        return self.kind in ("business_day", "day")

    @property
    def is_intraday(self) -> bool:
        return self.kind == "intraday"

    @property
    def has_sessions(self) -> bool:
        """Intraday bars within trading hours (with nights skipped), not round the clock."""
        return self.session_start is not None

    def describe(self) -> str:
        """The pattern in words: "business days (Monday-Friday)", "1h bars in sessions from
        09:30, 7 a session, Monday-Friday", "30min bars round the clock", "month ends"."""
        if self.kind == "business_day":
            return "business days (Monday-Friday)"
        if self.kind == "day":
            return "every day (weekends included)"
        if self.kind == "week":
            return f"weeks ({WEEKDAY_NAMES[self.offset.weekday]}s)"
        if self.kind == "days":  # several days or weeks a step
            if isinstance(self.offset, pd.offsets.Week):
                return f"every {self.offset.n} weeks ({WEEKDAY_NAMES[self.offset.weekday]}s)"
            return f"every {self.offset.n} days"
        if not self.is_intraday:
            anchor = type(self.offset).__name__
            where = " ends" if "End" in anchor else " starts" if "Begin" in anchor else "s"
            return f"{self.kind}{where}"
        if not self.has_sessions:
            days = "every day" if self.weekends else "Monday-Friday"
            return f"{self.label}s round the clock, {days}"
        days = (
            "Monday-Friday"
            if self.session_days == WEEKDAYS
            else ", ".join(WEEKDAY_NAMES[day][:3] for day in sorted(self.session_days))
        )
        return (
            f"{self.label}s in sessions from {self.session_start:%H:%M}, "
            f"{self.session_bars} a session, {days}"
        )

    def count(self, steps: int) -> str:
        """`steps` of these for messages: "1 day", "5 days", "12 1h bars"."""
        return f"{steps} {self.label}{'' if steps == 1 else 's'}"


def infer_frequency(index: pd.DatetimeIndex, source: str = "data") -> Frequency:
    """The step and pattern of sorted, unique timestamps; DataError if no step dominates.

    `source` names the data in messages. Intraday session hours (first bar time and bars per
    session) come from the latest RECENT_SESSIONS sessions, in the index's own time zone.
    """
    index = pd.DatetimeIndex(index)
    if len(index) < 2:
        raise DataError(f"{source}: {len(index)} timestamp(s) cannot show a step; give more rows")
    gaps = pd.Series(index[1:] - index[:-1])
    step = gaps.mode().min()
    if step < ONE_DAY:
        return _intraday(index, gaps, step, source)
    return _calendar(index, source)


def _calendar(index: pd.DatetimeIndex, source: str) -> Frequency:
    """Business days, days, weeks, months, quarters or years (times of day are ignored)."""
    days = pd.Series((index[1:].normalize() - index[:-1].normalize()).days)
    months = pd.Series(index.year * 12 + index.month).diff().dropna()
    weekends = bool((index.day_of_week >= 5).mean() > WEEKEND_SHARE)
    last = index[-1]
    if (days == 1).mean() >= DOMINANT_SHARE:
        if weekends:
            return Frequency("day", ONE_DAY, "day", pd.offsets.Day(1), 365, weekends=True)
        return Frequency("business_day", ONE_DAY, "day", pd.offsets.BDay(1), 252)
    if (days == 7).mean() >= DOMINANT_SHARE:
        weekday = int(pd.Series(index.day_of_week).mode().iloc[0])
        offset = pd.offsets.Week(weekday=weekday)
        return Frequency("week", pd.Timedelta(days=7), "week", offset, 52, weekends)
    for kind, span, per_year in (("month", 1, 12), ("quarter", 3, 4), ("year", 12, 1)):
        if (months == span).mean() >= DOMINANT_SHARE:
            offset = _month_anchor(index, span, last)
            return Frequency(kind, pd.Timedelta(days=30.4375 * span), kind, offset, per_year)
    common = int(days.mode().min())  # a steady step of several days (resample = "2W-FRI", "3D")
    if common > 1 and (days == common).mean() >= DOMINANT_SHARE:
        if common % 7 == 0:
            weekday = int(pd.Series(index.day_of_week).mode().iloc[0])
            offset = pd.offsets.Week(n=common // 7, weekday=weekday)
            label = f"{common // 7}-week step"
        else:
            offset, label = pd.offsets.Day(common), f"{common}-day step"
        return Frequency(
            "days", pd.Timedelta(days=common), label, offset, 365.25 / common, weekends
        )
    raise _irregular(source, pd.Series(index[1:] - index[:-1]))


def _month_anchor(index: pd.DatetimeIndex, months: int, last: pd.Timestamp) -> pd.DateOffset:
    """Month (quarter, year) ends or starts, calendar or business, else the same day each time."""
    month = last.month
    anchors = {
        "end": (index.is_month_end, pd.offsets.MonthEnd, pd.offsets.QuarterEnd, pd.offsets.YearEnd),
        "start": (
            index.is_month_start,
            pd.offsets.MonthBegin,
            pd.offsets.QuarterBegin,
            pd.offsets.YearBegin,
        ),
        "business end": (
            index == index + pd.offsets.BMonthEnd(0),
            pd.offsets.BMonthEnd,
            pd.offsets.BQuarterEnd,
            pd.offsets.BYearEnd,
        ),
        "business start": (
            index == index - pd.offsets.BMonthBegin(0),
            pd.offsets.BMonthBegin,
            pd.offsets.BQuarterBegin,
            pd.offsets.BYearBegin,
        ),
    }
    for on_anchor, monthly, quarterly, yearly in anchors.values():
        if on_anchor.mean() >= ANCHOR_SHARE:
            if months == 1:
                return monthly(1)
            return quarterly(1, startingMonth=month) if months == 3 else yearly(1, month=month)
    return pd.DateOffset(months=months)


def _intraday(
    index: pd.DatetimeIndex, gaps: pd.Series, step: pd.Timedelta, source: str
) -> Frequency:
    """Bars of `step`: trading sessions when a gap longer than a bar recurs (about daily)."""
    if (gaps == step).mean() < DOMINANT_SHARE:
        raise _irregular(source, gaps)
    minutes = int(step / pd.Timedelta(minutes=1))
    label = f"{minutes // 60}h bar" if minutes % 60 == 0 else f"{minutes}min bar"
    weekends = bool((index.day_of_week >= 5).mean() > WEEKEND_SHARE)
    offset = pd.tseries.frequencies.to_offset(step)
    # (rows - 1,) a session break before row i + 1: a gap of at least half the typical daily
    # break (the median over days of each day's longest gap), so that a few missing bars (a
    # gap of two or three bars) do not cut a session in pieces
    daily_longest = gaps.groupby(index[1:].normalize().to_numpy()).max()
    breaks = gaps > max(step, daily_longest.median() / 2)
    boundaries = index.normalize().nunique() - 1
    if not breaks.any() or breaks.sum() < DOMINANT_SHARE * boundaries:  # round the clock
        bars_per_year = ONE_DAY / step * (365 if weekends else 261)
        return Frequency("intraday", step, label, offset, bars_per_year, weekends)
    session_ids = pd.Series([0, *breaks.cumsum()], index=index)
    starts = index[[0, *(breaks[breaks].index + 1)]]
    recent = starts[-RECENT_SESSIONS:]
    session_start = _most_common_recent([start.time() for start in recent])
    # bars from a session's first to its last bar: a bar missing inside does not shorten it
    times = pd.Series(index, index=index).groupby(session_ids.to_numpy())
    spans = ((times.max() - times.min()) / step + 1).round().astype(int).to_list()
    session_bars = _most_common_recent(spans[-RECENT_SESSIONS:])
    session_days = frozenset(int(day) for day in starts.day_of_week)
    if len(starts) < SESSIONS_TO_TRUST_WEEKDAYS:
        session_days |= WEEKDAYS
    return Frequency(
        "intraday",
        step,
        label,
        offset,
        periods_per_year=session_bars * len(session_days) * 52,
        weekends=weekends,
        session_start=session_start,
        session_bars=int(session_bars),
        session_days=session_days,
    )


def _most_common_recent(values: list):
    """The most common value; a tie goes to the most recent one."""
    counts = Counter(reversed(values))
    return max(counts, key=counts.__getitem__)  # max keeps the first (most recent) of a tie


def _irregular(source: str, gaps: pd.Series) -> DataError:
    common = gaps.mode().min()
    share = (gaps == common).mean()
    return DataError(
        f"{source}: the timestamps have no regular step (the most common gap, {common}, is "
        f"only {share:.0%} of them); {RESAMPLE_HINT}"
    )


def on_clock_of(index: pd.DatetimeIndex, like: pd.DatetimeIndex) -> pd.DatetimeIndex:
    """`index` written the way `like` is: files of one series often differ only in whether their
    timestamps carry a UTC offset (a web download against a fetched file). Naive timestamps are
    taken as wall-clock time in `like`'s zone (an hour repeated by a clock change counts as
    standard time, a skipped one moves forward); offsets are dropped to wall-clock time when
    `like` is naive; two zones convert."""
    index, like = pd.DatetimeIndex(index), pd.DatetimeIndex(like)
    if like.tz is None:
        return index if index.tz is None else index.tz_localize(None)
    if index.tz is None:
        standard_time = np.zeros(len(index), dtype=bool)
        return index.tz_localize(like.tz, ambiguous=standard_time, nonexistent="shift_forward")
    return index.tz_convert(like.tz)


def same_day_keys(first: pd.DatetimeIndex, second: pd.DatetimeIndex):
    """The two indexes as keys to match rows of one series across files: on one clock (the
    first's), and reduced to dates when each has a single time of day (daily bars stamped at
    midnight in one file and at the close in another)."""
    second = on_clock_of(second, first)
    if first.tz is not None:  # wall-clock dates in the first's zone
        first, second = first.tz_localize(None), second.tz_localize(None)
    if _one_time_of_day(first) and _one_time_of_day(second):
        first, second = first.normalize(), second.normalize()
    return first, second


def _one_time_of_day(index: pd.DatetimeIndex) -> bool:
    return (index - index.normalize()).nunique() <= 1


def timestamp_strings(index: pd.DatetimeIndex, like: pd.DatetimeIndex | None = None) -> pd.Index:
    """Timestamps as tables write them, ISO 8601: dates alone when every timestamp of `like`
    (default: `index` itself) is a naive midnight (daily, weekly, monthly data), else date and
    time ("2024-03-08 14:30:00"), with the UTC offset when the index has a time zone
    ("2024-03-08 14:30:00-05:00"), so a table read back with pd.to_datetime gives the same
    instants."""
    index = pd.DatetimeIndex(index)
    like = index if like is None else pd.DatetimeIndex(like)
    if index.tz is None:
        dates_only = like.tz is None and bool((like == like.normalize()).all())
        dates_only = dates_only and bool((index == index.normalize()).all())
        return index.strftime("%Y-%m-%d" if dates_only else "%Y-%m-%d %H:%M:%S")
    text = pd.Index(index.strftime("%Y-%m-%d %H:%M:%S%z"))
    return text.str.replace(r"([+-]\d{2})(\d{2})$", r"\1:\2", regex=True)  # -0500 -> -05:00


def timestamp_string(timestamp: pd.Timestamp, like: pd.DatetimeIndex | None = None) -> str:
    """One timestamp as timestamp_strings writes it among the timestamps of `like`."""
    return str(timestamp_strings(pd.DatetimeIndex([timestamp]), like)[0])


def check_rule(rule: str) -> pd.DateOffset:
    """The pandas offset of a resampling rule; ConfigError if pandas does not know it."""
    try:
        return pd.tseries.frequencies.to_offset(rule)
    except ValueError as e:
        raise ConfigError(
            f'[data] resample = "{rule}" is not a pandas frequency; use e.g. "1D", "W-FRI", '
            '"ME", "1h" or "30min"'
        ) from e


def resample(frame: pd.DataFrame | pd.Series, rule: str) -> pd.DataFrame | pd.Series:
    """The last price in each `rule` bucket (a pandas frequency such as "1D", "W-FRI", "ME",
    "1h"), labelled as pandas labels buckets; buckets without prices are dropped."""
    resampled = frame.resample(check_rule(rule)).last()
    return resampled.dropna() if isinstance(resampled, pd.Series) else resampled.dropna(how="all")


def check_same_step(new: pd.DatetimeIndex, known: pd.DatetimeIndex, source: str) -> None:
    """Prices with another step than the training data's (weekly rows for a daily model) would
    be read as if they were daily: one line, not predictions that mean nothing."""
    try:
        new_step, known_step = infer_frequency(new), infer_frequency(known)
    except DataError:  # too few rows or no regular step to compare: nothing to say
        return
    if new_step.step != known_step.step:
        raise DataError(
            f"{source}: its rows are {new_step.describe()}, but this run was trained on "
            f"{known_step.describe()}; give prices with the run's step, or train on these "
            "(a [data] resample rule changes a file's step)"
        )
