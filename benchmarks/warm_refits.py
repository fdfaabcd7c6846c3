"""Do warm-started refits give the verdicts fresh refits give? Ten daily series, three seeds each.

Per series (benchmarks/strategy_league.SERIES: indices, stocks, commodities, FX; each one's last
1500 rows): the default config's walk-forward backtest, 10 folds of 20 rows, a new model every
fold, once with `[backtest] refit_from = "scratch"` (every fold's model from fresh weights) and
once with "previous" (each fold's model trained on from the previous fold's), for the training
seeds 0, 1, 2 on the same folds. Reported per series and variant: the pooled skill against the
strongest baseline, its Diebold-Mariano p-value and verdict (better / worse at p < 0.05, else a
tie), the 20-step band's coverage, the one-step band's coverage, training epochs and seconds.

"Agree within the seed spread": for each series, the mean over the seeds of warm refits is
within the range the three seeds of fresh refits span (skill and both coverages), or differs by
less than that range (a coverage: or by less than one row of the 200); and every warm refit's DM verdict is one that some seed of fresh refits
gave too (seed k of one variant is no pair of seed k of the other: two other random paths). The
seed spread is what changing only the training seed does to the strict variant.

Each backtest's numbers are cached in benchmarks/results/warm_refits.csv (delete it to measure
again); the table goes to benchmarks/results/warm_refits.md with --write.

Warm variants are named previous-pN: `[train] warm_start_patience` N ("previous": the config's
default); `--warm previous-p1 previous-p2` runs both, each compared with the fresh refits.

Usage (from the repository root):
    python benchmarks/warm_refits.py [--series NAME ...] [--seeds 0 1 2] [--warm previous ...]
        [--write]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
import strategy_league  # noqa: E402 (the series loaders, beside this file)

from lstm_forecast.config.schema import Config  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
CACHE = RESULTS / "warm_refits.csv"
FOLDS, FOLD_LENGTH = 10, 20
METRICS = ("skill", "coverage_20", "coverage_1")


def backtest(frame: pd.DataFrame, name: str, variant: str, seed: int) -> dict:
    from lstm_forecast.backtest.walk import walk_forward
    from lstm_forecast.config.load import with_overrides
    from lstm_forecast.config.schema import Config

    start, _, patience = variant.partition("-p")  # previous-p1: warm_start_patience 1
    config = with_overrides(
        Config(),
        data__target=strategy_league.TARGET,
        forecast__samples=0,
        backtest__refit=1,
        backtest__refit_from=start,
        train__seed=seed,
        train__warm_start_patience=int(patience) if patience else None,
    )
    started = time.perf_counter()
    result = walk_forward(config, frame, FOLDS, FOLD_LENGTH, name, strategies=False)
    summary = result.summary
    folds = result.folds
    return {
        "series": name,
        "refit_from": variant,
        "seed": seed,
        "skill": summary["pooled_skill"],
        "dm_p": summary["dm_pvalue"],
        "verdict": verdict(summary["pooled_skill"], summary["dm_pvalue"]),
        "coverage_20": summary["coverage_pooled"],
        # the online band every predictions.csv row carries (ACI, the default)
        "coverage_1": summary["one_step_intervals"].get("adaptive", {}).get("coverage", np.nan),
        "epochs": int(folds["epochs_run"].sum()),
        "seconds": time.perf_counter() - started,
    }


def verdict(skill: float, p: float) -> str:
    if not p < 0.05:
        return "tie"
    return "better" if skill > 0 else "worse"


def agreement(runs: pd.DataFrame, variant: str) -> pd.DataFrame:
    """Per series: each metric's seed range under fresh refits, the warm refits' (`variant`)
    mean minus the fresh refits' mean, whether that is within the range, and whether every
    seed's verdict agrees."""
    rows = []
    for name, group in runs.groupby("series", sort=False):
        fresh = group[group["refit_from"] == "scratch"].set_index("seed").sort_index()
        warm = group[group["refit_from"] == variant].set_index("seed").sort_index()
        row = {"series": name, "variant": variant}
        for metric in METRICS:
            spread = fresh[metric].max() - fresh[metric].min()
            shift = warm[metric].mean() - fresh[metric].mean()
            low, high = fresh[metric].min(), fresh[metric].max()
            # a coverage counts rows: a shift below one of the FOLDS * FOLD_LENGTH rows is none
            resolution = 0.0 if metric == "skill" else 1.0 / (FOLDS * FOLD_LENGTH)
            tolerance = max(spread, resolution) + 1e-12
            inside = low <= warm[metric].mean() <= high or abs(shift) <= tolerance
            warm_spread = warm[metric].max() - warm[metric].min()
            either = inside or abs(shift) <= max(warm_spread, resolution) + 1e-12
            row |= {f"{metric}_spread": spread, f"{metric}_shift": shift, f"{metric}_ok": inside,
                    f"{metric}_warm_spread": warm_spread, f"{metric}_either": either}  # fmt: skip
        # seeds are no pairs across variants (two other random paths): a warm verdict agrees
        # when some seed of fresh refits gave it too
        row["verdicts_ok"] = set(warm["verdict"]) <= set(fresh["verdict"])
        row["epochs_ratio"] = warm["epochs"].sum() / fresh["epochs"].sum()
        row["seconds_ratio"] = warm["seconds"].sum() / fresh["seconds"].sum()
        rows.append(row)
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", nargs="+", default=list(strategy_league.SERIES))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--warm", nargs="+", default=["previous"], help="previous, previous-pN")
    parser.add_argument("--write", action="store_true")
    arguments = parser.parse_args()
    default = f"previous-p{Config().train.warm_start_patience}"
    arguments.warm = [default if v == "previous" else v for v in arguments.warm]

    runs = pd.read_csv(CACHE) if CACHE.exists() else pd.DataFrame()
    for name in arguments.series:
        try:
            frame = strategy_league.load(name)
        except Exception as error:  # a package that is not installed: said, not hidden
            print(f"{name}: skipped ({type(error).__name__}: {error})", file=sys.stderr)
            continue
        for seed in arguments.seeds:
            for start in ("scratch", *arguments.warm):
                done = (
                    not runs.empty
                    and ((runs["series"] == name) & (runs["refit_from"] == start)
                         & (runs["seed"] == seed)).any()
                )  # fmt: skip
                if done:
                    continue
                row = backtest(frame, name, start, seed)
                print(row, file=sys.stderr, flush=True)
                runs = pd.concat([runs, pd.DataFrame([row])], ignore_index=True)
                runs.to_csv(CACHE, index=False)
    runs = runs[runs["series"].isin(arguments.series) & runs["seed"].isin(arguments.seeds)]
    lines = []
    for variant in arguments.warm:
        lines += table(runs, agreement(runs, variant), arguments, variant) + [""]
    print("\n".join(lines))
    if arguments.write:
        (RESULTS / "warm_refits.md").write_text("\n".join(lines) + "\n")


def table(runs: pd.DataFrame, agree: pd.DataFrame, arguments, warm: str) -> list[str]:
    seeds = " ".join(map(str, arguments.seeds))
    variants = ("scratch", warm)
    lines = [
        f"# Warm-started refits ({warm}) against fresh refits: the same verdicts?",
        "",
        f"Command: `python benchmarks/warm_refits.py --seeds {seeds} --warm "
        f"{' '.join(arguments.warm)}`. Each series' last "
        f"{strategy_league.MAX_ROWS} rows, the default config, {FOLDS} folds of {FOLD_LENGTH} "
        "rows, a new model every fold; `scratch` = fresh weights every fold, `previous-pN` = "
        "trained on from the previous fold's weights with warm_start_patience N (the default "
        f"N = {Config().train.warm_start_patience}). Skill: pooled, against "
        "each fold's strongest baseline; verdict: Diebold-Mariano p < 0.05 (better / worse), "
        "else a tie; coverage of the 90 % bands at step 20 (recursive, from each origin) and "
        "step 1 (online).",
        "",
        "| series | variant | skill per seed | DM p per seed | verdicts | 20-step coverage | "
        "1-step coverage | epochs | seconds |",
        "|---|---|---|---|---|---|---|---:|---:|",
    ]
    for name, group in runs.groupby("series", sort=False):
        for start in variants:
            mine = group[group["refit_from"] == start].sort_values("seed")
            lines.append(
                f"| {name} | {start} | {' '.join(f'{v:+.4f}' for v in mine['skill'])} | "
                f"{' '.join(f'{v:.2f}' for v in mine['dm_p'])} | {' '.join(mine['verdict'])} | "
                f"{' '.join(f'{100 * v:.1f}' for v in mine['coverage_20'])} | "
                f"{' '.join(f'{100 * v:.1f}' for v in mine['coverage_1'])} | "
                f"{mine['epochs'].sum()} | {mine['seconds'].sum():.0f} |"
            )
    lines += [
        "",
        "Agreement per series: the seed range of fresh refits, and the warm refits' mean minus "
        "the fresh refits' mean (✗: outside the range, by more than the range; a coverage: and "
        "by more than one row of the 200, 0.5 points). Verdicts: every warm refit's verdict is "
        "one that some seed of fresh refits gave too.",
        "",
        "| series | skill range | skill shift | 20-step range | 20-step shift | 1-step range | "
        "1-step shift | warm verdicts among fresh ones | epochs warm / fresh | seconds warm / fresh |",
        "|---|---:|---:|---:|---:|---:|---:|---|---:|---:|",
    ]
    for _, row in agree.iterrows():
        cells = []
        for metric, scale in (("skill", 1), ("coverage_20", 100), ("coverage_1", 100)):
            mark = "" if row[f"{metric}_ok"] else " ✗"
            cells += [
                f"{scale * row[f'{metric}_spread']:.4g}",
                f"{scale * row[f'{metric}_shift']:+.4g}{mark}",
            ]
        lines.append(
            f"| {row['series']} | {' | '.join(cells)} | {'yes' if row['verdicts_ok'] else 'no'} "
            f"| {row['epochs_ratio']:.2f} | {row['seconds_ratio']:.2f} |"
        )
    ok = agree[[f"{m}_ok" for m in METRICS] + ["verdicts_ok"]].all(axis=1)
    either = agree[[f"{m}_either" for m in METRICS] + ["verdicts_ok"]].all(axis=1)
    lines += [
        "",
        f"Verdicts: the warm refits' are among the fresh refits' on "
        f"{int(agree['verdicts_ok'].sum())} of {len(agree)} series. Numbers within the fresh "
        f"refits' seed range: {int(ok.sum())} of {len(agree)} series on all three; within the "
        f"seed range of either variant: {int(either.sum())}; per metric (fresh range / either): "
        + ", ".join(
            f"{m} {int(agree[f'{m}_ok'].sum())} / {int(agree[f'{m}_either'].sum())}"
            for m in METRICS
        )
        + ".",
        "",
        "Over all series: warm "
        f"refits trained {runs[runs.refit_from == warm]['epochs'].sum()} epochs in "
        f"{runs[runs.refit_from == warm]['seconds'].sum():.0f} s, fresh refits "
        f"{runs[runs.refit_from == 'scratch']['epochs'].sum()} in "
        f"{runs[runs.refit_from == 'scratch']['seconds'].sum():.0f} s.",
    ]
    return lines


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
