"""Wall time and memory of `lstm-forecast backtest --folds 10 --horizon 20`, side by side.

Each variant is the real command in its own process (TensorFlow's import and the CSV read
included), on the bundled data unless --data says otherwise:
- `--before TREE`: the same command from another checkout of this repository, run with
  PYTHONPATH=TREE (`git worktree add ../before REV`), so that a target given as a share of an
  earlier time reads as a ratio on whatever machine this runs on;
- `refit 1 from previous` (the default): a new model every fold, each starting from the previous
  fold's weights; `refit 1 from scratch`: from fresh weights every fold (the strict variant);
- `--refits 5 0`: a new model every 5 folds, or once.
Also timed in the same sitting, before and after the variants: one training epoch of the
reference example (../shared/bench/seed_reference.py on the reference Google data, 5 epochs, the
mean), so that each time reads in those epochs too.
Reported: seconds, peak resident memory of the process, models trained, the training epochs and
their seconds (folds.csv: epochs_run x seconds_per_epoch, so what the rest of the command costs
shows), the pooled skill against the strongest baseline with its Diebold-Mariano p-value, and the
20-step conformal coverage, so that a faster variant shows what it changes in the verdict (a tree
from before those were written shows "-").

Usage (from the repository root):
    python benchmarks/backtest_throughput.py [--before ../before] [--refits 1 5 0]
        [--refit-from previous scratch] [--repeat N] [--data CSV] [--write]
Writes benchmarks/results/backtest_throughput.md (with --write).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
REFERENCE_EPOCHS = 5

# the child runs the CLI and reports its own peak memory (ru_maxrss of the finished command)
RUNNER = """
import resource, subprocess, sys
code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
if code.returncode:
    sys.exit(code.stderr[-2000:])
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


def run_variant(tree: Path, arguments: list[str], out: Path) -> dict:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    command = [sys.executable, "-m", "lstm_forecast", "backtest", *arguments, "--out", str(out)]
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", RUNNER, *command],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - started
    if done.returncode:
        raise SystemExit(f"{' '.join(command)} failed: {done.stderr.strip()[-2000:]}")
    summary = json.loads((out / "summary.json").read_text())
    conformal = summary.get("recursive_intervals", {}).get("conformal", {})
    with (out / "folds.csv").open(newline="") as file:
        folds = list(csv.DictReader(file))
    epochs = [int(fold["epochs_run"]) for fold in folds if fold.get("epochs_run")]
    return {
        "seconds": seconds,
        "peak_mb": int(done.stdout.strip().splitlines()[-1]) / 1024,
        "models": summary.get("models_trained", summary["folds"]),
        "epochs": sum(epochs),
        "training_seconds": sum(
            int(fold["epochs_run"]) * float(fold["seconds_per_epoch"])
            for fold in folds
            if fold.get("epochs_run")
        ),
        "skill": summary.get("pooled_skill", float("nan")),
        "p": summary.get("dm_pvalue", float("nan")),
        "coverage": conformal.get("coverage", float("nan")),
    }


def reference_epoch() -> float:
    """Seconds of one training epoch of the reference example (the mean of REFERENCE_EPOCHS)."""
    script = SHARED / "bench" / "seed_reference.py"
    data = SHARED / "data"
    train, test = data / "Google_Stock_Price_Train.csv", data / "Google_Stock_Price_Test.csv"
    if not script.exists() or not train.exists():
        raise SystemExit(f"{script} and {train}: needed for the reference epoch")
    command = [sys.executable, str(script), str(train), str(test), str(REFERENCE_EPOCHS)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode:
        raise SystemExit(f"{' '.join(command)} failed: {done.stderr.strip()[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])["fit_s_per_epoch"]


def _number(value: float, spec: str, unit: str = "") -> str:
    return "-" if value != value else f"{value:{spec}}{unit}"  # NaN: not written by that tree


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, help="another checkout to run first")
    parser.add_argument("--refits", type=int, nargs="+", default=[1])
    parser.add_argument(
        "--refit-from", nargs="+", default=["previous", "scratch"], choices=["previous", "scratch"]
    )
    parser.add_argument("--data", type=Path, help="price CSV; default: the bundled data")
    parser.add_argument("--folds", type=int, default=10)
    parser.add_argument("--fold-length", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=1, help="rounds of every variant")
    parser.add_argument("--write", action="store_true")
    arguments = parser.parse_args()

    common = ["--folds", str(arguments.folds), "--horizon", str(arguments.fold_length)]
    if arguments.data:
        common += ["--data", str(arguments.data.resolve())]
    variants = []
    if arguments.before:
        variants.append((f"before ({arguments.before.name})", arguments.before.resolve(), common))
    for refit in arguments.refits:
        for start in arguments.refit_from if refit != 0 else ["previous"]:
            name = f"refit {refit}" + (f" from {start}" if refit != 0 else "")
            name += " (default)" if (refit, start) == (1, "previous") else ""
            variants.append((name, ROOT, [*common, "--refit", str(refit), "--refit-from", start]))

    # rounds: every variant once per round, the reference epoch before each round and after the
    # last; a machine whose speed drifts then moves every variant alike, and the median is taken
    runs: dict[str, list[dict]] = {name: [] for name, _, _ in variants}
    epochs = []
    with tempfile.TemporaryDirectory() as scratch:
        for round_number in range(arguments.repeat):
            epochs.append(reference_epoch())
            print(f"reference epoch: {epochs[-1]:.3f} s", flush=True)
            for number, (name, tree, command) in enumerate(variants):
                out = Path(scratch) / f"bt{round_number}_{number}"
                runs[name].append(run_variant(tree, command, out))
                print(f"{name}: {runs[name][-1]}", flush=True)
    epochs.append(reference_epoch())
    print(f"reference epoch: {epochs[-1]:.3f} s", flush=True)
    epoch = statistics.median(epochs)
    rows = []
    for name, results in runs.items():
        middle = dict(results[0])
        middle["seconds"] = statistics.median(r["seconds"] for r in results)
        middle["all_seconds"] = [r["seconds"] for r in results]
        rows.append((name, middle))

    data = arguments.data or "the bundled data (data/sp500.csv)"
    lines = [
        f"# Backtest throughput: `lstm-forecast backtest {' '.join(common[:4])}`",
        "",
        "Command: `python benchmarks/backtest_throughput.py"
        + (f" --before {arguments.before}" if arguments.before else "")
        + f" --refits {' '.join(map(str, arguments.refits))}"
        + f" --refit-from {' '.join(arguments.refit_from)}"
        + (f" --repeat {arguments.repeat}" if arguments.repeat > 1 else "")
        + (f" --data {arguments.data}" if arguments.data else "")
        + "`",
        "",
        f"Data: {data}. Machine: {platform.machine()}, {os.cpu_count()} CPUs; each variant is "
        f"the CLI in its own process, run one after another in this sitting, {arguments.repeat} "
        "round(s) of all variants (seconds: the median; every round's in the last column). One "
        "training epoch of the reference example (seed_reference.py, 5 epochs, the mean), "
        "before each round and after the last: "
        + ", ".join(f"{e:.3f}" for e in epochs)
        + f" s; the column in those epochs divides by their median, {epoch:.3f} s.",
        "",
        "| variant | seconds | × first | reference epochs | peak MB | models trained | epochs | "
        "seconds in epochs | pooled skill | DM p | 20-step conformal coverage | every round |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    reference = rows[0][1]["seconds"]
    for name, r in rows:
        ratio = f"{r['seconds'] / reference:.2f}"
        lines.append(
            f"| {name} | {r['seconds']:.1f} | {ratio} | {r['seconds'] / epoch:.1f} | "
            f"{r['peak_mb']:.0f} | {r['models']} | "
            f"{r['epochs']} | {r['training_seconds']:.1f} | {_number(r['skill'], '+.4f')} | "
            f"{_number(r['p'], '.3f')} | {_number(100 * r['coverage'], '.1f', ' %')} | "
            f"{' '.join(f'{v:.1f}' for v in r['all_seconds'])} |"
        )
    print("\n".join(lines))
    if arguments.write:
        out = ROOT / "benchmarks" / "results" / "backtest_throughput.md"
        out.write_text("\n".join(lines) + "\n")
        print(f"wrote {out}")


if __name__ == "__main__":
    main()
