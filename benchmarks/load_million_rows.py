"""Load and validate a 1,000,000-row daily price CSV (Yahoo layout), and build its quality report.

Usage (from the repository root):
    python benchmarks/load_million_rows.py [--rows 1000000]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from lstm_forecast.data.quality import quality_report
from lstm_forecast.data.read import load_prices


def write_csv(path: Path, rows: int) -> None:
    generator = np.random.default_rng(0)
    # consecutive calendar days from 1800 on: a million days runs to the year 4537
    dates = pd.date_range("1800-01-01", periods=rows, freq="D", unit="s")
    close = 100 * np.exp(np.cumsum(generator.normal(0, 0.01, rows)))
    frame = pd.DataFrame(
        {
            "Date": dates.strftime("%Y-%m-%d"),
            "Open": close.round(4),
            "High": (close * 1.01).round(4),
            "Low": (close * 0.99).round(4),
            "Close": close.round(4),
            "Adj Close": close.round(4),
            "Volume": generator.integers(1_000_000, 9_000_000, rows),
        }
    )
    frame.to_csv(path, index=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "million.csv"
        write_csv(path, args.rows)
        size_mb = path.stat().st_size / 1e6
        started = time.perf_counter()
        prices = load_prices(path, "Open")
        loaded = time.perf_counter()
        quality_report(prices)
        reported = time.perf_counter()
    print(f"{args.rows:,} rows ({size_mb:.0f} MB): load + validate {loaded - started:.2f} s, "
          f"quality report {reported - loaded:.2f} s, {len(prices.values):,} rows used")  # fmt: skip


if __name__ == "__main__":
    main()
