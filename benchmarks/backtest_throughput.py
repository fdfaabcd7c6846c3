"""Wall time and memory of `lstm-forecast backtest --folds 10 --horizon 20`, side by side.

Each variant is the real command in its own process (TensorFlow's import and the CSV read
included), on the bundled data unless --data says otherwise:
- `--before TREE`: the same command from another checkout of this repository, run with
  PYTHONPATH=TREE: the commit before the model pool (`git worktree add ../before de84785`), or
  the commit issue 18 measured its "~59 s" at (e2ab423), so that its target reads as a ratio on
  whatever machine this runs on (`--horizon` is the option name both accept);
- `refit 1` (the default): a new model every fold, the folds sharing one traced model;
- `refit 5`, `refit 0`: a new model every 5 folds, or once.
Reported: seconds, peak resident memory of the process, models trained, the training epochs and
their seconds (folds.csv: epochs_run x seconds_per_epoch, so what the rest of the command costs
shows), the pooled skill against the strongest baseline with its Diebold-Mariano p-value, and the
20-step conformal coverage, so that a faster variant shows what it changes in the verdict (a tree
from before those were written shows "-").

Usage (from the repository root):
    python benchmarks/backtest_throughput.py [--before ../before] [--refits 1 5 0] [--data CSV]
Writes benchmarks/results/backtest_throughput.md (with --write).
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

ROOT = Path(__file__).resolve().parent.parent

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


def _number(value: float, spec: str, unit: str = "") -> str:
    return "-" if value != value else f"{value:{spec}}{unit}"  # NaN: not written by that tree


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, help="another checkout to run first")
    parser.add_argument("--refits", type=int, nargs="+", default=[1, 5, 0])
    parser.add_argument("--data", type=Path, help="price CSV; default: the bundled data")
    parser.add_argument("--folds", type=int, default=10)
    parser.add_argument("--fold-length", type=int, default=20)
    parser.add_argument("--write", action="store_true")
    arguments = parser.parse_args()

    common = ["--folds", str(arguments.folds), "--horizon", str(arguments.fold_length)]
    if arguments.data:
        common += ["--data", str(arguments.data.resolve())]
    variants = []
    if arguments.before:
        variants.append((f"before ({arguments.before.name})", arguments.before.resolve(), common))
    for refit in arguments.refits:
        name = f"refit {refit}" + (" (default)" if refit == 1 else "")
        variants.append((name, ROOT, [*common, "--refit", str(refit)]))

    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        for number, (name, tree, command) in enumerate(variants):
            result = run_variant(tree, command, Path(scratch) / f"bt{number}")
            rows.append((name, result))
            print(f"{name}: {result}", flush=True)

    data = arguments.data or "the bundled data (data/sp500.csv)"
    lines = [
        f"# Backtest throughput: `lstm-forecast backtest {' '.join(common[:4])}`",
        "",
        "Command: `python benchmarks/backtest_throughput.py"
        + (f" --before {arguments.before}" if arguments.before else "")
        + f" --refits {' '.join(map(str, arguments.refits))}"
        + (f" --data {arguments.data}" if arguments.data else "")
        + "`",
        "",
        f"Data: {data}. Machine: {platform.machine()}, {os.cpu_count()} CPUs; each variant is "
        "the CLI in its own process, run one after another in this sitting.",
        "",
        "| variant | seconds | × refit 1 | peak MB | models trained | epochs | seconds in epochs | "
        "pooled skill | DM p | 20-step conformal coverage |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    reference = next((r["seconds"] for name, r in rows if name.startswith("refit 1")), None)
    for name, r in rows:
        ratio = f"{r['seconds'] / reference:.2f}" if reference else "-"
        lines.append(
            f"| {name} | {r['seconds']:.1f} | {ratio} | {r['peak_mb']:.0f} | {r['models']} | "
            f"{r['epochs']} | {r['training_seconds']:.1f} | {_number(r['skill'], '+.4f')} | "
            f"{_number(r['p'], '.3f')} | {_number(100 * r['coverage'], '.1f', ' %')} |"
        )
    print("\n".join(lines))
    if arguments.write:
        out = ROOT / "benchmarks" / "results" / "backtest_throughput.md"
        out.write_text("\n".join(lines) + "\n")
        print(f"wrote {out}")


if __name__ == "__main__":
    main()
