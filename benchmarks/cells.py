"""The recurrent cells side by side: speed on the reference model, accuracy by backtest.

1. Speed: `lstm-forecast train --config configs/seed.toml --cell CELL --epochs E` on the reference
   Google data (4 layers of 50 units, window 60, batch 32), one cell after the other in this run;
   median seconds per epoch after the first and the ratio to the built-in LSTM.
2. Accuracy: `lstm-forecast backtest --cell CELL` with the default config on the bundled S&P 500
   data (and on the reference data when ../shared is beside the repository): RMSE, skill vs
   persistence, directional accuracy, parameters, seconds per epoch, interval coverage.

Usage (from the repository root):
    python benchmarks/cells.py                       # both parts
    python benchmarks/cells.py --part speed --epochs 4
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from backtests import BUNDLED, REFERENCE_TRAIN, pm

ROOT = Path(__file__).resolve().parent.parent
REFERENCE_TEST = REFERENCE_TRAIN.with_name("Google_Stock_Price_Test.csv")
CELLS = ("lstm", "peephole", "cifg", "gru")


def cli(*args: str) -> None:
    command = [sys.executable, "-m", "lstm_forecast", *args]
    subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=True)


def speed(epochs: int) -> None:
    print(f"reference model (configs/seed.toml), {epochs} epochs on the reference data\n")
    print("| cell | parameters | s/epoch (median after the first) | × built-in LSTM | RMSE |")
    print("|---|---:|---:|---:|---:|")
    baseline = None
    for cell in CELLS:
        with tempfile.TemporaryDirectory() as scratch:
            out = Path(scratch) / "run"
            cli("train", "--config", "configs/seed.toml", "--data", str(REFERENCE_TRAIN),
                "--test", str(REFERENCE_TEST), "--cell", cell, "--epochs", str(epochs),
                "--out", str(out), "--quiet")  # fmt: skip
            metrics = json.loads((out / "metrics.json").read_text())
            with (out / "history.csv").open() as file:
                history = [float(row["seconds"]) for row in csv.DictReader(file)][1:]
        seconds = sorted(history)[len(history) // 2]
        baseline = baseline or seconds
        print(
            f"| {cell} | {metrics['parameters']:,} | {seconds:.2f} | {seconds / baseline:.2f} | "
            f"{metrics['rmse']:.2f} |",
            flush=True,
        )


def accuracy(folds: int, horizon: int) -> None:
    datasets = [("bundled S&P 500", BUNDLED)]
    if REFERENCE_TRAIN.exists():
        datasets.insert(0, ("reference Google 2012-16", REFERENCE_TRAIN))
    print(f"\ndefault config with each cell; backtest, {folds} folds x {horizon} rows\n")
    print("| data | cell | parameters | RMSE | persistence RMSE | skill | direction | "
          "s/epoch | epochs | 90 % coverage |")  # fmt: skip
    print("|---|---|---:|---|---|---|---|---|---|---|")
    for name, data in datasets:
        for cell in CELLS:
            with tempfile.TemporaryDirectory() as scratch:
                out = Path(scratch) / "bt"
                cli("backtest", "--data", str(data), "--cell", cell, "--folds", str(folds),
                    "--horizon", str(horizon), "--out", str(out))  # fmt: skip
                s = json.loads((out / "summary.json").read_text())
            print(
                f"| {name} | {cell} | {s['parameters']:,} | {pm(s, 'rmse')} | "
                f"{pm(s, 'naive_rmse')} | {pm(s, 'skill', digits=3)} | "
                f"{pm(s, 'directional_accuracy', 100, 0)} % | {pm(s, 'seconds_per_epoch')} | "
                f"{pm(s, 'epochs_run', digits=1)} | {pm(s, 'coverage', 100, 0)} % |",
                flush=True,
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=("speed", "accuracy", "both"), default="both")
    parser.add_argument("--epochs", type=int, default=4, help="epochs of the speed part")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--horizon", type=int, default=20)
    args = parser.parse_args()
    if args.part in ("speed", "both"):
        if not REFERENCE_TRAIN.exists():
            sys.exit(f"{REFERENCE_TRAIN} not found: the speed part needs the reference data")
        speed(args.epochs)
    if args.part in ("accuracy", "both"):
        accuracy(args.folds, args.horizon)


if __name__ == "__main__":
    main()
