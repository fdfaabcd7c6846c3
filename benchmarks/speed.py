"""The speed comparisons, in one go: training, forecast, --help, memory and scaling.

Sections (each can be left out with --skip):
- training: the reference script and `lstm-forecast train --config configs/seed.toml` with each
  --engines, interleaved per seed on the reference data (Google 2012-2016, tested on January 2017):
  RMSE, persistence RMSE, seconds per epoch and speed-up against the reference script;
- forecast: a 30-day recursive forecast (lstm_forecast.forecaster.forecast.sample_paths) after the model is
  loaded, one deterministic path and 100 Monte-Carlo-dropout paths, against the 20 ms target;
- help: wall time of `python -m lstm_forecast --help` and of the `lstm-forecast --help` console
  script, against the 0.3 s target;
- memory: peak resident memory of `train` (each command measured on its own, in a child process)
  on the reference data (configs/seed.toml) and on the bundled S&P 500 data (default config);
- scaling: seconds per epoch as the training windows grow 1x, 4x, 16x the reference data's 1198,
  on a synthetic random walk.
Progress goes to stderr as JSON lines, the Markdown tables to stdout.

Usage (from the repository root, with ../shared beside it):
    python benchmarks/speed.py > benchmarks/results/speed.md
    python benchmarks/speed.py --quick                      # smoke test: 2 epochs, seed 0, ...
    python benchmarks/speed.py --skip training memory --engines fast
"""

from __future__ import annotations

import argparse
import importlib
import importlib.metadata
import json
import os
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
SECTIONS = ("training", "forecast", "help", "memory", "scaling")
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}

REFERENCE_WINDOWS = 1198  # training windows of the reference data: 1258 rows, window 60
SEED_WINDOW_LENGTH = 60  # configs/seed.toml: window 60, level target, no validation split
TEST_ROWS = 30  # rows of the synthetic test CSV
FORECAST_TARGET_MS = 20.0
HELP_TARGET_SECONDS = 0.3
FORECAST_REPEATS = 20
HELP_REPEATS = 10


def progress(**fields) -> None:
    print(json.dumps(fields), file=sys.stderr, flush=True)


def run_command(command: list[str], **kwargs) -> subprocess.CompletedProcess:
    """Run a command from the repository root; on failure exit with the end of its stderr."""
    result = subprocess.run(command, cwd=ROOT, env=ENV, capture_output=True, text=True, **kwargs)
    if result.returncode != 0:
        sys.exit(
            f"command failed with exit status {result.returncode}: {shlex.join(command)}\n"
            f"{result.stderr[-3000:]}"
        )
    return result


def train_command(out: Path, epochs: int, seed: int | None = None, engine: str | None = None,
                  config: str | None = "configs/seed.toml", data: Path | None = None,
                  test: Path | None = None) -> list[str]:  # fmt: skip
    """`python -m lstm_forecast train ... --quiet`; None leaves an option out."""
    command = [sys.executable, "-m", "lstm_forecast", "train", "--out", str(out), "--quiet",
               "--epochs", str(epochs)]  # fmt: skip
    for option, value in (("--config", config), ("--data", data), ("--test", test),
                          ("--seed", seed), ("--engine", engine)):  # fmt: skip
        if value is not None:
            command += [option, str(value)]
    return command


def read_run(out: Path) -> dict:
    """metrics.json of a run, with the first epoch's seconds from history.csv."""
    metrics = json.loads((out / "metrics.json").read_text())
    history = pd.read_csv(out / "history.csv")
    metrics["first_epoch_seconds"] = float(history["seconds"].iloc[0])
    return metrics


def reference_data(data_dir: Path) -> tuple[Path, Path]:
    train_csv = data_dir / "Google_Stock_Price_Train.csv"
    test_csv = data_dir / "Google_Stock_Price_Test.csv"
    if not train_csv.exists() or not test_csv.exists():
        sys.exit(f"{train_csv}: not found; pass --data-dir with the reference CSVs")
    if not (SHARED / "bench" / "seed_reference.py").exists():
        sys.exit(f"{SHARED / 'bench' / 'seed_reference.py'}: not found; it is the reference script")
    return train_csv, test_csv


def reference_command(train_csv: Path, test_csv: Path, epochs: int) -> list[str]:
    script = SHARED / "bench" / "seed_reference.py"
    return [sys.executable, str(script), str(train_csv), str(test_csv), str(epochs)]


# ---- training -----------------------------------------------------------------------------------


def run_reference(train_csv: Path, test_csv: Path, epochs: int, seed: int) -> dict:
    command = reference_command(train_csv, test_csv, epochs)
    result = subprocess.run(
        command, env={**ENV, "SEED": str(seed)}, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        sys.exit(f"reference script failed: {shlex.join(command)}\n{result.stderr[-3000:]}")
    reference = json.loads(result.stdout.strip().splitlines()[-1])
    return {
        "rmse": reference["rmse"],
        "naive_rmse": reference["naive_rmse"],
        "mean_seconds": reference["fit_s"] / reference["epochs"],
        "median_seconds": None,
        "first_epoch_seconds": None,
    }


def run_ours(train_csv: Path, test_csv: Path, epochs: int, seed: int, engine: str) -> dict:
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "run"
        run_command(train_command(out, epochs, seed, engine, data=train_csv, test=test_csv))
        metrics = read_run(out)
    if metrics["engine"] != engine:
        progress(warning=f"--engine {engine} trained with engine {metrics['engine']}")
    # The reference's per-epoch figure is the mean including the first (tracing) epoch: so is
    # "mean_seconds" here, for a like-for-like ratio; the median epoch is the steady state.
    return {
        "rmse": metrics["rmse"],
        "naive_rmse": metrics["naive_rmse"],
        "mean_seconds": metrics["fit_seconds"] / metrics["epochs_run"],
        "median_seconds": metrics["seconds_per_epoch"],
        "first_epoch_seconds": metrics["first_epoch_seconds"],
        "engine": metrics["engine"],
    }


def training_section(args) -> None:
    train_csv, test_csv = reference_data(args.data_dir)
    rows = []
    for seed in args.seeds:  # interleaved: every tool of a seed under the same machine conditions
        rows.append(
            {"tool": "reference script", "seed": seed,
             **run_reference(train_csv, test_csv, args.epochs, seed)}
        )  # fmt: skip
        progress(section="training", **rows[-1])
        for engine in args.engines:
            result = run_ours(train_csv, test_csv, args.epochs, seed, engine)
            rows.append({"tool": f"lstm-forecast --engine {engine}", "seed": seed, **result})
            progress(section="training", **rows[-1])

    print(f"\n## Training: {args.epochs} epochs, reference data (Google, test January 2017)\n")
    print("configs/seed.toml (4 x LSTM(50), Dropout 0.2, batch 32) against the reference script.")
    print("s/epoch mean: fit time / epochs, first (tracing) epoch included, as the reference")
    print("script measures; speed-up: reference s/epoch mean / this tool's (mean or median).\n")
    print("| tool | seed | RMSE | persistence RMSE | s/epoch mean | s/epoch median | first epoch s "
          "| speed-up (mean) | speed-up (median) |")  # fmt: skip
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    reference = {row["seed"]: row for row in rows if row["tool"] == "reference script"}
    for row in rows:
        base = reference[row["seed"]]["mean_seconds"]
        median = row["median_seconds"]
        first = row["first_epoch_seconds"]
        print(
            f"| {row['tool']} | {row['seed']} | {row['rmse']:.2f} | {row['naive_rmse']:.2f} | "
            f"{row['mean_seconds']:.3f} | {'-' if median is None else f'{median:.3f}'} | "
            f"{'-' if first is None else f'{first:.2f}'} | {base / row['mean_seconds']:.2f}x | "
            f"{'-' if median is None else f'{base / median:.2f}x'} |"
        )

    def rmse_range(tool: str) -> str:
        values = [row["rmse"] for row in rows if row["tool"] == tool]
        return f"{min(values):.2f}-{max(values):.2f}"

    summary = [f"reference RMSE {rmse_range('reference script')}"]
    for engine in args.engines:
        tool = f"lstm-forecast --engine {engine}"
        speedups = [
            reference[row["seed"]]["mean_seconds"] / row["mean_seconds"]
            for row in rows
            if row["tool"] == tool
        ]
        summary.append(
            f"{engine}: mean speed-up {statistics.mean(speedups):.2f}x, RMSE {rmse_range(tool)}"
        )
    print(f"\nOver seeds {' '.join(map(str, args.seeds))}: " + "; ".join(summary) + ".")


# ---- forecast -----------------------------------------------------------------------------------


def forecast_section(args) -> None:
    # forecast_speed.py's timer: (first call ms, median ms of the next `repeats` calls)
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    timed = importlib.import_module("forecast_speed").timed

    from lstm_forecast.config.load import load_config
    from lstm_forecast.forecaster.forecast import sample_paths
    from lstm_forecast.model.build import build_model
    from lstm_forecast.prep.scaling import fit_scaler
    from lstm_forecast.prep.windows import Inputs

    repeats = args.repeats or FORECAST_REPEATS
    rows = []
    for name in ("default", "configs/seed.toml"):
        config = load_config(None if name == "default" else ROOT / name)
        inputs = Inputs.from_config(config)
        columns = len(inputs.normalized)
        # random weights and window: the time does not depend on them
        model = build_model(config.model, inputs.length, columns)
        window = np.random.default_rng(0).uniform(0.5, 1.5, (inputs.length, columns))
        scaler = fit_scaler(window)
        layers = " + ".join(f"{layer.cell or config.model.cell}({layer.units})"
                            for layer in config.model.layers)  # fmt: skip
        for samples in (0, 100):
            forecast = partial(
                sample_paths, model, window, args.horizon, samples, scaler, inputs.normalized
            )
            first, median = timed(forecast, repeats)
            rows.append((name, layers, samples, first, median))
            progress(section="forecast", config=name, samples=samples, first_ms=first, ms=median)

    print(f"\n## Forecast: {args.horizon}-day recursive forecast after load\n")
    print(
        f"lstm_forecast.forecaster.forecast.sample_paths, random weights; ms: median of {repeats} calls"
    )
    print("after the first (tracing and XLA compilation), which is reported on its own.")
    print("Samples 0: one deterministic path; 100: Monte-Carlo dropout paths.\n")
    print(f"| config | model | samples | first call ms | ms per forecast | "
          f"meets {FORECAST_TARGET_MS:.0f} ms |")  # fmt: skip
    print("|---|---|---:|---:|---:|---|")
    for name, layers, samples, first, median in rows:
        meets = "yes" if median <= FORECAST_TARGET_MS else "no"
        print(f"| {name} | {layers} | {samples} | {first:.0f} | {median:.1f} | {meets} |")


# ---- help ---------------------------------------------------------------------------------------


def console_script() -> str | None:
    beside = Path(sys.executable).parent / "lstm-forecast"
    return str(beside) if beside.exists() else shutil.which("lstm-forecast")


def help_section(args) -> None:
    repeats = args.repeats or HELP_REPEATS
    commands = [("python -m lstm_forecast --help", [sys.executable, "-m", "lstm_forecast"])]
    script = console_script()
    if script is None:
        progress(warning="lstm-forecast console script not found; pip install -e . first")
    else:
        commands.append(("lstm-forecast --help", [script]))
    rows = []
    for label, command in commands:
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            subprocess.run([*command, "--help"], cwd=ROOT, env=ENV, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, check=True)  # fmt: skip
            times.append(time.perf_counter() - start)
        rows.append((label, min(times), statistics.median(times)))
        progress(section="help", command=label, min_s=rows[-1][1], median_s=rows[-1][2])

    print(f"\n## --help: wall time of the whole command, {repeats} runs\n")
    print(f"| command | min s | median s | meets {HELP_TARGET_SECONDS} s (median) |")
    print("|---|---:|---:|---|")
    for label, fastest, median in rows:
        meets = "yes" if median <= HELP_TARGET_SECONDS else "no"
        print(f"| `{label}` | {fastest:.3f} | {median:.3f} | {meets} |")


# ---- memory -------------------------------------------------------------------------------------

# Runs the command as its only child: the children's ru_maxrss is then the command's own peak
MAX_RSS_WRAPPER = (
    "import resource, subprocess, sys; r = subprocess.run(sys.argv[1:]); "
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); sys.exit(r.returncode)"
)


def peak_rss_mib(command: list[str]) -> float:
    result = run_command([sys.executable, "-c", MAX_RSS_WRAPPER, *command])
    return int(result.stdout.strip().splitlines()[-1]) / 1024  # ru_maxrss: KiB on Linux


def memory_section(args) -> None:
    train_csv, test_csv = reference_data(args.data_dir)
    bundled = ROOT / "data" / "sp500.csv"
    epochs = args.memory_epochs
    rows = []
    rss = peak_rss_mib(reference_command(train_csv, test_csv, epochs))
    rows.append(("reference script", "reference (Google)", "-", REFERENCE_WINDOWS, rss))
    progress(section="memory", tool="reference script", peak_rss_mib=rss)
    with tempfile.TemporaryDirectory() as scratch:
        for engine in args.engines:
            for data_label, config, data, test in (
                ("reference (Google)", "configs/seed.toml", train_csv, test_csv),
                ("bundled S&P 500", None, bundled, None),
            ):
                out = Path(scratch) / f"run-{engine}-{len(rows)}"
                command = train_command(out, epochs, engine=engine, config=config, data=data,
                                        test=test)  # fmt: skip
                rss = peak_rss_mib(command)
                metrics = read_run(out)
                tool = f"lstm-forecast {config or 'default config'} --engine {engine}"
                rows.append((tool, data_label, metrics["engine"], metrics["train_windows"], rss))
                progress(section="memory", tool=tool, data=data_label, peak_rss_mib=rss)

    print(f"\n## Memory: peak resident set size of the whole command, {epochs} epochs\n")
    print("| command | data | engine used | train windows | peak RSS MiB |")
    print("|---|---|---|---:|---:|")
    for tool, data_label, engine, windows, rss in rows:
        print(f"| {tool} | {data_label} | {engine} | {windows} | {rss:.0f} |")


# ---- scaling ------------------------------------------------------------------------------------


def random_walk_csvs(folder: Path, windows: int, seed: int = 0) -> tuple[Path, Path]:
    """Train CSV giving `windows` training windows under configs/seed.toml, and a test CSV of
    TEST_ROWS rows continuing it: a geometric random walk of Open prices on business days."""
    train_rows = windows + SEED_WINDOW_LENGTH
    rng = np.random.default_rng(seed)
    log_returns = rng.normal(0.0003, 0.015, train_rows + TEST_ROWS)
    frame = pd.DataFrame(
        {
            "Date": pd.bdate_range("1950-01-02", periods=train_rows + TEST_ROWS).strftime(
                "%Y-%m-%d"
            ),
            "Open": np.round(100 * np.exp(np.cumsum(log_returns)), 4),
        }
    )
    train_csv, test_csv = folder / f"walk-{windows}-train.csv", folder / f"walk-{windows}-test.csv"
    frame.iloc[:train_rows].to_csv(train_csv, index=False)
    frame.iloc[train_rows:].to_csv(test_csv, index=False)
    return train_csv, test_csv


def scaling_section(args) -> None:
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        for multiplier in args.multipliers:
            train_csv, test_csv = random_walk_csvs(Path(scratch), multiplier * REFERENCE_WINDOWS)
            for engine in args.engines:
                out = Path(scratch) / f"run-{engine}-{multiplier}"
                command = train_command(out, args.scaling_epochs, seed=0, engine=engine,
                                        data=train_csv, test=test_csv)  # fmt: skip
                run_command(command)
                metrics = read_run(out)
                rows.append((engine, multiplier, metrics["train_windows"],
                             metrics["seconds_per_epoch"]))  # fmt: skip
                progress(section="scaling", engine=engine, multiplier=multiplier,
                         windows=metrics["train_windows"], s_per_epoch=rows[-1][3])  # fmt: skip

    print(f"\n## Scaling: seconds per epoch against training windows, {args.scaling_epochs} epochs")
    print("\nconfigs/seed.toml on a synthetic random walk; s/epoch: median epoch. Linear scaling")
    print("would give a ratio equal to the multiplier.\n")
    print("| engine | multiplier | train windows | s/epoch median | ratio to 1x |")
    print("|---|---:|---:|---:|---:|")
    base = {engine: seconds for engine, multiplier, _, seconds in rows if multiplier == 1}
    for engine, multiplier, windows, seconds in sorted(
        rows, key=lambda row: (args.engines.index(row[0]), row[1])
    ):  # run interleaved, shown per engine
        ratio = f"{seconds / base[engine]:.2f}" if engine in base else "-"
        print(f"| {engine} | {multiplier}x | {windows} | {seconds:.3f} | {ratio} |")


# ---- main ---------------------------------------------------------------------------------------


def header() -> str:
    versions = ", ".join(
        f"{package} {importlib.metadata.version(package)}" for package in ("tensorflow", "keras")
    )
    processor = platform.processor() or platform.machine()
    return f"Run on {date.today().isoformat()}; {processor}, {os.cpu_count()} CPUs; {versions}."


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip", nargs="+", choices=SECTIONS, default=[], metavar="SECTION",
                        help=f"sections to leave out: {', '.join(SECTIONS)}")  # fmt: skip
    parser.add_argument("--engines", nargs="+", default=["fast", "keras"],
                        choices=["auto", "fast", "keras"])  # fmt: skip
    parser.add_argument("--epochs", type=int, default=100, help="training section")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1], help="training section")
    parser.add_argument("--data-dir", type=Path, default=SHARED / "data",
                        help="the reference CSVs (training and memory sections)")  # fmt: skip
    parser.add_argument("--horizon", type=int, default=30, help="forecast section")
    parser.add_argument("--repeats", type=int, default=None,
                        help=f"timed calls: default {FORECAST_REPEATS} forecasts (after one "
                             f"warm-up call), {HELP_REPEATS} --help runs")  # fmt: skip
    parser.add_argument("--memory-epochs", type=int, default=3)
    parser.add_argument("--scaling-epochs", type=int, default=3)
    parser.add_argument("--multipliers", type=int, nargs="+", default=[1, 4, 16],
                        help="scaling section: training windows as multiples of 1198")  # fmt: skip
    parser.add_argument("--quick", action="store_true",
                        help="smoke test: 2 epochs everywhere, seed 0, 2 repeats, multipliers 1 2")  # fmt: skip
    args = parser.parse_args()
    if args.quick:
        args.epochs = args.memory_epochs = args.scaling_epochs = 2
        args.seeds, args.repeats, args.multipliers = [0], 2, [1, 2]
    sections = [section for section in SECTIONS if section not in args.skip]
    if {"training", "memory"} & set(sections):
        reference_data(args.data_dir)  # exits with a message when ../shared is missing

    print("# Speed: training, forecast, --help, memory, scaling\n")
    print(header())
    run_section = {
        "training": training_section,
        "forecast": forecast_section,
        "help": help_section,
        "memory": memory_section,
        "scaling": scaling_section,
    }
    for section in sections:
        started = time.perf_counter()
        progress(section=section, status="started")
        run_section[section](args)
        sys.stdout.flush()
        progress(section=section, status="done", seconds=round(time.perf_counter() - started, 1))
    print(f"\nCommand: `python {shlex.join(['benchmarks/speed.py', *sys.argv[1:]])}`")


if __name__ == "__main__":
    main()
