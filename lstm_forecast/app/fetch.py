"""Download a ticker's prices from Yahoo Finance (the optional yfinance package) into a CSV.

The file has the columns Date (Datetime for intraday bars, with their UTC offset), Open, High,
Low, Close, Adj Close, Volume, and load_prices reads it back. It is written to a temporary file
beside `out` and moved into place, so a failed download never leaves half a file, and an
existing file is kept unless overwrite=True.

Written against yfinance 1.7.0, whose `download()` does not raise for a failed ticker: it logs
the error to the "yfinance" logger and returns an empty frame. The log lines are captured here
(and kept off the terminal) to tell an unknown ticker from rate limiting or a missing network.
Older versions that raise (YFRateLimitError, requests' ConnectionError) are handled too.
"""

from __future__ import annotations

import contextlib
import logging
import re
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd

from lstm_forecast.errors import DataError, ForecastError, OutputError
from lstm_forecast.files.write import write_csv

COLUMNS = ("Open", "High", "Low", "Close", "Adj Close", "Volume")  # in the order written
INTERVALS = ("1m", "2m", "5m", "15m", "30m", "60m", "90m", "1h", "1d", "5d", "1wk", "1mo", "3mo")
INSTALL_HINT = 'install it with: pip install -e ".[fetch]"'
RATE_LIMIT_SIGNS = ("YFRateLimitError", "Too Many Requests", "Rate limited")
NETWORK_SIGNS = (
    "ConnectionError",
    "DNSError",
    "Could not resolve host",
    "Timeout",
    "timed out",
    "Failed to establish",
    "Max retries",
    "curl: (",
)
MESSAGE_CHARACTERS = 160  # of a library's own error text quoted in ours


class FetchError(ForecastError):
    """A download that failed: yfinance missing, unknown ticker, rate limit, no network, or an
    output file that exists."""


def fetch(
    ticker: str,
    start: str | None = None,
    end: str | None = None,
    interval: str = "1d",
    *,
    out: str | Path,
    download: Callable[..., pd.DataFrame] | None = None,
    overwrite: bool = False,
) -> Path:
    """Download `ticker` from `start` to `end` (ISO dates; end exclusive; default: all history)
    in bars of `interval` ("1d", "1wk", "1mo", "1h", "30m", ...) into the CSV `out`.

    `download` stands in for yfinance.download (tests pass a fake). Returns `out`.
    """
    out = Path(out)
    _check_out(out, overwrite)
    if interval not in INTERVALS:
        raise FetchError(f"interval {interval!r} is not one of {', '.join(INTERVALS)}")
    if not ticker.strip():
        raise FetchError("the ticker is empty; give a Yahoo Finance symbol such as AAPL or ^GSPC")
    start, end = _iso_date(start, "--start"), _iso_date(end, "--end")
    if start and end and end <= start:
        raise FetchError(
            f"--end {end} is not after --start {start} (--end is not included); give a later --end"
        )
    frame = _download(download or _yfinance_download(), ticker, start, end, interval)
    _write_atomically(_price_table(frame, ticker, interval), out, overwrite)
    return out


def _check_out(out: Path, overwrite: bool) -> None:
    """Before any download: a CSV name in an existing folder that is none of our directories,
    new, or (with overwrite) a price file of the form fetch writes, never another file."""
    from lstm_forecast.files.names import MARKER_FILE

    if out.is_dir():
        raise FetchError(f"{out}: is a directory; give --out a CSV file name")
    if not out.parent.is_dir():
        raise FetchError(f"{out}: the folder {out.parent} does not exist; create it first")
    if (out.parent / MARKER_FILE).exists():
        raise FetchError(
            f"{out}: is inside the lstm-forecast directory {out.parent}; choose another --out"
        )
    if out.exists() and not overwrite:
        raise FetchError(f"{out}: already exists; choose another --out or pass --overwrite")
    if out.exists() and not _written_by_fetch(out):
        raise FetchError(
            f"{out}: already exists and is not a price file of the form fetch writes "
            f"(Date,{','.join(COLUMNS)}); --overwrite replaces only those: choose another --out"
        )


def _written_by_fetch(path: Path) -> bool:
    """A CSV whose header is fetch's: Date or Datetime, then our columns in our order."""
    try:
        with path.open(encoding="utf-8") as handle:
            fields = handle.readline().strip().split(",")
    except (OSError, UnicodeDecodeError):
        return False
    values = fields[1:]
    return (
        fields[0] in ("Date", "Datetime")
        and "Close" in values
        and values == [column for column in COLUMNS if column in values]
    )


def _iso_date(value: str | None, option: str) -> str | None:
    if value is None or value == "":
        return None
    try:
        return pd.Timestamp(value).strftime("%Y-%m-%d")
    except ValueError as e:
        raise FetchError(f"{option} {value!r} is not a date; use ISO form like 2020-01-31") from e


def _yfinance_download() -> Callable[..., pd.DataFrame]:
    try:
        import yfinance
    except ImportError as e:
        raise FetchError(f"fetching prices needs the yfinance package; {INSTALL_HINT}") from e
    return yfinance.download


def _download(
    download: Callable[..., pd.DataFrame],
    ticker: str,
    start: str | None,
    end: str | None,
    interval: str,
) -> pd.DataFrame:
    """The frame `download` returns; FetchError, saying why, if it raised or returned no rows."""
    options = {
        "start": start,
        "end": end,
        "interval": interval,
        "auto_adjust": False,  # Close as traded, and Adj Close beside it
        "progress": False,
        "multi_level_index": False,
    }
    if start is None:
        options["period"] = "max"  # yfinance's default without a start is one month
    with _captured_log() as logged:
        try:
            frame = download(ticker, **options)
        except Exception as e:  # noqa: BLE001 - any failure of the library becomes one line
            names = " ".join(kind.__name__ for kind in type(e).__mro__)
            raise FetchError(_why(ticker, interval, f"{names}: {e}", str(e))) from e
    if frame is None or frame.empty:
        last = re.sub(r"^\[.*?\]: ", "", logged[-1]) if logged else ""  # "['AAPL']: " off
        raise FetchError(_why(ticker, interval, " ".join(logged), last))
    return frame


@contextlib.contextmanager
def _captured_log() -> Iterator[list[str]]:
    """The "yfinance" logger's errors as a list, not printed; its warnings silenced meanwhile."""
    logger = logging.getLogger("yfinance")
    handler = _ListHandler()
    propagate = logger.propagate
    logger.addHandler(handler)
    logger.propagate = False
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the library's own pandas deprecation warnings
            yield handler.messages
    finally:
        logger.removeHandler(handler)
        logger.propagate = propagate


class _ListHandler(logging.Handler):
    """Keeps the messages of the errors logged to it."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def _why(ticker: str, interval: str, evidence: str, detail: str) -> str:
    """One line for a failed download: `evidence` (the error's type names and text, or the
    logged errors) tells rate limiting and network failures apart; `detail` is quoted."""
    quoted = " ".join(detail.split())
    if len(quoted) > MESSAGE_CHARACTERS:
        quoted = quoted[:MESSAGE_CHARACTERS] + "..."
    error_text = evidence
    if any(sign in error_text for sign in RATE_LIMIT_SIGNS):
        return (
            f"{ticker}: Yahoo Finance is rate limiting requests (too many requests); "
            "wait a few minutes and try again"
        )
    if any(sign in error_text for sign in NETWORK_SIGNS):
        return (
            f"{ticker}: cannot reach Yahoo Finance ({quoted}); check the network connection "
            "and try again"
        )
    return (
        f"{ticker}: Yahoo Finance has no {interval} prices for this ticker and dates (unknown or "
        "delisted symbol, or intraday bars older than Yahoo keeps); check the symbol on "
        "finance.yahoo.com and --start/--end"
    )


def _price_table(frame: pd.DataFrame, ticker: str, interval: str) -> pd.DataFrame:
    """The columns we write, in order, one row per date that has a price, index named Date or
    Datetime (intraday)."""
    if isinstance(frame.columns, pd.MultiIndex):  # (price, ticker) columns: keep the price level
        level = next(i for i in range(frame.columns.nlevels) if "Close" in frame.columns.levels[i])
        frame = frame.set_axis(frame.columns.get_level_values(level), axis=1)
    if frame.columns.duplicated().any() or "Close" not in frame.columns:
        raise FetchError(
            f"{ticker}: the download has columns {', '.join(map(str, frame.columns))}; expected "
            "one ticker's Open, High, Low, Close (fetch one ticker at a time)"
        )
    table = frame[[column for column in COLUMNS if column in frame.columns]]
    table = table.dropna(subset=[c for c in table.columns if c != "Volume"], how="all")
    intraday = interval[-1] in "mh"
    return table.rename_axis("Datetime" if intraday else "Date")


def _write_atomically(table: pd.DataFrame, out: Path, overwrite: bool) -> None:
    """Write `table` beside `out`, check that load_prices reads it back, then move it into place
    (without replacing a file that appeared meanwhile unless `overwrite`)."""
    from lstm_forecast.data.read import load_prices

    daily = table.index.tz is None and (table.index == table.index.normalize()).all()
    date_format = "%Y-%m-%d" if daily else None

    def reads_back(temporary: Path) -> None:
        try:
            load_prices(temporary, "Close", date_column=table.index.name)
        except DataError as e:
            raise FetchError(f"{out}: the downloaded prices do not read back: {e}") from e

    try:
        write_csv(out, table, date_format=date_format, check=reads_back, replace=overwrite)
    except OutputError as e:
        raise FetchError(str(e)) from e
