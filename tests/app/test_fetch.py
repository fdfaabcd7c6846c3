"""fetch() with a fake yfinance.download: the file it writes, its refusals, no network."""

import logging
import sys

import numpy as np
import pandas as pd
import pytest

from lstm_forecast.app.fetch import FetchError, fetch
from lstm_forecast.data.read import load_prices


def yahoo_frame(index: pd.DatetimeIndex, seed: int = 0) -> pd.DataFrame:
    """What yfinance 1.7.0 returns for one ticker with multi_level_index=False: columns sorted
    alphabetically, Adj Close first."""
    generator = np.random.default_rng(seed)
    close = np.round(100 + np.cumsum(generator.normal(0, 1, len(index))), 4)
    frame = pd.DataFrame(
        {
            "Adj Close": close * 0.98,
            "Close": close,
            "High": close + 1,
            "Low": close - 1,
            "Open": close + 0.25,
            "Volume": generator.integers(1_000, 9_000, len(index)),
        },
        index=index,
    )
    frame.columns.name = None
    return frame


class FakeDownload:
    """Stands in for yfinance.download: records its calls, returns `frame` or raises `error`."""

    def __init__(self, frame=None, error=None, log=""):
        self.frame, self.error, self.log, self.calls = frame, error, log, []

    def __call__(self, ticker, **options):
        self.calls.append((ticker, options))
        if self.log:  # yfinance 1.7.0 logs a failed ticker and returns an empty frame
            logging.getLogger("yfinance").error(self.log)
        if self.error is not None:
            raise self.error
        return self.frame if self.frame is not None else pd.DataFrame()


DAILY = pd.DatetimeIndex(pd.bdate_range("2024-01-02", periods=15), name="Date")


def test_daily_download_is_written_in_our_column_order_and_reads_back(tmp_path):
    frame = yahoo_frame(DAILY)
    download = FakeDownload(frame)
    out = fetch("AAPL", out=tmp_path / "aapl.csv", download=download)
    assert out == tmp_path / "aapl.csv"
    lines = out.read_text().splitlines()
    assert lines[0] == "Date,Open,High,Low,Close,Adj Close,Volume"
    assert lines[1].startswith("2024-01-02,")
    series = load_prices(out, "Close", columns=("Adj Close", "Volume"))
    np.testing.assert_allclose(series.values, frame["Close"])
    np.testing.assert_allclose(series.frame["Volume"], frame["Volume"])
    assert list(series.values.index) == list(DAILY)
    ticker, options = download.calls[0]
    assert ticker == "AAPL"
    assert options == {
        "start": None,
        "end": None,
        "interval": "1d",
        "auto_adjust": False,
        "progress": False,
        "multi_level_index": False,
        "period": "max",  # not yfinance's one-month default
    }


def test_start_and_end_are_passed_as_iso_dates_without_period(tmp_path):
    download = FakeDownload(yahoo_frame(DAILY))
    fetch("AAPL", "2024-1-2", "2024-01-23", "1wk", out=tmp_path / "a.csv", download=download)
    options = download.calls[0][1]
    assert (options["start"], options["end"], options["interval"]) == (
        "2024-01-02",
        "2024-01-23",
        "1wk",
    )
    assert "period" not in options


def test_multi_level_columns_are_flattened(tmp_path):
    frame = yahoo_frame(DAILY)
    frame.columns = pd.MultiIndex.from_product([frame.columns, ["MSFT"]], names=["Price", "Ticker"])
    out = fetch("MSFT", out=tmp_path / "msft.csv", download=FakeDownload(frame))
    assert out.read_text().splitlines()[0] == "Date,Open,High,Low,Close,Adj Close,Volume"
    np.testing.assert_allclose(load_prices(out, "Open").values, frame[("Open", "MSFT")])


def test_intraday_bars_keep_their_time_and_zone_over_dst(tmp_path):
    days = ["2024-03-08", "2024-03-11"]
    index = pd.DatetimeIndex(
        [pd.Timestamp(f"{d} 09:30") + pd.Timedelta(hours=k) for d in days for k in range(7)],
        name="Datetime",
    ).tz_localize("America/New_York")
    frame = yahoo_frame(index)
    out = fetch("SPY", interval="1h", out=tmp_path / "spy.csv", download=FakeDownload(frame))
    lines = out.read_text().splitlines()
    assert lines[0].startswith("Datetime,Open")
    assert lines[1].startswith("2024-03-08 09:30:00-05:00,")
    assert lines[8].startswith("2024-03-11 09:30:00-04:00,")
    series = load_prices(out, "Close")
    assert series.values.index.equals(index.tz_convert("UTC").rename("date"))
    np.testing.assert_allclose(series.values, frame["Close"])


def test_rows_without_prices_are_not_written(tmp_path):
    frame = yahoo_frame(DAILY)
    frame.iloc[3, :5] = np.nan  # a holiday row yfinance keeps with NaN prices
    out = fetch("AAPL", out=tmp_path / "a.csv", download=FakeDownload(frame))
    assert len(load_prices(out, "Close").values) == len(DAILY) - 1


class YFRateLimitError(Exception):
    """Named like yfinance's: recognised by its name, so the tests need no yfinance."""


@pytest.mark.parametrize(
    ("download", "message"),
    [
        (
            FakeDownload(),
            "NOPE: Yahoo Finance has no 1d prices for this ticker and dates (unknown or delisted "
            "symbol, or intraday bars older than Yahoo keeps); check the symbol on "
            "finance.yahoo.com and --start/--end",
        ),
        (
            FakeDownload(log="['NOPE']: YFTzMissingError('possibly delisted; no timezone found')"),
            "NOPE: Yahoo Finance has no 1d prices for this ticker",
        ),
        (
            FakeDownload(
                log="['NOPE']: YFRateLimitError('Too Many Requests. Rate limited. Try after a "
                "while.')"
            ),
            "NOPE: Yahoo Finance is rate limiting requests (too many requests); wait a few "
            "minutes and try again",
        ),
        (
            FakeDownload(error=YFRateLimitError("Too Many Requests.")),
            "NOPE: Yahoo Finance is rate limiting requests",
        ),
        (
            FakeDownload(
                log="['NOPE']: DNSError('Failed to perform, curl: (6) Could not resolve host: "
                "query2.finance.yahoo.com.')"
            ),
            "NOPE: cannot reach Yahoo Finance (DNSError('Failed to perform, curl: (6) Could not "
            "resolve host: query2.finance.yahoo.com.')); check the network connection and try "
            "again",
        ),
        (
            FakeDownload(error=ConnectionRefusedError("[Errno 111] Connection refused")),
            "NOPE: cannot reach Yahoo Finance ([Errno 111] Connection refused); check the network",
        ),
    ],
    ids=["empty", "logged-delisted", "logged-rate-limit", "raised-rate-limit", "dns", "refused"],
)
def test_failed_downloads_are_one_line_and_leave_no_file(tmp_path, capsys, download, message):
    out = tmp_path / "nope.csv"
    with pytest.raises(FetchError) as error:
        fetch("NOPE", out=out, download=download)
    assert str(error.value).startswith(message)
    assert "\n" not in str(error.value)
    assert list(tmp_path.iterdir()) == []  # neither the file nor a temporary one
    assert capsys.readouterr().err == ""  # yfinance's own log lines are not printed


def test_an_existing_file_is_kept_unless_overwrite(tmp_path):
    out = tmp_path / "aapl.csv"
    out.write_text("keep me\n")
    download = FakeDownload(yahoo_frame(DAILY))
    with pytest.raises(FetchError, match="aapl.csv: already exists; choose another --out or pass"):
        fetch("AAPL", out=out, download=download)
    assert out.read_text() == "keep me\n" and download.calls == []  # refused before downloading
    with pytest.raises(FetchError, match="is not a price file of the form fetch writes"):
        fetch("AAPL", out=out, download=download, overwrite=True)  # a user's file, kept
    assert out.read_text() == "keep me\n" and download.calls == []
    out.unlink()
    fetch("AAPL", out=out, download=download)
    fetch("AAPL", out=out, download=download, overwrite=True)  # ours: replaced
    assert out.read_text().startswith("Date,Open")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["aapl.csv"]


def test_fetch_never_writes_into_a_directory_of_ours_nor_onto_a_directory(tmp_path):
    download = FakeDownload(yahoo_frame(DAILY))
    (tmp_path / "run.json").write_text('{"format": "lstm-forecast", "kind": "run"}')
    with pytest.raises(FetchError, match="is inside the lstm-forecast directory"):
        fetch("AAPL", out=tmp_path / "series.csv", download=download, overwrite=True)
    with pytest.raises(FetchError, match="is a directory; give --out a CSV file name"):
        fetch("AAPL", out=tmp_path, download=download, overwrite=True)
    assert download.calls == []


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"interval": "2h"}, "interval '2h' is not one of 1m, 2m, 5m, 15m, 30m, 60m, 90m, 1h, 1d"),
        ({"start": "yesterday-ish"}, "--start 'yesterday-ish' is not a date; use ISO form"),
        ({"start": "2020-02-01", "end": "2020-01-01"}, "--end 2020-01-01 is not after --start"),
        ({"ticker": " "}, "the ticker is empty; give a Yahoo Finance symbol"),
    ],
)
def test_bad_options_are_refused_before_downloading(tmp_path, options, message):
    download = FakeDownload(yahoo_frame(DAILY))
    options = {"ticker": "AAPL", **options}
    with pytest.raises(FetchError, match=message):
        fetch(out=tmp_path / "a.csv", download=download, **options)
    assert download.calls == []


def test_a_missing_folder_is_named(tmp_path):
    with pytest.raises(FetchError, match="does not exist; create it first"):
        fetch("AAPL", out=tmp_path / "no" / "a.csv", download=FakeDownload(yahoo_frame(DAILY)))


def test_without_yfinance_the_message_says_how_to_install_it(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "yfinance", None)  # import yfinance -> ImportError
    with pytest.raises(FetchError) as error:
        fetch("AAPL", out=tmp_path / "a.csv")
    assert str(error.value) == (
        'fetching prices needs the yfinance package; install it with: pip install -e ".[fetch]"'
    )
