"""Read and validate a price CSV: columns by header name, dates parsed, oldest row first.

Takes what price sites export — Yahoo Finance (with `null` rows), the reference data (m/d/yyyy,
"1,155.55", CRLF), pandas exports with an index column, trailing empty columns, newest-first
files, Nasdaq.com (`Close/Last`, `$12.34`), European spreadsheets (`;` and decimal commas), FRED
(`.` for a missing day), d/m/yyyy dates, intraday bars with UTC offsets — and refuses anything else
with one line naming the file, line, column and value. How values are written (date order, time
zones, decimal marks, missing markers) is decided in dialect.py; which columns, in columns.py.
"""

from __future__ import annotations

import io
import re
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from lstm_forecast.data.columns import (
    UNNAMED_FIRST_COLUMN,
    find_column,
    find_date_column,
    refuse_repeated_names,
)
from lstm_forecast.data.dialect import (
    blank_missing,
    check_declared_mark,
    decimal_marks,
    line_number,
    parse_dates,
    parse_numbers,
)
from lstm_forecast.data.quality import quality_report  # noqa: F401 (benchmarks import it from here)
from lstm_forecast.errors import DataError
from lstm_forecast.files.names import as_path

# The bundled S&P 500 series (see data/README.md), used when no --data is given.
BUNDLED_DATA = Path(__file__).resolve().parents[2] / "data" / "sp500.csv"
CONFLICT_MARKER = re.compile(r"^(<{7}|={7}|>{7})( |$)")


@dataclass(frozen=True)
class PriceSeries:
    """One validated column of prices, indexed by date, oldest first."""

    values: pd.Series  # float64, DatetimeIndex named "date", name = target column as in the file
    source: str  # the file it came from
    rows_read: int  # data rows in the file (blank lines not counted)
    rows_missing: int  # rows dropped: date or a value empty or a marker ("null", ".", "NA", "-")
    rows_duplicate: int  # rows dropped for a repeated date (the last one is kept)
    newest_first: bool  # the file was sorted newest first (we sort it oldest first)
    # further columns asked for (model features), float64, same index; no columns if none
    extra: pd.DataFrame | None = None
    unordered: bool = False  # the file's rows were in no date order (we sort them oldest first)
    asked: str = ""  # the target as asked for (--target close finds the file's "Close")

    @property
    def frame(self) -> pd.DataFrame:
        """The target (first column) and the extra columns by date."""
        frame = self.values.to_frame()
        return frame if self.extra is None else frame.join(self.extra)

    def describe(self) -> str:
        """One line for the user: what was read and what was dropped or reordered."""
        notes = []
        if self.rows_missing:
            notes.append(f"dropped {self.rows_missing} rows with an empty date or value")
        if self.rows_duplicate:
            notes.append(f"dropped {self.rows_duplicate} rows with a repeated date (kept the last)")
        if self.newest_first:
            notes.append("file was newest first: sorted oldest first")
        if self.unordered:
            notes.append("rows were not in date order: sorted oldest first")
        if self.asked and self.asked != self.values.name:
            notes.insert(0, f"target column {self.values.name!r} (asked for {self.asked!r})")
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


def csv_options(data_config) -> dict:
    """load_prices keyword arguments from a config's [data] table."""
    return {
        "target": data_config.target,
        "date_column": data_config.date_column,
        "sep": data_config.sep,
        "decimal": data_config.decimal,
        "columns": feature_columns(data_config),
        # the Close beside an Open target: the previous-close baseline and residual base
        "optional": ("Close",) if data_config.target.strip().lower() == "open" else (),
        "dayfirst": {"dayfirst": True, "monthfirst": False}.get(data_config.date_order),
    }


def feature_columns(data_config) -> tuple[str, ...]:
    """CSV columns the [data] features read, besides the target."""
    from lstm_forecast.data.features import source_columns

    columns = source_columns(data_config.parsed_features)
    return tuple(c for c in columns if c.strip().lower() != data_config.target.strip().lower())


def load_prices(
    path: str | Path,
    target: str,
    date_column: str = "",
    sep: str = "",
    decimal: str = "",
    columns: tuple[str, ...] = (),
    dayfirst: bool | None = None,
    optional: tuple[str, ...] = (),
) -> PriceSeries:
    """Read `target` (and `columns`, for features) from the CSV at `path`, indexed by date.

    `sep` and `decimal` are detected when empty (the decimal mark per column, from all its
    values). `dayfirst` decides dd/mm/yyyy (True) or mm/dd/yyyy (False) dates; None decides from
    the file and refuses a file that cannot tell. `optional` columns (the Close, for the
    previous-close baseline) are read like `columns` when the file has them. Times of day and UTC offsets are kept. Rows whose
    date, target or any of `columns` is empty or a missing marker ("null", ".", "NA", "N/A",
    "#N/A", "-") are dropped and counted; repeated dates keep the last row. Anything else that is
    not a date or a finite number raises DataError naming the file, line, column and value.
    """
    path = as_path(path, "the prices' path")
    frame, date_name, names, sep = _read_table(path, sep, target, date_column, columns, optional)
    target_name = names[0]
    # an optional column that holds nothing (an empty Close) is absent, not a reason to drop
    # every row; a feature's empty column is refused below
    wanted = {find_column(frame.columns, path, name, "feature") for name in columns}  # as named
    names = tuple(
        name for name in names if name == target_name or name in wanted or frame[name].notna().any()
    )
    if decimal:
        check_declared_mark(frame, names, path, decimal)
        marks = dict.fromkeys(names, decimal)
    else:
        others = tuple(name for name in frame.columns if name not in (date_name, *names))
        marks = decimal_marks(frame, names, path, sep, others)

    raw_dates = frame[date_name]
    missing = raw_dates.isna() | frame[list(names)].isna().any(axis=1)
    dates = _dates(raw_dates[~missing], path, date_name, dayfirst, frame.columns)
    _refuse_future(dates, raw_dates[~missing], path, date_name)
    table = pd.DataFrame(
        {
            name: parse_numbers(frame[name][~missing], path, name, marks[name]).to_numpy(np.float64)
            for name in names
        },
        index=dates,
    )
    increasing, decreasing = (
        table.index.is_monotonic_increasing,
        table.index.is_monotonic_decreasing,
    )
    newest_first = len(table) > 1 and decreasing and not increasing
    table = table.sort_index(kind="stable")
    duplicate = table.index.duplicated(keep="last")
    table = table[~duplicate]
    if table.empty:
        empty = [name for name in names if frame[name].isna().all()]
        if empty and empty[0] != target_name:  # the target is there: a feature's column
            raise DataError(
                f"{path}: column {empty[0]!r} is empty, and a feature reads it beside "
                f"{target_name!r} on every row; fill it, or take that feature out of [data] features"
            )
        raise DataError(f"{path}: no row has both a date and a value in {target_name!r}")
    return PriceSeries(
        values=table[target_name],
        source=str(path),
        rows_read=len(frame),
        rows_missing=int(missing.sum()),
        rows_duplicate=int(duplicate.sum()),
        newest_first=bool(newest_first),
        extra=table[list(names[1:])] if len(names) > 1 else None,
        unordered=not (increasing or decreasing),
        asked=target.strip(),
    )


FUTURE_DAYS = 2  # a price dated later than this after today is a typo (2108 for 2018)


def _refuse_future(dates: pd.DatetimeIndex, raw: pd.Series, path: Path, column: str) -> None:
    """Prices are history: a date days past today is a typo, which would otherwise sort to the
    end of the series, leave a gap of decades and become the test span."""
    if dates.empty:
        return
    latest = int(dates.argmax())
    now = pd.Timestamp.now(tz=dates.tz)
    if dates[latest] > now + pd.Timedelta(days=FUTURE_DAYS):
        label = raw.index[latest]
        raise DataError(
            f"{path}: line {line_number(label)}, column {column!r}: {raw[label]!r} is after today "
            f"({now.date()}); prices are history: fix the date (a typo in the year?)"
        )


def _dates(
    raw: pd.Series, path: Path, column: str, dayfirst: bool | None, columns: pd.Index
) -> pd.DatetimeIndex:
    """The parsed date column; an unnamed first column taken for want of a named one must hold
    dates (pandas writes a DatetimeIndex that way), else there is no date column."""
    try:
        return parse_dates(raw, path, column, dayfirst).rename("date")
    except DataError as e:
        if column != UNNAMED_FIRST_COLUMN:
            raise
        raise DataError(
            f"{path}: no date column found among {', '.join(map(repr, columns))} (the unnamed "
            f"first column holds {raw.iloc[0]!r}, not a date); name it with [data] date_column"
        ) from e


def _read_text(path: Path) -> str:
    if not path.exists():
        raise DataError(f"{path}: file not found; check the path given to --data/--test")
    if path.is_dir():
        raise DataError(f"{path}: is a directory, not a CSV file")
    if not path.is_file():
        raise DataError(f"{path}: is not a regular file (a device or a pipe); give a CSV file")
    raw = path.read_bytes()
    if b"\x00" in raw[:65536]:
        raise DataError(f"{path}: is a binary file, not a CSV; export the prices as CSV text")
    try:
        text = raw.decode("utf-8-sig")  # tolerates a byte-order mark
    except UnicodeDecodeError as e:
        raise DataError(
            f"{path}: not UTF-8 text (byte {e.start}); save the file as UTF-8 CSV"
        ) from e
    if not text.strip():
        raise DataError(f"{path}: file is empty; expected a CSV with a header row")
    for number, line in enumerate(text.splitlines(), start=1):
        if CONFLICT_MARKER.match(line):
            raise DataError(
                f"{path}: line {number}: {line.strip()[:30]!r} is a merge-conflict marker; "
                "resolve the conflict in the file"
            )
    return text


def _read_table(
    path: Path,
    sep: str,
    target: str,
    date_column: str,
    extra: tuple[str, ...] = (),
    optional: tuple[str, ...] = (),
) -> tuple[pd.DataFrame, str, tuple[str, ...], str]:
    """The CSV's rows (date, target and `extra` columns as strings, NaN for empty and missing
    markers), the date column's name, the target's and extra columns' names, and the separator."""
    text = _read_text(path)
    lines = text.splitlines()
    preamble = 0  # lines before the header: Excel's "sep=;" line, then "#" comment lines
    excel = EXCEL_SEP_LINE.fullmatch(lines[0].strip())
    if excel:
        sep, preamble = sep or excel.group(1), 1
    while preamble < len(lines) and lines[preamble].lstrip().startswith("#"):
        preamble += 1
    if preamble == len(lines):
        raise DataError(f"{path}: no header line after the comment lines; add one (Date,Open,...)")
    header = lines[preamble]
    if not sep:  # the header's most frequent candidate separator
        sep = max((",", ";", "\t", "|"), key=header.count)
    options = {"sep": sep, "index_col": False, "skipinitialspace": True}
    # column names exactly as pandas reads them (it names empty ones "Unnamed: N")
    names = pd.read_csv(io.StringIO(header + "\n"), **options).columns
    columns = pd.Index([str(name).strip() for name in names])
    date_index = columns.get_loc(find_date_column(columns, path, date_column))
    target_index = columns.get_loc(find_column(columns, path, target, "target"))
    extra_indexes = [columns.get_loc(find_column(columns, path, name, "feature")) for name in extra]
    for name in optional:
        try:
            extra_indexes.append(columns.get_loc(find_column(columns, path, name, "feature")))
        except DataError:
            pass  # optional: the file has no such column
    used = [date_index, target_index, *extra_indexes]
    refuse_repeated_names(header, sep, path, preamble, [columns[index] for index in used])
    try:
        with warnings.catch_warnings():
            # more fields in a row than in the header: pandas would drop them with a warning
            warnings.simplefilter("error", pd.errors.ParserWarning)
            frame = pd.read_csv(
                io.StringIO(text),
                skiprows=preamble,
                # strings: a column's decimal mark is decided from its text (and, when that
                # cannot tell, from the file's other columns)
                dtype=str,
                skip_blank_lines=False,
                **options,
            )
    except (pd.errors.ParserError, pd.errors.ParserWarning) as e:
        raise DataError(
            f"{path}: not a readable CSV with separator {sep!r}: {str(e).strip()}; "
            "check that every row has as many fields as the header (or set --sep)"
        ) from e
    frame.index += preamble  # labels count data lines from the file's first line on
    frame = frame.dropna(how="all")  # blank lines; the index keeps each row's line number
    if frame.empty:
        raise DataError(f"{path}: has a header but no data rows")
    frame.columns = columns
    for index in used:
        frame[columns[index]] = blank_missing(frame[columns[index]])
    value_names = tuple(dict.fromkeys(columns[index] for index in used[1:]))
    return frame, columns[date_index], value_names, sep


EXCEL_SEP_LINE = re.compile(r'"?sep=(.)"?')  # Excel's first line naming the separator
