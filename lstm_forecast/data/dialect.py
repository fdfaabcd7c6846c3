"""How the values in a price CSV are written: missing markers, date order, time zones, decimal marks.

Each choice is made once per column from all of its values, never row by row, so a file is never
read half one way and half the other. Where the values cannot tell (dates like 02/01/2024 only,
numbers like 2,003 only), the loader refuses with one line naming the setting that decides.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from lstm_forecast.errors import DataError

HEADER_LINES = 1  # line numbers in messages count the header as line 1
# Written for "no value" by Yahoo (null), FRED ("."), spreadsheets (#N/A, NA, N/A) and people (-).
# Compared with the whole stripped field, so "-1.5" stays a number. Case-insensitive.
MISSING_MARKERS = frozenset({"", ".", "-", "na", "n/a", "#n/a", "null", "nan", "none"})
CURRENCY_AND_SPACES = re.compile(r"[$€£¥ \u00a0\u202f]")  # spaces group thousands; a tab does not
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")  # at the start of a value: nothing to rewrite
# 2024-01-31, 2024/1/31, 2024.01.31, then anything (a time, a UTC offset)
YEAR_FIRST = re.compile(r"^(?P<year>\d{4})[-/.](?P<a>\d{1,2})[-/.](?P<b>\d{1,2})(?P<rest>.*)$")
# 31/01/2024 or 01/31/2024 (or 2-digit years), then anything
YEAR_LAST = re.compile(r"^(?P<a>\d{1,2})([-/.])(?P<b>\d{1,2})\2(?P<year>\d{4}|\d{2})(?P<rest>.*)$")
UTC_OFFSET = re.compile(r"\d:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?P<offset>Z|[+-]\d{2}(?::?\d{2})?)$")
TWO_DIGIT_YEAR_PIVOT = 69  # like strptime's %y: 69..99 -> 1900s, 00..68 -> 2000s
# Numbers by what their marks prove (after currency signs and spaces are removed):
GROUPED = r"[-+]?[1-9]\d{0,2}"  # the leading group of a number with thousands separators
EXPONENT = r"([eE][-+]?\d+)?"
# 1,234.5 / 1,234,567 / 1.5 / 0.123 / 1.5e-05 (but not 2.003, which ONE_DOT_GROUP leaves open)
DOT_DECIMAL = re.compile(
    rf"^({GROUPED}(,\d{{3}})+\.\d+|{GROUPED}(,\d{{3}}){{2,}}|[-+]?\d*\.\d+{EXPONENT})$"
)
# 1.234,5 / 1.234.567 / 1001,89 / 0,5 (but not 2,003, which ONE_COMMA_GROUP leaves open)
COMMA_DECIMAL = re.compile(
    rf"^({GROUPED}(\.\d{{3}})+,\d+|{GROUPED}(\.\d{{3}}){{2,}}|[-+]?\d*,\d+)$"
)
ONE_COMMA_GROUP = re.compile(rf"^{GROUPED},\d{{3}}$")  # 2,003: 2003 or 2.003
ONE_DOT_GROUP = re.compile(rf"^{GROUPED}\.\d{{3}}$")  # 2.003: 2.003 or 2003


def line_number(row_label: int) -> int:
    """The file line of a row read with skip_blank_lines=False (its label counts from 0)."""
    return row_label + 1 + HEADER_LINES


def blank_missing(raw: pd.Series) -> pd.Series:
    """`raw` (strings) with the missing markers ("", ".", "-", "NA", "null", ...) as NaN."""
    return raw.mask(raw.str.strip().str.lower().isin(MISSING_MARKERS))


# ---- dates --------------------------------------------------------------------------------------


def parse_dates(
    raw: pd.Series, path: Path, column: str, dayfirst: bool | None = None
) -> pd.DatetimeIndex:
    """Dates (and times) from the strings `raw`, indexed by row label (no missing values).

    ISO dates (2024-01-31) and other year-first dates are unambiguous. For dd/mm/yyyy versus
    mm/dd/yyyy the whole column decides: a first field above 12 means day first, a second field
    above 12 month first; a column with neither needs `dayfirst`, one with both is refused.
    Times of day are kept. UTC offsets: when every value has the same offset the index keeps it
    (a fixed-offset zone); when they differ (daylight saving time) the index is in UTC. Values
    with and without an offset in one column are refused.
    """
    text = raw.str.strip()
    other = ~text.str.match(ISO_DATE)  # only these need rewriting (ISO files: none, fast)
    iso = text.copy()
    iso[other] = _year_first_as_iso(text[other])
    day_month = text[other].str.extract(YEAR_LAST)
    numeric = day_month["a"].notna().reindex(text.index, fill_value=False)
    if numeric.any():
        day_month = day_month[numeric[other]]
        day_is_first = _day_order(text, day_month, path, column, dayfirst)
        iso[numeric] = _day_month_as_iso(day_month, day_is_first)
    offset_texts = _offset_texts(text)
    offsets = offset_texts.notna()
    if offsets.any() and not offsets.all():
        with_offset, without = offsets.idxmax(), (~offsets).idxmax()
        raise DataError(
            f"{path}: column {column!r}: line {line_number(with_offset)} "
            f"{raw[with_offset]!r} has a UTC offset and line {line_number(without)} "
            f"{raw[without]!r} has none; give every time an offset or none"
        )
    parsed = _to_datetime(iso, utc=bool(offsets.any()))
    _refuse_unparsed(parsed, raw, path, column)
    index = pd.DatetimeIndex(parsed)
    if offsets.any() and offset_texts.nunique() == 1:
        index = index.tz_convert(pd.Timestamp(iso.iloc[0]).tz)  # one offset throughout: keep it
    return index


def _offset_texts(text: pd.Series) -> pd.Series:
    """Each value's UTC offset written one way (Z as +0000, +01 and +01:00 as +0100); NaN for
    values without one."""
    offset = text.str.extract(UTC_OFFSET)["offset"].str.replace(":", "").replace("Z", "+0000")
    return offset.str.pad(5, side="right", fillchar="0")


def _year_first_as_iso(text: pd.Series) -> pd.Series:
    """2024/1/31 and 2024.01.31 as 2024-01-31 (anything after the date kept); other values as is."""
    parts = text.str.extract(YEAR_FIRST)
    iso = parts["year"] + "-" + parts["a"].str.zfill(2) + "-" + parts["b"].str.zfill(2)
    return (iso + parts["rest"]).where(parts["year"].notna(), text)


def _day_month_as_iso(parts: pd.DataFrame, day_is_first: bool) -> pd.Series:
    day, month = (parts["a"], parts["b"]) if day_is_first else (parts["b"], parts["a"])
    year = parts["year"].where(parts["year"].str.len() == 4, _century(parts["year"]))
    return year + "-" + month.str.zfill(2) + "-" + day.str.zfill(2) + parts["rest"]


def _century(two_digits: pd.Series) -> pd.Series:
    short = pd.to_numeric(two_digits, errors="coerce").fillna(0).astype(int)
    return (short + np.where(short >= TWO_DIGIT_YEAR_PIVOT, 1900, 2000)).astype(str)


def _day_order(
    text: pd.Series, parts: pd.DataFrame, path: Path, column: str, dayfirst: bool | None
) -> bool:
    """Whether dd/mm (True) or mm/dd (False): from `dayfirst` when given, else from the `parts`
    (YEAR_LAST's groups) of all the column's d/m/y values."""
    first, second = pd.to_numeric(parts["a"]), pd.to_numeric(parts["b"])
    day_first_rows, month_first_rows = first.index[first > 12], second.index[second > 12]
    if dayfirst is not None:
        against = month_first_rows if dayfirst else day_first_rows
        if len(against):
            row = against[0]
            raise DataError(
                f"{path}: line {line_number(row)}, column {column!r}: {text[row]!r} is not a date "
                f"with the {'day' if dayfirst else 'month'} first ([data] date_order = "
                f'"{"dayfirst" if dayfirst else "monthfirst"}"); fix the row or change date_order'
            )
        return dayfirst
    if len(day_first_rows) and len(month_first_rows):
        day_row, month_row = day_first_rows[0], month_first_rows[0]
        raise DataError(
            f"{path}: column {column!r}: line {line_number(day_row)} {text[day_row]!r} has the "
            f"day first but line {line_number(month_row)} {text[month_row]!r} has the month "
            "first; a file must use one order: fix the file"
        )
    if not len(day_first_rows) and not len(month_first_rows):
        row = first.index[0]
        raise DataError(
            f"{path}: column {column!r}: dates like {text[row]!r} (line {line_number(row)}) can "
            "be day/month or month/day and no value in the file is above 12 to tell; set "
            '[data] date_order = "dayfirst" or "monthfirst" (--set data.date_order=dayfirst)'
        )
    return bool(len(day_first_rows))


def _to_datetime(iso: pd.Series, utc: bool) -> pd.Series:
    """Parse with one ISO 8601 pass (fast); only values it misses are tried one by one (month
    names, single-digit hours)."""
    parsed = pd.to_datetime(iso, errors="coerce", format="ISO8601", utc=utc)
    if parsed.isna().any():
        missed = parsed.isna()
        retried = pd.to_datetime(iso[missed], errors="coerce", format="mixed", utc=utc)
        parsed = parsed.where(~missed, retried)
    return parsed


def _refuse_unparsed(parsed: pd.Series, raw: pd.Series, path: Path, column: str) -> None:
    bad = parsed.isna()
    if bad.any():
        row = bad.idxmax()
        raise DataError(
            f"{path}: line {line_number(row)}, column {column!r}: {raw[row]!r} is not a date; "
            "use ISO dates (2017-01-31), d/m/yyyy or m/d/yyyy"
        )


# ---- numbers ------------------------------------------------------------------------------------


def decimal_marks(
    frame: pd.DataFrame,
    names: tuple[str, ...],
    path: Path,
    sep: str,
    others: tuple[str, ...] = (),
) -> dict[str, str]:
    """The decimal mark ("." or ",") of each column in `names`, decided from all its values.

    1,234.5 or 1.5 prove "."; 1.234,5 or 1001,89 (a comma not followed by exactly three digits)
    prove ","; a column with both is refused. Columns whose values cannot tell (2,003 only) take
    the mark the other columns of `names`, then those of `others`, prove; if none does, 2,003 is
    2003 in a ','-separated file (a decimal comma there would need quotes on every value) and
    refused in any other file.
    """
    cleaned = {name: _cleaned(frame[name].dropna()) for name in names}
    marks = {name: _proven_mark(values, path, name) for name, values in cleaned.items()}
    file_mark = ""
    for name, values in cleaned.items():
        if marks[name]:
            continue
        ambiguous = values[values.str.fullmatch(ONE_COMMA_GROUP)]
        file_mark = file_mark or _file_mark(frame, marks, others, path)
        if file_mark or ambiguous.empty or sep == ",":
            marks[name] = file_mark or "."
            continue
        row = ambiguous.index[0]
        raise DataError(
            f"{path}: line {line_number(row)}, column {name!r}: {frame[name][row]!r} can be "
            "read with ',' as thousands or as the decimal mark and no value in the file tells; "
            'set [data] decimal = "." (1,234 is 1234) or "," (1,5 is 1.5)'
        )
    return marks


def check_declared_mark(frame: pd.DataFrame, names: tuple[str, ...], path: Path, decimal: str):
    """Refuse a value that proves the other mark than the declared `decimal` ([data] decimal,
    --decimal): 2567.560059 under decimal = "," would otherwise read as 2567560059."""
    other, ambiguous = (
        (DOT_DECIMAL, ONE_DOT_GROUP) if decimal == "," else (COMMA_DECIMAL, ONE_COMMA_GROUP)
    )
    for name in names:
        values = _cleaned(frame[name].dropna())
        contrary = values.str.fullmatch(other) & ~values.str.fullmatch(ambiguous)
        if contrary.any():
            row = contrary.idxmax()
            mark = "." if decimal == "," else ","
            raise DataError(
                f"{path}: line {line_number(row)}, column {name!r}: {frame[name][row]!r} has "
                f"{mark!r} as the decimal mark, but the decimal mark was set to {decimal!r}; "
                f"leave out --decimal ([data] decimal) to detect it, or give {mark!r}"
            )


def _file_mark(frame: pd.DataFrame, marks: dict[str, str], others: tuple[str, ...], path) -> str:
    """The one mark the decided columns prove, else the one `others` prove, else ""."""
    proven = set(marks.values()) - {""}
    if not proven:  # read the other columns only when needed (a large file has many values)
        proven = {_other_mark(frame[name], path, name) for name in others} - {""}
    return proven.pop() if len(proven) == 1 else ""


def _other_mark(raw: pd.Series, path: Path, column: str) -> str:
    """A column the loader does not use proves a mark, or nothing (if it proves both)."""
    try:
        return _proven_mark(_cleaned(raw.dropna()), path, column)
    except DataError:
        return ""


def _cleaned(raw: pd.Series) -> pd.Series:
    return raw.str.replace(CURRENCY_AND_SPACES, "", regex=True)


def _proven_mark(values: pd.Series, path: Path, column: str) -> str:
    """The mark some value proves ("." or ","), or "" if none does; refuses a column proving both."""
    dot = values.str.fullmatch(DOT_DECIMAL) & ~values.str.fullmatch(ONE_DOT_GROUP)
    comma = values.str.fullmatch(COMMA_DECIMAL) & ~values.str.fullmatch(ONE_COMMA_GROUP)
    if dot.any() and comma.any():
        dot_row, comma_row = dot.idxmax(), comma.idxmax()
        raise DataError(
            f"{path}: column {column!r}: line {line_number(dot_row)} {values[dot_row]!r} has '.' "
            f"as the decimal mark but line {line_number(comma_row)} {values[comma_row]!r} has ','; "
            "a column must use one: fix the file"
        )
    return "." if dot.any() else "," if comma.any() else ""


def parse_numbers(raw: pd.Series, path: Path, column: str, decimal: str) -> pd.Series:
    """Floats from the strings `raw` (no missing values) with `decimal` as the decimal mark;
    the other mark is a thousands separator, currency signs and spaces are ignored."""
    if decimal == ".":  # plain numbers convert at once; only the rest need cleaning
        parsed = pd.to_numeric(raw, errors="coerce")
        if not parsed.isna().any():
            return _check_finite(parsed, raw, path, column)
    thousands = "," if decimal == "." else "."
    text = _cleaned(raw).str.replace(thousands, "", regex=False)
    if decimal != ".":  # 1.155,55 -> 1155,55 -> 1155.55
        text = text.str.replace(decimal, ".", regex=False)
    return _check_finite(pd.to_numeric(text, errors="coerce"), raw, path, column)


def _check_finite(parsed: pd.Series, raw: pd.Series, path: Path, column: str) -> pd.Series:
    bad = parsed.isna() | ~np.isfinite(parsed)
    if bad.any():
        row = bad.idxmax()
        raise DataError(
            f"{path}: line {line_number(row)}, column {column!r}: {raw[row]!r} is not a finite "
            "number; fix or delete that row"
        )
    return parsed
