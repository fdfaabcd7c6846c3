"""Shared fixtures: tiny seeded price series written as CSV, a tiny config, one trained run."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parent.parent  # the repository
FIXTURES = ROOT / "tests" / "fixtures"  # golden files and run directories of earlier releases

TINY_CONFIG = """
[window]
length = 5
target_transform = "{transform}"

[[model.layers]]
units = 4
dropout = 0.1

[[model.layers]]
units = 3
dropout = 0.0

[train]
epochs = 2
batch_size = 16
early_stopping_patience = 0
validation_fraction = 0.0
jit_compile = false
"""


def pytest_xdist_auto_num_workers(config) -> int:
    """`-n auto` (pyproject's addopts): a worker per core, at most 4: each imports TensorFlow
    (about half a gigabyte), and the tests' tiny models gain nothing from more."""
    return max(1, min(4, os.cpu_count() or 1))


def random_walk(rows: int, seed: int = 0, start: str = "2020-01-01") -> pd.DataFrame:
    """Business-day prices: a seeded geometric random walk with OHLC-like columns and volume."""
    generator = np.random.default_rng(seed)
    dates = pd.bdate_range(start, periods=rows)
    close = 100 * np.exp(np.cumsum(generator.normal(0, 0.01, rows)))
    return pd.DataFrame(
        {
            "Date": dates,
            "Open": np.round(close * (1 + generator.normal(0, 0.002, rows)), 2),
            "Close": np.round(close, 2),
            "Volume": generator.integers(1_000_000, 9_000_000, rows),
        }
    )


def write_reference_style(frame: pd.DataFrame, path: Path) -> Path:
    """Write like the reference data: m/d/yyyy dates, quoted thousands separators, CRLF."""
    lines = ["Date,Open,Close,Volume"]
    for row in frame.itertuples(index=False):
        date = f"{row.Date.month}/{row.Date.day}/{row.Date.year}"
        lines.append(f'{date},"{row.Open:,.2f}","{row.Close:,.2f}","{row.Volume:,}"')
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode())
    return path


@pytest.fixture
def prices_csv(tmp_path: Path) -> Path:
    """200 business days in ISO format."""
    path = tmp_path / "prices.csv"
    random_walk(200).to_csv(path, index=False, date_format="%Y-%m-%d")
    return path


@pytest.fixture
def tiny_config(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.toml"
    path.write_text(TINY_CONFIG.format(transform="log_return"))
    return path


@pytest.fixture(scope="session")
def trained_run(tmp_path_factory: pytest.TempPathFactory):
    """One tiny model trained on a train CSV with a separate test CSV (the reference layout)."""
    from lstm_forecast.app.commands import train
    from lstm_forecast.config.load import load_config, with_overrides

    folder = tmp_path_factory.mktemp("trained")
    frame = random_walk(160, seed=1)
    train_csv = write_reference_style(frame.iloc[:140], folder / "train.csv")
    test_csv = write_reference_style(frame.iloc[140:], folder / "test.csv")
    config_path = folder / "tiny.toml"
    config_path.write_text(TINY_CONFIG.format(transform="level"))
    config = with_overrides(
        load_config(config_path), data__path=str(train_csv), data__test_path=str(test_csv)
    )
    result = train(config, folder / "run", verbose=0)
    return result, train_csv, test_csv
