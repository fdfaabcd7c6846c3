import numpy as np
import pytest
from conftest import random_walk, write_reference_style

from lstm_forecast.data import load_prices
from lstm_forecast.errors import DataError


def test_reference_format_thousands_separators_and_crlf(tmp_path):
    frame = random_walk(30)
    frame.loc[3, "Open"] = 1155.55  # the reference data has "1,155.55"
    path = write_reference_style(frame, tmp_path / "ref.csv")
    assert b'"1,155.55"' in path.read_bytes() and b"\r\n" in path.read_bytes()

    series = load_prices(path, "Open")
    assert series.values.iloc[3] == 1155.55
    np.testing.assert_allclose(series.values.to_numpy(), frame["Open"].to_numpy())
    assert list(series.values.index) == list(frame["Date"])
    volume = load_prices(path, "volume")  # header names are case-insensitive
    assert volume.values.iloc[0] == frame["Volume"].iloc[0]


def test_newest_first_is_sorted_and_reported(tmp_path):
    frame = random_walk(20)
    path = tmp_path / "desc.csv"
    frame.iloc[::-1].to_csv(path, index=False)
    series = load_prices(path, "Close")
    assert series.newest_first
    assert series.values.index.is_monotonic_increasing
    np.testing.assert_allclose(series.values.to_numpy(), frame["Close"].to_numpy())
    assert "sorted oldest first" in series.describe()


def test_missing_values_dropped_and_counted(tmp_path):
    path = tmp_path / "gaps.csv"
    path.write_text("Date,Open\n2020-01-01,1\n2020-01-02,null\n2020-01-03,\n2020-01-06,4\n")
    series = load_prices(path, "Open")
    assert series.rows_read == 4
    assert series.rows_missing == 2
    assert series.values.tolist() == [1.0, 4.0]
    assert "dropped 2 rows" in series.describe()


def test_duplicate_dates_keep_the_last_row(tmp_path):
    path = tmp_path / "dups.csv"
    path.write_text("Date,Open\n2020-01-01,1\n2020-01-02,2\n2020-01-02,3\n")
    series = load_prices(path, "Open")
    assert series.values.tolist() == [1.0, 3.0]
    assert series.rows_duplicate == 1


def test_date_column_found_by_name_or_set(tmp_path):
    path = tmp_path / "named.csv"
    path.write_text("when,Trade Date,Open\nx,2020-01-01,1\ny,2020-01-02,2\n")
    assert load_prices(path, "Open").values.index[0].day == 1
    path.write_text("when,Open\n2020-01-01,1\n2020-01-02,2\n")
    assert len(load_prices(path, "Open", date_column="WHEN").values) == 2


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "file not found"),
        ("", "file is empty"),
        ("Date,Open\n", "has a header but no data rows"),
        ("Date,Close\n2020-01-01,1\n", "no target column 'Open'; columns are 'Date', 'Close'"),
        ("Day,Open\n2020-01-01,1\n", "no date column found among 'Day', 'Open'"),
        (
            "Date,Open\n2020-01-01,1\n2020-13-45,2\n",
            "line 3, column 'Date': '2020-13-45' is not a date",
        ),
        (
            "Date,Open\n2020-01-01,1\n2020-01-02,abc\n",
            "line 3, column 'Open': 'abc' is not a finite number",
        ),
        ("Date,Open\n2020-01-01,inf\n", "line 2, column 'Open': 'inf' is not a finite number"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe binary", "not a text CSV"),
    ],
)
def test_bad_files_raise_one_clear_error(tmp_path, content, message):
    path = tmp_path / "bad.csv"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content)
    with pytest.raises(DataError) as error:
        load_prices(path, "Open")
    assert message in str(error.value)
    assert str(path) in str(error.value)


def test_directory_is_not_a_csv(tmp_path):
    with pytest.raises(DataError, match="is a directory"):
        load_prices(tmp_path, "Open")
