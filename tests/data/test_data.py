"""The loader on one file per real-world format and one per failure, written by the tests."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import FIXTURES, random_walk, write_reference_style

from lstm_forecast.data.quality import quality_report, report_lines
from lstm_forecast.data.read import load_prices
from lstm_forecast.errors import DataError

# Every format below holds these prices (oldest first) on business days from 2020-01-13: days
# above 12 let m/d/yyyy files show their order (1/13/2020); see test_ambiguous_day_month_*.
OPENS = [1155.55, 1160.25, 1149.0, 1171.5, 1180.75]
DATES = pd.bdate_range("2020-01-13", periods=len(OPENS))
ROWS = list(zip(DATES, OPENS, strict=True))


def us(date):
    return f"{date.month}/{date.day}/{date.year}"


def yahoo():
    rows = [f"{d:%Y-%m-%d},{o},{o + 5},{o - 5},{o + 1},{o + 1},1000" for d, o in ROWS]
    rows.insert(2, f"{DATES[1]:%Y-%m-%d},null,null,null,null,null,null")  # Yahoo's null rows
    return "Date,Open,High,Low,Close,Adj Close,Volume\n" + "\n".join(rows) + "\n"


def reference():
    rows = [f'{us(d)},"{o:,.2f}",1,1,1,"7,380,500"' for d, o in ROWS]
    return "\r\n".join(["Date,Open,High,Low,Close,Volume", *rows]) + "\r\n"


def pandas_index():
    rows = [f"{i},{d:%Y-%m-%d},{o}" for i, (d, o) in enumerate(ROWS)]
    return ",Date,Open\n" + "\n".join(rows) + "\n"


def trailing_empty_columns():
    rows = [f"{d:%Y-%m-%d},{o},," for d, o in ROWS]
    return "Date,Open,,\n" + "\n".join(rows) + "\n\n"


def newest_first():
    rows = [f"{d:%Y-%m-%d},{o}" for d, o in ROWS]
    return "Date,Open\n" + "\n".join(reversed(rows)) + "\n"


def nasdaq():
    rows = [f"{d:%m/%d/%Y},${o + 1:.2f},1000,${o:.2f},${o + 5:.2f},${o - 5:.2f}" for d, o in ROWS]
    return "Date,Close/Last,Volume,Open,High,Low\n" + "\n".join(reversed(rows)) + "\n"


def european():
    def de(x):
        return f"{x:,.2f}".replace(",", "X").replace(".", ",").replace("X", ".")

    rows = [f"{d:%Y-%m-%d};{de(o)};{de(o + 1)}" for d, o in ROWS]
    return "Date;Open;Close\n" + "\n".join(rows) + "\n"


def with_missing_and_duplicates():
    rows = [f"{d:%Y-%m-%d},{o}" for d, o in ROWS]
    rows.insert(1, f"{DATES[1]:%Y-%m-%d},999")  # replaced by the later row of the same date
    rows.insert(3, f"{DATES[2]:%Y-%m-%d},")  # empty value: dropped
    return "Date,Open\n" + "\n".join(rows) + "\n"


# One file per failure the loader must refuse: (content, part of the message); None = no file.
BAD_FILES = [
    (None, "file not found"),
    ("", "file is empty"),
    ("Date,Open\n", "has a header but no data rows"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe binary", "is a binary file, not a CSV"),
    (b"Date,Open\n2020-01-01,\xe9\xff\n", "not UTF-8 text (byte 21)"),
    ("Date,Close\n2020-01-01,1\n", "no target column 'Open'; columns are 'Date', 'Close'"),
    ("Day,Open\n2020-01-01,1\n", "no date column found among 'Day', 'Open'"),
    (
        "Date,Open\n2020-01-01,1\n2020-13-45,2\n",
        "line 3, column 'Date': '2020-13-45' is not a date",
    ),
    (
        "Date,Open\n2020-01-01,1\n\n2020-01-03,abc\n",
        "line 4, column 'Open': 'abc' is not a finite number",
    ),
    ("Date,Open\n2020-01-01,inf\n", "line 2, column 'Open': 'inf' is not a finite number"),
    (
        "Date,Open\n2020-01-01,1\n<<<<<<< HEAD\n2020-01-02,2\n",
        "line 3: '<<<<<<< HEAD' is a merge-conflict marker",
    ),
    ("Date,Open\n2020-01-01,1,7,8\n", "not a readable CSV with separator ','"),
]
BAD_FILE_IDS = [
    "missing",
    "empty",
    "header-only",
    "binary",
    "not-utf8",
    "no-target",
    "no-date-column",
    "bad-date",
    "bad-number",
    "infinite",
    "conflict-marker",
    "ragged-row",
]


@pytest.mark.parametrize(
    ("make", "target", "missing", "duplicate", "is_newest_first"),
    [
        (yahoo, "Open", 1, 0, False),
        (reference, "Open", 0, 0, False),
        (pandas_index, "open", 0, 0, False),
        (trailing_empty_columns, "Open", 0, 0, False),
        (newest_first, "Open", 0, 0, True),
        (nasdaq, "Open", 0, 0, True),
        (european, "Open", 0, 0, False),
        (with_missing_and_duplicates, "Open", 1, 1, False),
    ],
    ids=lambda value: getattr(value, "__name__", None),
)
def test_formats_load_to_the_same_prices(
    tmp_path, make, target, missing, duplicate, is_newest_first
):
    path = tmp_path / f"{make.__name__}.csv"
    path.write_bytes(make().encode())
    series = load_prices(path, target)
    np.testing.assert_allclose(series.values.to_numpy(), OPENS)
    assert list(series.values.index) == list(DATES)
    assert (series.rows_missing, series.rows_duplicate) == (missing, duplicate)
    assert series.newest_first == is_newest_first


def test_rows_in_no_date_order_are_sorted_and_said_to_be(tmp_path):
    rows = [f"{d:%Y-%m-%d},{o}" for d, o in ROWS]
    path = tmp_path / "shuffled.csv"
    path.write_text("Date,Open\n" + "\n".join([rows[2], *rows[:2], *rows[3:]]) + "\n")
    series = load_prices(path, "Open")
    np.testing.assert_allclose(series.values.to_numpy(), OPENS)
    assert series.unordered and not series.newest_first
    assert "rows were not in date order: sorted oldest first" in series.describe()
    assert not load_prices_text(tmp_path, newest_first()).unordered


def load_prices_text(tmp_path, text: str):
    path = tmp_path / "prices.csv"
    path.write_text(text)
    return load_prices(path, "Open")


def test_nasdaq_close_last_is_found_as_close(tmp_path):
    path = tmp_path / "nasdaq.csv"
    path.write_text(nasdaq())
    series = load_prices(path, "Close")
    assert series.values.name == "Close/Last"
    np.testing.assert_allclose(series.values.to_numpy(), np.array(OPENS) + 1)


def test_separator_and_decimal_can_be_given(tmp_path):
    path = tmp_path / "pipes.csv"
    path.write_text("Date|Open\n2020-01-01|1,5\n2020-01-02|2,25\n")
    series = load_prices(path, "Open", sep="|", decimal=",")
    assert series.values.tolist() == [1.5, 2.25]


def test_reference_style_round_trip(tmp_path):
    frame = random_walk(30)
    series = load_prices(write_reference_style(frame, tmp_path / "ref.csv"), "Volume")
    np.testing.assert_allclose(series.values.to_numpy(), frame["Volume"].to_numpy())


def test_extra_columns_load_beside_the_target(tmp_path):
    frame = random_walk(30)
    path = write_reference_style(frame, tmp_path / "ref.csv")
    series = load_prices(path, "Open", columns=("volume", "Close"))  # any case, any order
    assert list(series.frame.columns) == ["Open", "Volume", "Close"]
    np.testing.assert_allclose(series.frame["Volume"], frame["Volume"])
    np.testing.assert_allclose(series.frame["Close"], frame["Close"])


def test_a_row_missing_a_feature_value_is_dropped_and_counted(tmp_path):
    path = tmp_path / "gaps.csv"
    path.write_text("Date,Open,Volume\n2020-01-01,1,10\n2020-01-02,2,\n2020-01-03,3,30\n")
    assert load_prices(path, "Open").rows_missing == 0  # Volume not asked for: row kept
    series = load_prices(path, "Open", columns=("Volume",))
    assert series.rows_missing == 1 and series.values.tolist() == [1.0, 3.0]


def test_an_empty_optional_close_is_absent_and_an_empty_feature_column_is_named(tmp_path):
    path = tmp_path / "prices.csv"
    path.write_text("Date,Open,Close,Volume\n2020-01-01,1,,\n2020-01-02,2,,\n")
    series = load_prices(path, "Open", optional=("Close",))  # the previous-close baseline's
    assert series.values.tolist() == [1.0, 2.0] and series.extra is None
    with pytest.raises(DataError, match="column 'Volume' is empty, and a feature reads it"):
        load_prices(path, "Open", columns=("Volume",), optional=("Close",))
    with pytest.raises(DataError, match="no row has both a date and a value in 'Close'"):
        load_prices(path, "Close")
    nasdaq = tmp_path / "nasdaq.csv"  # a feature's column found under Nasdaq's name, empty
    nasdaq.write_text("Date,Open,Close/Last\n2020-01-01,1,\n2020-01-02,2,\n")
    with pytest.raises(DataError, match="column 'Close/Last' is empty, and a feature reads it"):
        load_prices(nasdaq, "Open", columns=("Close",), optional=("Close",))


def test_a_missing_feature_column_names_the_columns_and_the_setting(tmp_path):
    path = tmp_path / "prices.csv"
    path.write_text("Date,Open\n2020-01-01,1\n")
    with pytest.raises(DataError, match="no feature column 'Volume'; columns are 'Date', 'Open'"):
        load_prices(path, "Open", columns=("Volume",))


@pytest.mark.parametrize(("content", "message"), BAD_FILES, ids=BAD_FILE_IDS)
def test_bad_files_raise_one_clear_error(tmp_path, content, message):
    path = tmp_path / "bad.csv"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content)
    with pytest.raises(DataError) as error:
        load_prices(path, "Open")
    assert message in str(error.value)
    assert str(error.value).startswith(str(path))
    assert "\n" not in str(error.value)


def test_directory_is_not_a_csv(tmp_path):
    with pytest.raises(DataError, match="is a directory"):
        load_prices(tmp_path, "Open")
    with pytest.raises(DataError, match="/dev/null: is not a regular file"):
        load_prices(Path("/dev/null"), "Open")


def test_quality_report_shows_gaps_and_split_like_moves(tmp_path):
    dates = list(pd.bdate_range("2020-01-01", periods=10))
    dates[6:] = [d + pd.Timedelta(days=14) for d in dates[6:]]  # a two-week hole
    prices = [100, 101, 102, 103, 104, 105, 52.5, 53, 54, 55]  # a 2-for-1 split on day 7
    path = tmp_path / "split.csv"
    pd.DataFrame({"Date": dates, "Close": prices}).to_csv(path, index=False)
    report = quality_report(load_prices(path, "Close"))
    assert report["rows_used"] == 10
    assert report["long_gaps"] == [{"after": "2020-01-08", "until": "2020-01-23", "days": 15}]
    top = report["largest_moves"][0]
    assert (
        top["date"] == "2020-01-23" and top["change"] == pytest.approx(-0.5) and top["suspicious"]
    )
    assert not any(move["suspicious"] for move in report["largest_moves"][1:])
    text = "\n".join(report_lines(report))
    assert "2020-01-23 -50.0 %  <- looks like a stock split or a data error" in text
    short = report_lines(report, short=True)
    assert short[0].startswith("warning: 2020-01-23 -50.0 %")
    assert "1 gaps longer than 4 days" in short[-1]


def test_a_price_typo_of_1e300_is_shown_readably(tmp_path):
    path = tmp_path / "typo.csv"
    prices = [100.0, 101.0, 1e300, 102.0, 103.0]
    pd.DataFrame({"Date": pd.bdate_range("2020-01-01", periods=5), "Close": prices}).to_csv(
        path, index=False
    )
    text = report_lines(quality_report(load_prices(path, "Close")))
    assert "prices 100.000 .. 1e+300, last 103.000" in text
    assert "  2020-01-03 x9.9e+297  <- looks like a stock split or a data error" in text


# ---- golden files in tests/fixtures/: one per format, the values and dates they must load to --------

GOLDEN = FIXTURES

# (file, target, load_prices options, dates as str(Timestamp), target values, rows dropped)
GOLDEN_FILES = [
    (
        "fred.csv",
        "DEXUSEU",
        {},
        ["2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05", "2024-01-08", "2024-01-16"],
        [1.0956, 1.0919, 1.0953, 1.0921, 1.0946, 1.0882],
        2,
    ),
    (
        "unnamed_index.csv",
        "Close",
        {},
        ["2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05"],
        [185.64, 184.25, 181.91, 181.18],
        0,
    ),
    (
        "day_first.csv",
        "Close",
        {},
        ["2023-12-28", "2023-12-29", "2024-01-02", "2024-01-03"],
        [101.25, 100.75, 102.0, 101.5],
        0,
    ),
    (
        "month_first.csv",
        "Open",
        {},
        ["2012-01-03", "2012-01-04", "2012-01-05", "2012-01-13"],
        [1258.86, 1277.03, 1277.30, 1294.82],
        0,
    ),
    (
        "ambiguous_dates.csv",
        "Close",
        {"dayfirst": True},
        ["2024-01-02", "2024-01-03", "2024-01-04"],
        [10.5, 10.75, 10.25],
        0,
    ),
    (
        "ambiguous_dates.csv",
        "Close",
        {"dayfirst": False},
        ["2024-02-01", "2024-03-01", "2024-04-01"],
        [10.5, 10.75, 10.25],
        0,
    ),
    (
        "quoted_decimal_comma.csv",
        "Close",
        {},
        ["2024-01-02", "2024-01-03", "2024-01-04"],
        [1001.89, 1002.10, 998.05],
        0,
    ),
    (
        "semicolon_thousands.csv",
        "Open",  # 2,003 alone cannot tell; the file's other columns (2,010.5) show ',' groups
        {},
        ["2024-01-02", "2024-01-03", "2024-01-04"],
        [2003.0, 2010.0, 1998.0],
        0,
    ),
    (
        "semicolon_thousands.csv",
        "Close",
        {},
        ["2024-01-02", "2024-01-03", "2024-01-04"],
        [2010.5, 1998.25, 2001.0],
        0,
    ),
    (
        "semicolon_thousands_ambiguous.csv",
        "Close",
        {"decimal": "."},
        ["2024-01-02", "2024-01-03"],
        [2003.0, 2010.0],
        0,
    ),
    (
        "semicolon_thousands_ambiguous.csv",
        "Close",
        {"decimal": ","},
        ["2024-01-02", "2024-01-03"],
        [2.003, 2.010],
        0,
    ),
    (
        "missing_markers.csv",
        "Close",
        {},
        ["2020-04-16", "2020-04-17", "2020-04-20", "2020-04-21", "2020-04-28"],
        [19.87, 18.27, -37.63, 10.01, 12.34],  # "-37.63" is a number, "-" alone is missing
        4,
    ),
    (
        "hourly_offset.csv",
        "Close",
        {},
        [f"2024-01-05 {hour:02d}:00:00+01:00" for hour in range(9, 18)]
        + [f"2024-01-08 {hour:02d}:00:00+01:00" for hour in range(9, 18)],
        [16700 + 2.5 * k for k in range(1, 19)],
        0,
    ),
    (
        "hourly_dst.csv",  # -05:00 then -04:00 (daylight saving time): the index is in UTC
        "Close",
        {},
        [f"2024-03-08 {hour:02d}:30:00+00:00" for hour in range(14, 21)]
        + [f"2024-03-11 {hour:02d}:30:00+00:00" for hour in range(13, 20)],
        [170 + 0.25 * k for k in range(1, 15)],
        0,
    ),
    (
        "bars_30min.csv",
        "Close",
        {},
        [
            str(pd.Timestamp(day) + pd.Timedelta(minutes=570 + 30 * k))
            for day in ("2024-01-05", "2024-01-08")
            for k in range(13)
        ],
        [100 + 0.5 * k for k in range(1, 27)],
        0,
    ),
    (
        "crypto_daily.csv",
        "Close",
        {},
        [str(d.date()) for d in pd.date_range("2024-01-01", periods=10)],
        [42000 + 150.5 * k for k in range(10)],
        0,
    ),
    (
        "crypto_hourly.csv",
        "Close",
        {},
        [str(t) for t in pd.date_range("2024-01-06 20:00", periods=10, freq="h", tz="UTC")],
        [0.00001234 + 1e-8 * k for k in range(10)],
        0,
    ),
    (
        "monthly.csv",
        "Close",
        {},
        [str(d.date()) for d in pd.date_range("2023-01-31", periods=8, freq="ME")],
        [4000 + 25.25 * k for k in range(8)],
        0,
    ),
    (
        "weekly.csv",
        "Close",
        {},
        [str(d.date()) for d in pd.date_range("2024-01-05", periods=6, freq="W-FRI")],
        [50 + 0.75 * k for k in range(6)],
        0,
    ),
]


def stamp(timestamp: pd.Timestamp) -> str:
    """A date alone for midnight without a zone, else the full timestamp (as the lists above)."""
    plain = timestamp.tz is None and timestamp == timestamp.normalize()
    return str(timestamp.date()) if plain else str(timestamp)


@pytest.mark.parametrize(
    ("name", "target", "options", "dates", "values", "dropped"),
    GOLDEN_FILES,
    ids=[f"{row[0]}-{row[1]}-{row[2]}" for row in GOLDEN_FILES],
)
def test_golden_files_load_to_their_values_and_dates(name, target, options, dates, values, dropped):
    series = load_prices(GOLDEN / name, target, **options)
    assert [stamp(t) for t in series.values.index] == dates
    np.testing.assert_allclose(series.values.to_numpy(), values, rtol=1e-12)
    assert series.rows_missing == dropped


def test_unnamed_index_file_is_what_to_csv_writes(tmp_path):
    frame = pd.read_csv(GOLDEN / "unnamed_index.csv", index_col=0, parse_dates=True)
    path = tmp_path / "again.csv"
    frame.to_csv(path)
    assert path.read_text() == (GOLDEN / "unnamed_index.csv").read_text()
    np.testing.assert_allclose(load_prices(path, "Volume").values, frame["Volume"])


def test_every_column_of_a_file_uses_its_own_proven_decimal_mark():
    series = load_prices(GOLDEN / "semicolon_thousands.csv", "Open", columns=("Close", "Volume"))
    np.testing.assert_allclose(series.frame["Volume"], [1_250_000, 980_000, 1_100_000])
    np.testing.assert_allclose(series.frame["Close"], [2010.5, 1998.25, 2001.0])


def test_a_quoted_decimal_comma_column_leaves_the_integer_volume_alone():
    series = load_prices(GOLDEN / "quoted_decimal_comma.csv", "Close", columns=("Volume",))
    np.testing.assert_allclose(series.frame["Volume"], [1200, 1300, 900])


def test_dst_file_in_utc_and_a_single_offset_file_keeps_its_offset():
    assert str(load_prices(GOLDEN / "hourly_dst.csv", "Close").values.index.tz) == "UTC"
    offset = load_prices(GOLDEN / "hourly_offset.csv", "Close").values.index
    assert offset[0].utcoffset() == pd.Timedelta(hours=1)
    assert offset[0].hour == 9  # the local time of the bar, not shifted to UTC


# Files the loader refuses: (file, options, the exact message after "<path>: ")
GOLDEN_REFUSALS = [
    (
        "ambiguous_dates.csv",
        {},
        "column 'Date': dates like '02/01/2024' (line 2) can be day/month or month/day and no "
        'value in the file is above 12 to tell; set [data] date_order = "dayfirst" or '
        '"monthfirst" (--set data.date_order=dayfirst)',
    ),
    (
        "mixed_date_order.csv",
        {},
        "column 'Date': line 2 '13/01/2024' has the day first but line 3 '01/14/2024' has the "
        "month first; a file must use one order: fix the file",
    ),
    (
        "day_first.csv",
        {"dayfirst": False},
        "line 2, column 'Date': '28/12/2023' is not a date with the month first "
        '([data] date_order = "monthfirst"); fix the row or change date_order',
    ),
    (
        "semicolon_thousands_ambiguous.csv",
        {},
        "line 2, column 'Close': '2,003' can be read with ',' as thousands or as the decimal "
        'mark and no value in the file tells; set [data] decimal = "." (1,234 is 1234) or "," '
        "(1,5 is 1.5)",
    ),
    (
        "mixed_decimal_marks.csv",
        {},
        "column 'Close': line 2 '1,234.5' has '.' as the decimal mark but line 3 '1.234,5' has "
        "','; a column must use one: fix the file",
    ),
]


@pytest.mark.parametrize(
    ("name", "options", "message"), GOLDEN_REFUSALS, ids=[row[0] for row in GOLDEN_REFUSALS]
)
def test_golden_files_refused_with_one_exact_line(name, options, message):
    with pytest.raises(DataError) as error:
        load_prices(GOLDEN / name, "Close", **options)
    assert str(error.value) == f"{GOLDEN / name}: {message}"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            "Date,Close\n2024-01-02 09:30:00+01:00,1\n2024-01-02 10:30:00,2\n",
            "column 'Date': line 2 '2024-01-02 09:30:00+01:00' has a UTC offset and line 3 "
            "'2024-01-02 10:30:00' has none; give every time an offset or none",
        ),
        (
            ",Close\n0,1.5\n1,1.6\n",
            "no date column found among 'Unnamed: 0', 'Close' (the unnamed first column holds "
            "'0', not a date); name it with [data] date_column",
        ),
        (
            "Date,Close\n2024-01-02,1\n2024-01-03,--\n",
            "line 3, column 'Close': '--' is not a finite number; fix or delete that row",
        ),
    ],
    ids=["offset-and-none", "unnamed-integers", "double-dash"],
)
def test_more_refusals_name_the_rows(tmp_path, content, message):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    with pytest.raises(DataError) as error:
        load_prices(path, "Close")
    assert str(error.value) == f"{path}: {message}"


def test_two_digit_years_and_dotted_day_first_dates(tmp_path):
    path = tmp_path / "dotted.csv"
    path.write_text("Datum;Schluss\n30.12.99;1,5\n03.01.00;2,25\n")
    series = load_prices(path, "Schluss", date_column="Datum")
    assert [stamp(t) for t in series.values.index] == ["1999-12-30", "2000-01-03"]
    assert series.values.tolist() == [1.5, 2.25]


def test_quality_report_of_intraday_bars_keeps_their_times():
    report = quality_report(load_prices(GOLDEN / "hourly_offset.csv", "Close"))
    assert (report["first_date"], report["last_date"]) == (
        "2024-01-05 09:00:00+01:00",
        "2024-01-08 17:00:00+01:00",
    )
    assert len({move["date"] for move in report["largest_moves"]}) == 5  # one bar each
    assert "largest moves from one 1h bar to the next:" in report_lines(report)


@pytest.mark.parametrize(
    ("name", "target", "prices", "gaps"),
    [
        ("crypto_hourly.csv", "Close", "prices 0.0000123400 .. 0.0000124300", "4 days"),
        ("monthly.csv", "Close", "prices 4,000.00 .. 4,176.75, last 4,176.75", "60 days"),
        ("weekly.csv", "Close", "prices ", "14 days"),
    ],
)
def test_inspect_prints_prices_at_their_scale_and_gaps_by_the_step(name, target, prices, gaps):
    report = quality_report(load_prices(GOLDEN / name, target))
    lines = report_lines(report)
    assert lines[1].startswith(prices)
    assert f"gaps longer than {gaps}: 0" in lines  # weeks and months are not all gaps


def test_a_declared_decimal_mark_that_the_values_contradict_is_refused(tmp_path):
    path = tmp_path / "dots.csv"
    path.write_text("Date,Open\n2020-01-02,2567.560059\n2020-01-03,2570.5\n")
    with pytest.raises(DataError) as error:
        load_prices(path, "Open", decimal=",")  # would read 2567560059
    assert str(error.value) == (
        f"{path}: line 2, column 'Open': '2567.560059' has '.' as the decimal mark, but the "
        "decimal mark was set to ','; leave out --decimal ([data] decimal) to detect it, or give '.'"
    )
    path.write_text('Date,Open\n2020-01-02,"2,5"\n2020-01-03,"1.002,5"\n')
    with pytest.raises(DataError, match="'2,5' has ',' as the decimal mark"):
        load_prices(path, "Open", decimal=".")
    assert load_prices(path, "Open", decimal=",").values.tolist() == [2.5, 1002.5]


def test_a_date_after_today_is_a_typo_named_by_its_line(tmp_path):
    path = tmp_path / "typo.csv"
    path.write_text("Date,Open\n2018-05-25,10\n2108-05-29,11\n2018-05-30,12\n")
    with pytest.raises(DataError) as error:
        load_prices(path, "Open")
    assert str(error.value).startswith(
        f"{path}: line 3, column 'Date': '2108-05-29' is after today ("
    )
    assert "fix the date (a typo in the year?)" in str(error.value)


def test_an_excel_sep_line_and_comment_lines_before_the_header_are_skipped(tmp_path):
    rows = "\n".join(f"{d:%Y-%m-%d};{str(o).replace('.', ',')}" for d, o in ROWS)
    path = tmp_path / "excel.csv"
    path.write_text(f"sep=;\n# exported by a terminal\n# tz: UTC\nDate;Open\n{rows}\n")
    series = load_prices(path, "Open")
    np.testing.assert_allclose(series.values.to_numpy(), OPENS)
    path.write_text(f"sep=;\n# comment\nDate;Open\n{rows}\n2020-01-20;abc\n")
    with pytest.raises(DataError, match=r"line 9, column 'Open': 'abc' is not a finite number"):
        load_prices(path, "Open")  # line numbers still count from the file's first line
    path.write_text("# only a comment\n")
    with pytest.raises(DataError, match="no header line after the comment lines"):
        load_prices(path, "Open")


def test_a_column_the_header_names_twice_is_refused_when_it_is_used(tmp_path):
    path = tmp_path / "twice.csv"
    path.write_text("Date,Open,open,Volume,Volume\n2020-01-02,1,2,3,4\n2020-01-03,2,3,4,5\n")
    with pytest.raises(DataError) as error:
        load_prices(path, "Open")
    assert str(error.value) == (
        f"{path}: line 1: the header names column 'Open' twice (fields 2 and 3); rename one so "
        "the file says which is which"
    )
    path.write_text("Date,Open,Volume,Volume\n2020-01-02,1,3,4\n2020-01-03,2,4,5\n")
    assert load_prices(path, "Open").values.tolist() == [1.0, 2.0]  # an unused twin is harmless


def test_a_date_column_wins_over_a_time_column_before_it(tmp_path):
    path = tmp_path / "time_date.csv"
    rows = "\n".join(f"09:30,{d:%Y-%m-%d},{o}" for d, o in ROWS)
    path.write_text(f"Time,Date,Open\n{rows}\n")
    series = load_prices(path, "Open")
    assert list(series.values.index) == list(DATES)


def test_a_tab_inside_a_number_is_refused_not_joined(tmp_path):
    path = tmp_path / "tab.csv"
    path.write_text('Date,Open\n2020-01-02,"12\t29.5"\n2020-01-03,"1 229.5"\n')
    with pytest.raises(DataError, match=r"line 2, column 'Open': '12\\t29.5' is not a finite"):
        load_prices(path, "Open")
    path.write_text('Date,Open\n2020-01-02,"1 229.5"\n2020-01-03,"1\u00a0230.5"\n')
    assert load_prices(path, "Open").values.tolist() == [1229.5, 1230.5]  # spaces group thousands


def test_a_target_matched_in_another_case_is_said(tmp_path):
    path = tmp_path / "prices.csv"
    path.write_text("Date,Open,Close\n2024-01-02,1,2\n2024-01-03,1,2\n")
    series = load_prices(path, "close")
    assert series.values.name == "Close"
    assert "target column 'Close' (asked for 'close')" in series.describe()
    assert "asked for" not in load_prices(path, "Close").describe()
