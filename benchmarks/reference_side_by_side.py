"""The reference script and `lstm-forecast train --config configs/seed.toml`, side by side, one run.

Both train the reference model on the reference data (Google 2012-2016, tested on January 2017)
with the same seeds, one after the other on the same machine, and the table compares RMSE,
persistence RMSE, skill and seconds per epoch.

Usage (from the repository root, with ../shared beside it):
    python benchmarks/reference_side_by_side.py --epochs 100 --seeds 0 1
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"


def run_reference(train_csv: Path, test_csv: Path, epochs: int, seed: int) -> dict:
    script = SHARED / "bench" / "seed_reference.py"
    result = subprocess.run(
        [sys.executable, str(script), str(train_csv), str(test_csv), str(epochs)],
        env={**os.environ, "SEED": str(seed), "TF_CPP_MIN_LOG_LEVEL": "3"},
        capture_output=True,
        text=True,
        check=True,
    )
    last_line = result.stdout.strip().splitlines()[-1]
    reference = json.loads(last_line)
    return {
        "rmse": reference["rmse"],
        "naive_rmse": reference["naive_rmse"],
        "seconds_per_epoch": reference["fit_s_per_epoch"],
    }


def run_ours(train_csv: Path, test_csv: Path, epochs: int, seed: int, jit: bool) -> dict:
    with tempfile.TemporaryDirectory() as scratch:
        # configs/seed.toml with only jit_compile set: plain Keras (false) or XLA-compiled (true)
        config = Path(scratch) / "seed.toml"
        text = (ROOT / "configs" / "seed.toml").read_text()
        setting = re.compile(r"^jit_compile = (true|false)", re.MULTILINE)
        assert setting.search(text), "configs/seed.toml must set jit_compile"
        config.write_text(setting.sub(f"jit_compile = {'true' if jit else 'false'}", text))
        out = Path(scratch) / "run"
        subprocess.run(
            [sys.executable, "-m", "lstm_forecast", "train", "--config", str(config),
             "--data", str(train_csv), "--test", str(test_csv), "--epochs", str(epochs),
             "--seed", str(seed), "--out", str(out), "--quiet"],
            cwd=ROOT, capture_output=True, text=True, check=True,
        )  # fmt: skip
        metrics = json.loads((out / "metrics.json").read_text())
    # Our per-epoch figure is the median epoch; the reference's is the mean including the first
    # (tracing) epoch, so use the mean here too for a like-for-like ratio.
    return {
        "rmse": metrics["rmse"],
        "naive_rmse": metrics["naive_rmse"],
        "seconds_per_epoch": metrics["fit_seconds"] / metrics["epochs_run"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--data-dir", type=Path, default=SHARED / "data")
    args = parser.parse_args()
    train_csv = args.data_dir / "Google_Stock_Price_Train.csv"
    test_csv = args.data_dir / "Google_Stock_Price_Test.csv"
    if not train_csv.exists():
        sys.exit(f"{train_csv}: not found; pass --data-dir with the reference CSVs")

    rows = []
    for seed in args.seeds:
        for tool, measure in (
            ("reference script", partial(run_reference)),
            ("lstm-forecast seed.toml", partial(run_ours, jit=False)),
            ("lstm-forecast seed.toml + jit_compile", partial(run_ours, jit=True)),
        ):
            result = measure(train_csv, test_csv, args.epochs, seed)
            result["skill"] = 1 - result["rmse"] / result["naive_rmse"]
            rows.append({"tool": tool, "seed": seed, **result})
            print(json.dumps(rows[-1]), file=sys.stderr, flush=True)

    print(f"\n{args.epochs} epochs, reference data (Google, test January 2017)\n")
    print("| tool | seed | RMSE | persistence RMSE | skill | s/epoch | speed-up |")
    print("|---|---|---|---|---|---|---|")
    reference_speed = {
        row["seed"]: row["seconds_per_epoch"] for row in rows if row["tool"] == "reference script"
    }
    for row in rows:
        speedup = reference_speed[row["seed"]] / row["seconds_per_epoch"]
        print(
            f"| {row['tool']} | {row['seed']} | {row['rmse']:.2f} | {row['naive_rmse']:.2f} | "
            f"{row['skill']:+.3f} | {row['seconds_per_epoch']:.2f} | {speedup:.2f}x |"
        )


if __name__ == "__main__":
    main()
