"""How well "tomorrow's open = today's close" predicts the open, beside "= today's open".

Usage (from the repository root):
    python benchmarks/open_vs_close.py data/sp500.csv 2018
"""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd


def main() -> None:
    path, year = sys.argv[1], sys.argv[2]
    frame = pd.read_csv(path, parse_dates=["Date"], thousands=",").set_index("Date").sort_index()
    frame = frame[frame.index.year == int(year)]
    tomorrow_open = frame["Open"].to_numpy()[1:]
    for name in ("Close", "Open"):
        today = frame[name].to_numpy()[:-1]
        rmse = np.sqrt(np.mean((tomorrow_open - today) ** 2))
        print(f"{path} {year}: tomorrow's open = today's {name.lower():<5} RMSE {rmse:.2f}")


if __name__ == "__main__":
    main()
