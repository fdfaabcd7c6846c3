"""Model inputs beside the target: CSV columns and features derived from them.

A feature is named in `[data] features` as one of
    COLUMN              the column's value (e.g. "Volume", "High")
    return(COLUMN)      COLUMN_t / COLUMN_t-1 - 1
    log1p(COLUMN)       log(1 + COLUMN_t), e.g. log1p(Volume)
    sma(COLUMN, N)      mean of COLUMN over rows t-N+1 .. t (a trailing moving average)
    day_of_week         0 = Monday .. 4 = Friday
    log_ratio(A, B)     log(A_t / B_t), e.g. log_ratio(Close, Open): the day's intraday return
    gap(A, B)           log(A_t / B_t-1), e.g. gap(Open, Close): the overnight gap
Every feature at row t uses rows up to t only (no look-ahead); rows before a feature is defined
are NaN and are not used for training.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from lstm_forecast.errors import ConfigError

SPEC = re.compile(
    r"^\s*(?:(?P<kind>return|log1p|sma)\(\s*(?P<column>[^,()]+?)\s*(?:,\s*(?P<n>\d+)\s*)?\)"
    r"|(?P<pair>log_ratio|gap)\(\s*(?P<first>[^,()]+?)\s*,\s*(?P<second>[^,()]+?)\s*\)"
    r"|(?P<dow>day_of_week)|(?P<raw>[^()]+?))\s*$"
)


@dataclass(frozen=True)
class Feature:
    name: str  # as written in the config
    kind: str  # raw, return, log1p, sma, day_of_week, log_ratio, gap
    column: str = ""  # the CSV column it is computed from ("" for day_of_week)
    window: int = 0  # rows of the moving average
    other: str = ""  # the second column of log_ratio and gap (the denominator)

    @property
    def level_like(self) -> bool:
        """A price-like level (per-window normalisation divides it by the window's last value)."""
        return self.kind in ("raw", "sma")


def parse_feature(spec: str) -> Feature:
    """Parse one `[data] features` entry, or raise ConfigError saying what is allowed."""
    match = SPEC.match(spec)
    if not match:
        raise ConfigError(
            f"[data] features: {spec!r} is not a feature; use a column name, return(COLUMN), "
            "log1p(COLUMN), sma(COLUMN, N), log_ratio(A, B), gap(A, B) or day_of_week"
        )
    if match["pair"]:
        return Feature(spec, match["pair"], match["first"], other=match["second"])
    if match["dow"]:
        return Feature(spec, "day_of_week")
    if match["raw"]:
        return Feature(spec, "raw", match["raw"].strip())
    kind, column, window = match["kind"], match["column"], match["n"]
    if kind == "sma":
        if not window or int(window) < 2:
            raise ConfigError(
                f"[data] features: {spec!r} needs a window of 2 or more: sma(Close, 20)"
            )
        return Feature(spec, kind, column, int(window))
    if window:
        raise ConfigError(f"[data] features: {spec!r}: {kind}() takes one column")
    return Feature(spec, kind, column)


def parse_features(specs: tuple[str, ...]) -> tuple[Feature, ...]:
    features = tuple(parse_feature(spec) for spec in specs)
    names = [feature.name for feature in features]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ConfigError(f"[data] features: {repeated[0]!r} is listed twice")
    return features


def source_columns(features: tuple[Feature, ...]) -> tuple[str, ...]:
    """The CSV columns the features read, in order, each once."""
    columns = (name for feature in features for name in (feature.column, feature.other) if name)
    return tuple(dict.fromkeys(columns))


def compute(feature: Feature, frame: pd.DataFrame) -> np.ndarray:
    """The feature's value at every row of `frame` (DatetimeIndex; columns as read), float64."""
    if feature.kind == "day_of_week":
        return frame.index.day_of_week.to_numpy(np.float64)
    values = frame[feature.column].astype(np.float64)
    if feature.kind == "raw":
        return values.to_numpy()
    if feature.kind == "return":
        return values.pct_change(fill_method=None).to_numpy()
    if feature.kind in ("log_ratio", "gap"):
        other = frame[feature.other].astype(np.float64)
        other = other.shift(1) if feature.kind == "gap" else other  # gap: the previous row's B
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log(values / other).to_numpy()
    if feature.kind == "log1p":
        return np.log1p(values.clip(lower=0)).to_numpy()
    return values.rolling(feature.window).mean().to_numpy()  # sma: rows t-N+1 .. t


def history_rows(features: tuple[Feature, ...]) -> int:
    """Leading rows where some feature is still undefined (NaN)."""
    return max(
        [
            1 if f.kind in ("return", "gap") else f.window - 1 if f.kind == "sma" else 0
            for f in features
        ],
        default=0,
    )
