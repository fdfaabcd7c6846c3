"""The configured data of a run, before any model: data paths made absolute, the CSV(s) read,
resampled when asked, checked for a regular step, split into train and test, and described."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from lstm_forecast.config.load import as_config
from lstm_forecast.config.schema import Config
from lstm_forecast.data.frequency import infer_frequency, resample, timestamp_strings
from lstm_forecast.data.quality import LONG_WEEKEND_DAYS, quality_report, report_lines
from lstm_forecast.data.read import PriceSeries, csv_options, load_prices, resolve_data_path
from lstm_forecast.errors import DataError
from lstm_forecast.prep.split import Split, join_train_test, split_by_date, split_by_fraction

Report = Callable[[str], object]


def resolve_paths(config: Config) -> Config:
    """Make the data paths absolute, once, so a saved run finds its data from any directory."""
    data = config.data
    path = str(resolve_data_path(data.path).resolve())
    test_path = str(Path(data.test_path).resolve()) if data.test_path else ""
    return dataclasses.replace(
        config, data=dataclasses.replace(data, path=path, test_path=test_path)
    )


def input_paths(config: Config) -> list[Path]:
    return [Path(p) for p in (config.data.path, config.data.test_path) if p]


def read_prices(
    path: str | Path,
    config: Config | str | Path | dict | None = None,
    date_column: str | None = None,
) -> pd.DataFrame:
    """The target and the columns the features read from a CSV, by date (what a Forecaster takes),
    resampled when [data] resample asks; `date_column` overrides [data] date_column. `config`
    as Forecaster.fit takes it (None: the defaults)."""
    config = as_config(config)
    options = csv_options(config.data)
    if date_column:
        options["date_column"] = date_column
    return _resampled(load_prices(path, **options).frame, config.data.resample)


def _resampled(frame: pd.DataFrame, rule: str) -> pd.DataFrame:
    return resample(frame, rule) if rule else frame


def load_split(config: Config) -> tuple[Split, tuple[PriceSeries, ...]]:
    """Read the configured CSV(s), resample them when asked, check that the rows have a regular
    step (DataError with the resample hint if not), and cut them into train and test spans."""
    data = config.data
    train = load_prices(resolve_data_path(data.path), **csv_options(data))
    frame = _resampled(train.frame, data.resample)
    if data.test_path:
        test = load_prices(data.test_path, **csv_options(data))
        test_frame = _resampled(test.frame, data.resample)
        split, sources = join_train_test(frame, test_frame, test.source), (train, test)
    elif data.test_start:
        split, sources = split_by_date(frame, data.test_start, train.source), (train,)
    else:
        split, sources = split_by_fraction(frame, data.test_fraction, train.source), (train,)
    infer_frequency(split.frame.index, " and ".join(source.source for source in sources))
    return split, sources


def step_label(index: pd.DatetimeIndex) -> str:
    """What one row is in messages ("day", "week", "1h bar"), "step" when there is no regular one."""
    try:
        return infer_frequency(index).label
    except DataError:
        return "step"


def describe_split(
    split: Split, sources: tuple[PriceSeries, ...], report: Report, resample_rule: str = ""
) -> None:
    for source in sources:
        report(source.describe())
        for line in report_lines(quality_report(source), short=True):
            report(line)
    train, test = split.train, split.test
    index = split.frame.index
    frequency = infer_frequency(index)
    if len(sources) == 2:  # the hole between the files, which neither file's report sees
        limit = max(LONG_WEEKEND_DAYS, int(2 * frequency.step / pd.Timedelta(days=1)))
        days = (test.index[0] - train.index[-1]) / pd.Timedelta(days=1)
        if days > limit:
            first, last = timestamp_strings(pd.DatetimeIndex([train.index[-1], test.index[0]]))
            report(
                f"warning: {days:.0f} days between the training file's last row ({first}) and "
                f"the test file's first ({last}); the first test windows span that gap"
            )
    spans = timestamp_strings(train.index[[0, -1]].append(test.index[[0, -1]]), like=index)
    resampled = f"resampled to {resample_rule!r}: " if resample_rule else ""
    report(
        f"{resampled}{index.size} rows of {frequency.describe()}; "
        f"train {spans[0]} .. {spans[1]} ({split.n_train} rows), "
        f"test {spans[2]} .. {spans[3]} ({len(test)} rows)"
    )
