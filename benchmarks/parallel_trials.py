"""Models side by side where the cores are idle: `tune --jobs 1` against `--jobs 2`, same trials.

One small LSTM (2 x 32 units) does not keep two cores busy: the fast trainer cuts each batch
into a shard per core, but Adam's update, the fold's calibration and forecasts, and Python run
between its graph calls. This runs the same search with one worker process and with several
(`tune --jobs N`: each pinned to its share of the cores), and reports completed trials per hour
and the cores used (CPU seconds over wall seconds).

To compare equal work, every trial is the same: the default model of configs/tune.toml with its
[tune.params] replaced by one that can take a single value (`train.seed` chosen from [0]), so each
trial is one 5-fold backtest of the default config on the bundled S&P 500. Rounds alternate the
variants, so a machine whose speed drifts slows both alike.

Usage (from the repository root):
    python benchmarks/parallel_trials.py [--trials 12] [--jobs 1 2] [--rounds 2] [--write]
Writes benchmarks/results/parallel_trials.md (with --write).
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def search_config(folder: Path) -> Path:
    """configs/tune.toml with one parameter of one value: every trial the default model."""
    text = (ROOT / "configs" / "tune.toml").read_text()
    head = text[: text.index("[tune.params]")]
    config = folder / "same_trials.toml"
    config.write_text(head + '[tune.params]\n"train.seed" = {choices = [0]}\n')
    return config


def run(config: Path, trials: int, jobs: int, out: Path) -> dict:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    command = [sys.executable, "-m", "lstm_forecast", "tune", "--config", str(config),
               "--trials", str(trials), "--jobs", str(jobs), "--out", str(out)]  # fmt: skip
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if done.returncode:
        raise SystemExit(f"{' '.join(command)} failed: {done.stderr.strip()[-2000:]}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    with open(out / "trials.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    completed = sum(row["state"] == "complete" for row in rows)
    workers = len({row["worker"] for row in rows})
    return {"seconds": seconds, "cpu": cpu, "completed": completed, "workers": workers}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=12)
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--write", action="store_true")
    arguments = parser.parse_args()

    results: dict[int, list[dict]] = {jobs: [] for jobs in arguments.jobs}
    with tempfile.TemporaryDirectory() as folder:
        config = search_config(Path(folder))
        for round_number in range(arguments.rounds):
            for jobs in arguments.jobs:
                out = Path(folder) / f"jobs{jobs}-round{round_number}"
                result = run(config, arguments.trials, jobs, out)
                results[jobs].append(result)
                print(f"round {round_number + 1}, --jobs {jobs}: {result}", flush=True)

    first = statistics.median(r["seconds"] for r in results[arguments.jobs[0]])
    lines = [
        "# Trials side by side: `lstm-forecast tune --jobs N`, the same trials",
        "",
        f"Command: `python benchmarks/parallel_trials.py --trials {arguments.trials} "
        f"--jobs {' '.join(map(str, arguments.jobs))} --rounds {arguments.rounds}`",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs. Every trial is the default "
        "model's 5-fold backtest of the bundled S&P 500 (configs/tune.toml's [tune] table, "
        "`train.seed` chosen from [0]); each variant is the CLI in its own process, "
        f"{arguments.rounds} alternating rounds in one sitting (seconds: the median; every "
        "round's in the last column). Cores used: CPU seconds of all its processes over wall "
        "seconds.",
        "",
        "| --jobs | seconds | × --jobs 1 | completed | completed per hour | cores used | workers "
        "that ran trials | every round |",
        "|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for jobs, rounds in results.items():
        seconds = statistics.median(r["seconds"] for r in rounds)
        completed = statistics.median(r["completed"] for r in rounds)
        cores = statistics.median(r["cpu"] / r["seconds"] for r in rounds)
        workers = max(r["workers"] for r in rounds)
        every = " ".join(f"{r['seconds']:.1f}" for r in rounds)
        lines.append(
            f"| {jobs} | {seconds:.1f} | {seconds / first:.2f} | {completed:g} | "
            f"{completed / seconds * 3600:.0f} | {cores:.2f} | {workers} | {every} |"
        )
    text = "\n".join(lines) + "\n"
    print(text)
    if arguments.write:
        path = ROOT / "benchmarks" / "results" / "parallel_trials.md"
        path.write_text(re.sub(r"\n{3,}", "\n\n", text))
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
