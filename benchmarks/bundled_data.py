"""Configs on the bundled S&P 500 data: train 1999-2017, test 2018, beside persistence.

Each config is trained by the CLI, one after the other, and the table is printed as Markdown.

Usage (from the repository root):
    python benchmarks/bundled_data.py                      # the default config and configs/seed.toml
    python benchmarks/bundled_data.py --configs default configs/quick.toml --epochs 5
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def train(config: str, test_start: str, epochs: int | None, seed: int) -> dict:
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "run"
        command = [sys.executable, "-m", "lstm_forecast", "train", "--test-start", test_start,
                   "--seed", str(seed), "--out", str(out), "--quiet"]  # fmt: skip
        if config != "default":
            command += ["--config", config]
        if epochs:
            command += ["--epochs", str(epochs)]
        subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=True)
        return json.loads((out / "metrics.json").read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", nargs="+", default=["default", "configs/seed.toml"])
    parser.add_argument("--test-start", default="2018-01-01")
    parser.add_argument("--epochs", type=int, default=None, help="override every config's epochs")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    print(f"Bundled S&P 500 Open, test span from {args.test_start}, seed {args.seed}\n")
    print("| config | RMSE | MAE | persistence RMSE | skill | epochs run | s/epoch |")
    print("|---|---|---|---|---|---|---|")
    for config in args.configs:
        m = train(config, args.test_start, args.epochs, args.seed)
        print(
            f"| {config} | {m['rmse']:.2f} | {m['mae']:.2f} | {m['naive_rmse']:.2f} | "
            f"{m['skill']:+.3f} | {m['epochs_run']} | {m['seconds_per_epoch']:.2f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
