"""Backtests against the strongest naive baseline, and every interval scored, on both data sets.

Each line runs `lstm-forecast backtest` (walk-forward, one model per fold) and reads its
summary.json and folds.csv. The first table is the verdict: RMSE of the model, of persistence
and of "tomorrow's open = today's close" over all folds' rows pooled, the skill against the
strongest baseline each fold chose on its own training rows, the Diebold-Mariano p-value of
the pooled errors, and the shrinkage a (mean over folds). The second table scores the 90 %
intervals, one step ahead and over each fold's recursive forecast: coverage, mean width and
Winkler score, for conformal, adaptive conformal, Monte-Carlo dropout and the naive band.

Usage (from the repository root, with ../shared beside it for the reference data):
    python benchmarks/baselines.py --folds 10 --fold-length 20 > benchmarks/results/baselines.md
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
REFERENCE_TRAIN = ROOT.parent / "shared" / "data" / "Google_Stock_Price_Train.csv"
BUNDLED = ROOT / "data" / "sp500.csv"
# name: extra command-line arguments
CONFIGS = {
    "reference (seed.toml, 20 epochs)": ["--config", "configs/seed.toml", "--epochs", "20"],
    "old default (log_return)": ["--set", "window.target_transform=log_return"],
    "new default (residual, base auto)": [],
    # candidates for configs/backtested.toml: inputs that carry what the residual needs
    "residual + intraday return": ["--set", 'data.features=["log_ratio(Close, Open)"]'],
    "residual + intraday, range, volume, weekday": [
        "--set",
        'data.features=["log_ratio(Close, Open)", "log_ratio(High, Low)", "log1p(Volume)", '
        '"day_of_week"]',
    ],
}


def backtest(
    arguments: list[str], data: Path, folds: int, length: int
) -> tuple[dict, pd.DataFrame]:
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "bt"
        command = [sys.executable, "-m", "lstm_forecast", "backtest", "--data", str(data),
                   "--folds", str(folds), "--fold-length", str(length), "--out", str(out),
                   *arguments]  # fmt: skip
        print(f"running: {shlex.join(command[1:])}", file=sys.stderr, flush=True)
        subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=True)
        summary = json.loads((out / "summary.json").read_text())
        return summary, pd.read_csv(out / "folds.csv")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", nargs="+", default=list(CONFIGS)[:3], choices=list(CONFIGS))
    parser.add_argument("--folds", type=int, default=10)
    parser.add_argument("--fold-length", type=int, default=20)
    args = parser.parse_args()

    datasets = [("bundled S&P 500", BUNDLED)]
    if REFERENCE_TRAIN.exists():
        datasets.insert(0, ("reference Google 2012-16", REFERENCE_TRAIN))
    verdicts, intervals = [], []
    for data_name, data in datasets:
        for name in args.configs:
            s, folds = backtest(CONFIGS[name], data, args.folds, args.fold_length)
            chosen = ", ".join(f"{k} {v}" for k, v in s["baselines_chosen"].items())
            previous_close = (
                f"{folds['previous_close_rmse'].mean():.2f}"
                if "previous_close_rmse" in folds
                else "-"
            )
            verdicts.append(
                f"| {data_name} | {name} | {s['pooled_rmse']:.2f} | "
                f"{s['pooled_persistence_rmse']:.2f} | {previous_close} | {chosen} | "
                f"{s['pooled_skill']:+.3f} | {s['pooled_skill_persistence']:+.3f} | "
                f"{s['dm_pvalue']:.3g} ({s['verdict']}) | {folds['shrinkage'].mean():.2f} |"
            )
            for kind, scores in (
                ("one-step", s["one_step_intervals"]),
                (f"{args.fold_length}-step", s["recursive_intervals"]),
            ):
                for method, v in scores.items():
                    against = v.get("against_naive")
                    compared = (
                        f"{against['folds_better']} of {against['folds']} "
                        f"(p {against['pvalue']:.2g})"
                        if against
                        else ""
                    )
                    intervals.append(
                        f"| {data_name} | {name} | {kind} | {method} | "
                        f"{100 * v['coverage']:.1f} % | {v['width']:.2f} | {v['winkler']:.2f} | "
                        f"{compared} |"
                    )
            print(verdicts[-1], file=sys.stderr, flush=True)

    rows = args.folds * args.fold_length
    print(f"# Backtests against the strongest baseline: {args.folds} folds x {args.fold_length} "
          f"rows ({rows} points per line)\n")  # fmt: skip
    chosen = "" if args.configs == list(CONFIGS)[:3] else " --configs " + shlex.join(args.configs)
    print(f"Command: `python benchmarks/baselines.py --folds {args.folds} --fold-length "
          f"{args.fold_length}{chosen}`\n")  # fmt: skip
    print("RMSE over all folds' rows pooled (previous close: mean of the folds' RMSE); skill = "
          "1 - RMSE / RMSE of the strongest baseline each fold chose on its training rows; DM: "
          "Diebold-Mariano test of the pooled errors (HLN-corrected); a: shrinkage toward the "
          "baseline, mean over folds (1 for targets that are no log ratio).\n")  # fmt: skip
    print("| data | config | RMSE | persistence RMSE | previous close RMSE | strongest baseline "
          "(folds) | skill vs strongest | skill vs persistence | DM p | a |")  # fmt: skip
    print("|---|---|---:|---:|---:|---|---:|---:|---|---:|")
    print("\n".join(verdicts))
    print("\n## 90 % intervals: coverage, mean width, Winkler score (lower is better)\n")
    print("Recursive bands beside the naive band: the folds in which their Winkler score was "
          "lower, and the Wilcoxon signed-rank p-value of the folds' differences (one origin, "
          "so one observation, per fold).\n")  # fmt: skip
    print("| data | config | horizon | interval | coverage | mean width | Winkler | "
          "folds better than naive |")  # fmt: skip
    print("|---|---|---|---|---:|---:|---:|---|")
    print("\n".join(intervals))


if __name__ == "__main__":
    main()
