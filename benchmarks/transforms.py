"""Target transforms, per-window normalisation and extra features, compared by backtest.

Each variant is the default config (2 x LSTM(32), window 60, early stopping) with one change,
run through `lstm-forecast backtest` on the reference Google data (when ../shared is beside the
repository) and the bundled S&P 500 data. The table gives mean ± std across folds of the
one-step-ahead predictions: skill vs persistence (1 - RMSE / persistence RMSE), directional
accuracy, RMSE.

Usage (from the repository root):
    python benchmarks/transforms.py --folds 5 --horizon 20
    python benchmarks/transforms.py --variants log_return log_return+features
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from backtests import BUNDLED, REFERENCE_TRAIN, pm

ROOT = Path(__file__).resolve().parent.parent
# features every data set here has; High and Low rather than Close, whose 2012-2014 values in
# the reference file are not adjusted for Google's 2014 split (`lstm-forecast inspect` shows it)
FEATURES = '["return(High)", "return(Low)", "log1p(Volume)", "day_of_week"]'
VARIANTS = {
    "level": '[window]\ntarget_transform = "level"\n',
    "level+normalize": '[window]\ntarget_transform = "level"\nnormalize = true\n',
    "return": '[window]\ntarget_transform = "return"\n',
    "log_return": '[window]\ntarget_transform = "log_return"\n',
    "diff": '[window]\ntarget_transform = "diff"\n',
    "level+normalize+features": (
        f'[data]\nfeatures = {FEATURES}\n[window]\ntarget_transform = "level"\nnormalize = true\n'
    ),
    "return+features": f'[data]\nfeatures = {FEATURES}\n[window]\ntarget_transform = "return"\n',
    "log_return+features": (
        f'[data]\nfeatures = {FEATURES}\n[window]\ntarget_transform = "log_return"\n'
    ),
    # mean absolute error: the model learns the median next return instead of the mean
    "log_return+features+mae": (
        f'[data]\nfeatures = {FEATURES}\n[window]\ntarget_transform = "log_return"\n'
        '[train]\nloss = "mae"\n'
    ),
}


def backtest(variant: str, data: Path, folds: int, horizon: int) -> dict:
    with tempfile.TemporaryDirectory() as scratch:
        config = Path(scratch) / f"{variant}.toml"
        config.write_text(VARIANTS[variant])
        out = Path(scratch) / "bt"
        command = [sys.executable, "-m", "lstm_forecast", "backtest", "--config", str(config),
                   "--data", str(data), "--folds", str(folds), "--horizon", str(horizon),
                   "--samples", "0", "--out", str(out)]  # fmt: skip
        subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=True)
        return json.loads((out / "summary.json").read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--horizon", type=int, default=20)
    args = parser.parse_args()
    datasets = [("bundled S&P 500", BUNDLED)]
    if REFERENCE_TRAIN.exists():
        datasets.insert(0, ("reference Google 2012-16", REFERENCE_TRAIN))
    print(f"{args.folds} folds x {args.horizon} rows, one step ahead; features = {FEATURES}\n")
    print("| data | variant | skill | pooled skill | direction | RMSE | persistence RMSE |")
    print("|---|---|---|---|---|---|---|")
    for name, data in datasets:
        for variant in args.variants:
            s = backtest(variant, data, args.folds, args.horizon)
            print(
                f"| {name} | {variant} | {pm(s, 'skill', digits=3)} | {s['pooled_skill']:+.3f} | "
                f"{pm(s, 'directional_accuracy', 100, 0)} % | {pm(s, 'rmse')} | "
                f"{pm(s, 'naive_rmse')} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
