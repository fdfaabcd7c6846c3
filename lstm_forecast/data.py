"""Read and validate a price CSV: columns by header name, dates parsed, oldest row first."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from lstm_forecast.errors import DataError

# The bundled S&P 500 series (see data/README.md), used when no --data is given.
BUNDLED_DATA = Path(__file__).resolve().parent.parent / "data" / "sp500.csv"
CSV_HEADER_LINES = 1  # line numbers in messages count the header as line 1


@dataclass(frozen=True)
class PriceSeries:
    """One validated column of prices, indexed by date, oldest first."""

    values: pd.Series  # float64, DatetimeIndex named "date", name = target column as in the file
    source: str  # the file it came from
    rows_read: int  # data rows in the file
    rows_missing: int  # rows dropped because the date or the target was empty
    rows_duplicate: (
        int  # rows dropped because a later row had the same date (the later one is kept)
    )
    newest_first: bool  # the file was sorted newest first (we sort it oldest first)

    def describe(self) -> str:
        """One line for the user: what was read and what was dropped or reordered."""
        notes = []
        if self.rows_missing:
            notes.append(f"dropped {self.rows_missing} rows with an empty date or value")
        if self.rows_duplicate:
            notes.append(f"dropped {self.rows_duplicate} duplicate dates (kept the last)")
        if self.newest_first:
            notes.append("sorted oldest first")
        extra = f"; {'; '.join(notes)}" if notes else ""
        return f"read {self.rows_read} rows from {self.source}{extra}"


def resolve_data_path(path: str | Path | None) -> Path:
    """The CSV to read: `path`, or the bundled series when it is empty."""
    if path:
        return Path(path)
    if not BUNDLED_DATA.exists():
        raise DataError(
            f"{BUNDLED_DATA}: the bundled data is missing (installed without the repository?); "
            "pass a CSV with --data"
        )
    return BUNDLED_DATA


def load_prices(path: str | Path, target: str, date_column: str = "") -> PriceSeries:
    """Read `target` from the CSV at `path`, indexed by its date column.

    Numbers with thousands separators ("1,155.55") are parsed; rows whose date or target is empty
    are dropped and counted; duplicate dates keep the last row. Anything else that is not a date or
    a finite number raises DataError naming the file, line, column and value.
    """
    path = Path(path)
    frame = _read_csv(path)
    date_name = _find_date_column(frame, path, date_column)
    target_name = _find_column(frame, path, target, "target")

    raw_dates = frame[date_name]
    raw_values = frame[target_name]
    missing = raw_dates.isna() | raw_values.isna()
    dates = _parse_dates(raw_dates[~missing], path, date_name)
    values = _parse_numbers(raw_values[~missing], path, target_name)

    series = pd.Series(
        values.to_numpy(dtype=np.float64), index=pd.DatetimeIndex(dates, name="date")
    )
    series.name = target_name
    newest_first = len(series) > 1 and series.index[0] > series.index[-1]
    series = series.sort_index(kind="stable")
    duplicate = series.index.duplicated(keep="last")
    series = series[~duplicate]
    if series.empty:
        raise DataError(f"{path}: no rows with both a date and a {target_name!r} value")
    return PriceSeries(
        values=series,
        source=str(path),
        rows_read=len(frame),
        rows_missing=int(missing.sum()),
        rows_duplicate=int(duplicate.sum()),
        newest_first=bool(newest_first),
    )


def _read_csv(path: Path) -> pd.DataFrame:
    if not path.exists():
        raise DataError(f"{path}: file not found; check the path given to --data/--test")
    if not path.is_file():
        raise DataError(f"{path}: is a directory, not a CSV file")
    try:
        frame = pd.read_csv(path, skipinitialspace=True, dtype=str)
    except pd.errors.EmptyDataError as e:
        raise DataError(f"{path}: file is empty; expected a CSV with a header row") from e
    except UnicodeDecodeError as e:
        raise DataError(f"{path}: not a text CSV (byte {e.start} is not UTF-8)") from e
    except pd.errors.ParserError as e:
        raise DataError(f"{path}: not a readable CSV ({str(e).strip()})") from e
    if frame.empty:
        raise DataError(f"{path}: has a header but no data rows")
    frame.columns = [str(name).strip() for name in frame.columns]
    return frame


def _find_column(frame: pd.DataFrame, path: Path, name: str, role: str) -> str:
    by_lower = {column.lower(): column for column in frame.columns}
    if name.strip().lower() in by_lower:
        return by_lower[name.strip().lower()]
    raise DataError(
        f"{path}: no {role} column {name!r}; columns are {', '.join(map(repr, frame.columns))} "
        f"(set it with --target or [data] {'target' if role == 'target' else 'date_column'})"
    )


def _find_date_column(frame: pd.DataFrame, path: Path, date_column: str) -> str:
    if date_column:
        return _find_column(frame, path, date_column, "date")
    for column in frame.columns:
        if "date" in column.lower() or column.lower() in ("time", "timestamp"):
            return column
    raise DataError(
        f"{path}: no date column found among {', '.join(map(repr, frame.columns))}; "
        "name it with [data] date_column"
    )


def _parse_dates(raw: pd.Series, path: Path, column: str) -> pd.Series:
    text = raw.str.strip()
    parsed = pd.to_datetime(text, errors="coerce", format="mixed")
    bad = parsed.isna()
    if bad.any():
        row = bad.idxmax()
        raise DataError(
            f"{path}: line {row + 1 + CSV_HEADER_LINES}, column {column!r}: "
            f"{raw[row]!r} is not a date; use ISO dates (2017-01-31) or m/d/yyyy"
        )
    return parsed


def _parse_numbers(raw: pd.Series, path: Path, column: str) -> pd.Series:
    text = raw.str.strip().str.replace(",", "", regex=False)
    parsed = pd.to_numeric(text, errors="coerce")
    bad = parsed.isna() | ~np.isfinite(parsed)
    if bad.any():
        row = bad.idxmax()
        raise DataError(
            f"{path}: line {row + 1 + CSV_HEADER_LINES}, column {column!r}: "
            f"{raw[row]!r} is not a finite number; fix or delete that row"
        )
    return parsed
