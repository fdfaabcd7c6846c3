"""The loader on one file per real-world format and one per failure, written by the tests."""

import numpy as np
import pandas as pd
import pytest
from conftest import random_walk, write_reference_style

from lstm_forecast.data import load_prices, quality_report, report_lines
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
