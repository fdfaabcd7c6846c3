"""Trials per hour of `lstm-forecast tune`, and what the best config does on rows no trial saw.

Each variant is the real command in its own process: `tune --config configs/tune.toml --trials N`
on the bundled S&P 500 without its last HELD_OUT rows (so that the search never sees them), then
`backtest --config best.toml --folds 10 --fold-length 20` on the whole file: its 10 folds are
exactly the held-out rows. Variants:
- `--before TREE`: the same commands from another checkout (PYTHONPATH=TREE), e.g. the commit
  before warm refits (`git worktree add ../before REV`);
- this checkout, once per setting given with --variant NAME=SETTING (e.g.
  `scratch=backtest.refit_from=scratch` through --set, or `none=tune.pruner="none"` into the
  [tune] table), and once as it is.
Reported per variant: seconds, trials completed and pruned, completed trials per hour, the best
trial's pooled skill in the search, and the held-out backtest of its config (pooled skill, DM p).

Usage (from the repository root):
    python benchmarks/tune_throughput.py [--before ../before] [--trials 30]
        [--variant scratch=backtest.refit_from=scratch] [--write]
Writes benchmarks/results/tune_throughput.md (with --write).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
HELD_OUT = 200  # the last rows of data/sp500.csv: 10 folds of 20 for the best config only


def run(tree: Path, arguments: list[str]) -> float:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    command = [sys.executable, "-m", "lstm_forecast", *arguments]
    started = time.perf_counter()
    done = subprocess.run(command, cwd=tree, env=env, capture_output=True, text=True, check=False)
    if done.returncode:
        raise SystemExit(f"{' '.join(command)} failed: {done.stderr.strip()[-2000:]}")
    return time.perf_counter() - started


def variant(tree: Path, settings: list[str], data: Path, full: Path, trials: int, out: Path):
    # tune.KEY=VALUE goes into the [tune] table of a copy of the config; others through --set
    table = [s.removeprefix("tune.") for s in settings if s.startswith("tune.")]
    extra = [item for s in settings if not s.startswith("tune.") for item in ("--set", s)]
    config = out / "tune.toml"
    out.mkdir(parents=True, exist_ok=True)
    lines = (tree / "configs" / "tune.toml").read_text().splitlines()  # each checkout's own
    keys = {s.partition("=")[0].strip() for s in table}
    lines = [line for line in lines if line.partition("=")[0].strip() not in keys]  # replaced
    text = "\n".join(lines) + "\n"
    config.write_text(text.replace("[tune]\n", "[tune]\n" + "".join(f"{s}\n" for s in table), 1))
    seconds = run(tree, ["tune", "--config", str(config), "--data",
                         str(data), "--trials", str(trials), "--out", str(out / "tune"), *extra])  # fmt: skip
    with (out / "tune" / "trials.csv").open(newline="") as file:
        states = [row["state"] for row in csv.DictReader(file)]
    study = json.loads((out / "tune" / "study.json").read_text())
    best = (study.get("best") or [{}])[0]
    run(tree, ["backtest", "--config", str(out / "tune" / "best.toml"), "--data", str(full),
               "--folds", "10", "--fold-length", "20", "--out", str(out / "held_out")])  # fmt: skip
    summary = json.loads((out / "held_out" / "summary.json").read_text())
    return {
        "seconds": seconds,
        "complete": states.count("complete"),
        "pruned": states.count("pruned"),
        "per_hour": states.count("complete") * 3600 / seconds,
        "best_skill": best.get("value", float("nan")),
        "held_out_skill": summary["pooled_skill"],
        "held_out_p": summary["dm_pvalue"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path)
    parser.add_argument("--trials", type=int, default=30)
    parser.add_argument("--variant", action="append", default=[], help="NAME=SECTION.KEY=VALUE")
    parser.add_argument("--write", action="store_true")
    arguments = parser.parse_args()

    variants = []
    if arguments.before:
        variants.append((f"before ({arguments.before.name})", arguments.before.resolve(), []))
    for text in arguments.variant:
        name, _, setting = text.partition("=")
        variants.append((name, ROOT, [setting]))
    variants.append(("this checkout", ROOT, []))
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        full = ROOT / "data" / "sp500.csv"
        searched = Path(scratch) / "sp500_searched.csv"
        frame = pd.read_csv(full)
        frame.iloc[:-HELD_OUT].to_csv(searched, index=False)
        for number, (name, tree, settings) in enumerate(variants):
            out = Path(scratch) / f"v{number}"
            result = variant(tree, settings, searched, full, arguments.trials, out)
            rows.append((name, settings, result))
            print(f"{name}: {result}", flush=True)

    lines = [
        f"# Tune throughput: `lstm-forecast tune --config configs/tune.toml --trials {arguments.trials}`",
        "",
        "Command: `python benchmarks/tune_throughput.py"
        + (f" --before {arguments.before}" if arguments.before else "")
        + f" --trials {arguments.trials}"
        + "".join(f" --variant {text}" for text in arguments.variant)
        + "`",
        "",
        f"Data: data/sp500.csv without its last {HELD_OUT} rows for the search; then the best "
        "config's `backtest --folds 10 --fold-length 20` on the whole file, whose folds are those "
        f"{HELD_OUT} held-out rows. Machine: {platform.machine()}, {os.cpu_count()} CPUs; one "
        "process at a time, one sitting.",
        "",
        "| variant | settings | seconds | completed | pruned | completed per hour | "
        "best trial's skill | held-out skill of its config | held-out DM p |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, settings, r in rows:
        lines.append(
            f"| {name} | {' '.join(settings) or '-'} | {r['seconds']:.0f} | {r['complete']} | "
            f"{r['pruned']} | {r['per_hour']:.0f} | {r['best_skill']:+.4f} | "
            f"{r['held_out_skill']:+.4f} | {r['held_out_p']:.2f} |"
        )
    print("\n".join(lines))
    if arguments.write:
        out = ROOT / "benchmarks" / "results" / "tune_throughput.md"
        out.write_text("\n".join(lines) + "\n")
        print(f"wrote {out}")


if __name__ == "__main__":
    main()
