"""Walk-forward backtests of configs on the reference data and the bundled data, with baselines.

Each line runs `lstm-forecast backtest` and the table shows mean ± std across folds: first the
one-step-ahead predictions, then each fold's recursive forecast from its origin (RMSE beside the
last price held flat) and the share of actual prices inside its 90 % dropout interval.

Usage (from the repository root, with ../shared beside it for the reference data):
    python benchmarks/backtests.py --folds 5 --horizon 20 --epochs 20
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REFERENCE_TRAIN = ROOT.parent / "shared" / "data" / "Google_Stock_Price_Train.csv"
BUNDLED = ROOT / "data" / "sp500.csv"


def backtest(config: str, data: Path, folds: int, horizon: int, epochs: int | None) -> dict:
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "bt"
        command = [sys.executable, "-m", "lstm_forecast", "backtest", "--data", str(data),
                   "--folds", str(folds), "--horizon", str(horizon), "--out", str(out)]  # fmt: skip
        if config != "default":
            command += ["--config", config]
        if epochs:
            command += ["--epochs", str(epochs)]
        subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=True)
        return json.loads((out / "summary.json").read_text())


def pm(summary: dict, metric: str, scale: float = 1.0, digits: int = 2) -> str:
    """'mean ± std' of one metric across folds."""
    mean, std = scale * summary[metric]["mean"], scale * summary[metric]["std"]
    return f"{mean:.{digits}f} ± {std:.{digits}f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", nargs="+", default=["configs/seed.toml", "default"])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--horizon", type=int, default=20)
    parser.add_argument("--epochs", type=int, default=None, help="override every config's epochs")
    args = parser.parse_args()

    datasets = [("bundled S&P 500", BUNDLED)]
    if REFERENCE_TRAIN.exists():
        datasets.insert(0, ("reference Google 2012-16", REFERENCE_TRAIN))
    epochs = f", epochs {args.epochs}" if args.epochs else ""
    print(
        f"{args.folds} folds x {args.horizon} rows, one step ahead{epochs}; mean ± std across folds\n"
    )
    print(
        "| data | config | RMSE | persistence RMSE | drift RMSE | skill | pooled skill | direction "
        "| lag | recursive RMSE | flat RMSE | 90 % coverage |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for name, data in datasets:
        for config in args.configs:
            s = backtest(config, data, args.folds, args.horizon, args.epochs)
            print(
                f"| {name} | {config} | {pm(s, 'rmse')} | {pm(s, 'naive_rmse')} | "
                f"{pm(s, 'drift_rmse')} | {pm(s, 'skill', digits=3)} | {s['pooled_skill']:+.3f} | "
                f"{pm(s, 'directional_accuracy', 100, 0)} % | {pm(s, 'lag', digits=1)} | "
                f"{pm(s, 'forecast_rmse')} | {pm(s, 'forecast_naive_rmse')} | "
                f"{pm(s, 'coverage', 100, 0)} % |",
                flush=True,
            )


if __name__ == "__main__":
    main()
