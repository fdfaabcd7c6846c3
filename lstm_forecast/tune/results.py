"""A tune study's results: its best trials, trials.csv, study.json and best.toml, Optuna's figures, and the lines printed at the end."""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from lstm_forecast.config.load import config_to_toml
from lstm_forecast.config.schema import Config
from lstm_forecast.files.names import (
    BEST_CONFIG_FILE,
    HISTORY_FIGURE,
    IMPORTANCES_FIGURE,
    JOURNAL_FILE,
    STUDY_FILE,
    TRIALS_FILE,
)
from lstm_forecast.files.write import write_csv, write_json, write_text
from lstm_forecast.prep.inputs import Report
from lstm_forecast.tune.search import (
    TuneSettings,
    trial_config,
    trial_values,
)
from lstm_forecast.tune.storage import hide_password

BEST_SHOWN = 5  # best trials printed with their DM test
SIGNIFICANCE = 0.05  # the SPA p-value under which the verdict says evidence


def _counts(study) -> dict:
    counts: dict[str, int] = {}
    for trial in study.get_trials(deepcopy=False):
        counts[trial.state.name.lower()] = counts.get(trial.state.name.lower(), 0) + 1
    return counts


def best_trials(study, tune: TuneSettings, count: int = BEST_SHOWN) -> list[dict]:
    """The best completed trials, best first, each with its DM test against the baseline."""
    from optuna.trial import TrialState

    from lstm_forecast.evaluate.metrics import diebold_mariano

    completed = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    ranked = sorted(completed, key=lambda t: -t.value if t.value == t.value else float("inf"))
    rows = []
    for trial in ranked[:count]:
        errors = trial.user_attrs.get("errors", {"model": [], "baseline": []})
        test = diebold_mariano(errors["model"], errors["baseline"])
        rows.append(
            {
                "number": trial.number,
                "value": trial.value,
                "params": trial_values(trial, tune),
                "rows": len(errors["model"]),
                "dm_statistic": test.statistic,
                "dm_pvalue": test.pvalue,
                "verdict": test.verdict,
            }
        )
    return rows


def write_tables(
    study, base: Config, tune: TuneSettings, out_dir: Path, total: int, storage_url, final=False
):
    """trials.csv, study.json and best.toml, each written atomically (several workers may
    write the same directory: each writes the whole study as the storage holds it)."""

    trials = study.get_trials(deepcopy=False)
    rows = []
    for trial in trials:
        rows.append(
            {
                "number": trial.number,
                "state": trial.state.name.lower(),
                "value": trial.value,
                "folds_done": len(trial.intermediate_values),
                "duration_s": trial.duration.total_seconds() if trial.duration else None,
                "worker": trial.user_attrs.get("worker", ""),
                **{
                    name: json.dumps(v) if isinstance(v, list) else v
                    for name, v in trial_values(trial, tune).items()
                },  # fmt: skip
            }
        )
    table = pd.DataFrame(rows, columns=["number", "state", "value", "folds_done", "duration_s",
                                        "worker", *(p.name for p in tune.params)])  # fmt: skip
    write_csv(out_dir / TRIALS_FILE, table, index=False, float_format="%.6g")
    best = best_trials(study, tune)
    summary = {
        "study": study.study_name,
        "storage": hide_password(storage_url) if storage_url else JOURNAL_FILE,
        "objective": f"pooled skill = 1 - RMSE(model) / RMSE({tune.baseline}) over all "
        "out-of-sample rows of all folds (maximized)",
        "trials_requested": total,
        "trials_by_state": _counts(study),
        "folds": tune.folds,
        "fold_length": tune.fold_length,
        "pruner": tune.pruner,  # this worker's: workers of one study may differ
        "sampler": tune.sampler,
        "params": {param.name: tune.raw["params"][param.name] for param in tune.params},
        "best": best,
    }
    if final:  # the bootstraps once, at the end, over every trial that finished
        summary["strategy"] = trials_strategy(study, base)
    write_json(out_dir / STUDY_FILE, summary, default=str)
    if best:
        config = trial_config(base, best[0]["params"], tune)
        header = (
            f"# best trial {best[0]['number']} of study {study.study_name!r}: pooled skill "
            f"{best[0]['value']:+.4f} vs {tune.baseline} ({tune.folds} folds of {tune.fold_length} rows)\n"
        )
        write_text(out_dir / BEST_CONFIG_FILE, header + config_to_toml(config))
    return summary.get("strategy")


def trials_strategy(study, base: Config) -> dict | None:
    """Would acting on the best trial's forecasts have paid, accounting for every trial tried:
    Hansen's SPA test of all completed trials' model strategies (long when the forecast beats
    the entry price by more than the costs, [strategy] of the base config) against buy-and-hold,
    and their model confidence set. None when no two trials traded the same rows."""
    from lstm_forecast.strategy.significance import confidence_set, spa_test
    from lstm_forecast.strategy.strategies import BENCHMARK, sharpe_ratio, with_periods

    complete = [t for t in study.get_trials(deepcopy=False) if t.state.name == "COMPLETE"]
    trading = {t.number: t.user_attrs["trading"] for t in complete if "trading" in t.user_attrs}
    if not trading:
        return None
    first = next(iter(trading.values()))
    same = {n: r for n, r in trading.items() if r["dates"] == first["dates"]}  # same rows only
    dates = pd.Index(first["dates"])
    models = pd.DataFrame({f"trial {n}": r["model"] for n, r in same.items()}, index=dates)
    benchmark = pd.Series(first["buy_and_hold"], index=dates, name=BENCHMARK)
    config = with_periods(base.strategy, dates)
    if len(dates) < 20:
        return {"trials": len(same), "verdict": f"Too few rows ({len(dates)}) to test."}
    spa = spa_test(models, benchmark, config)
    mcs = confidence_set(pd.concat([models, benchmark], axis=1), config)
    sharpe = {
        name: sharpe_ratio(models[name].to_numpy(), config.periods_per_year) for name in models
    }
    best = max(sharpe, key=sharpe.get)
    held = sharpe_ratio(benchmark.to_numpy(), config.periods_per_year)
    evidence = spa["consistent"] < SIGNIFICANCE
    sentence = (
        f"{'Evidence' if evidence else 'No evidence'} that any of the {len(same)} trials' model "
        f"strategies beats buy-and-hold after costs of {config.cost_bps:g} bps per side (SPA p = "
        f"{spa['consistent']:.2f} over all of them); the best, {best}, has Sharpe "
        f"{sharpe[best]:.2f} against {held:.2f}. Not investment advice."
    )
    return {
        "trials": len(same),
        "rows": len(dates),
        "cost_bps": config.cost_bps,
        "spa": spa,
        "sharpe": {**sharpe, BENCHMARK: held},
        "mcs_pvalue": mcs["mcs_pvalue"].to_dict(),
        "verdict": sentence,
    }


def write_figures(study, out_dir: Path, report: Report) -> list[Path]:
    """Optuna's optimisation history and parameter importances (matplotlib) as PNGs."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import optuna
    from optuna.trial import TrialState

    from lstm_forecast.report.run_plots import save_figure

    written = []
    completed = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    plots = {HISTORY_FIGURE: optuna.visualization.matplotlib.plot_optimization_history}
    if len(completed) >= 2:
        plots[IMPORTANCES_FIGURE] = optuna.visualization.matplotlib.plot_param_importances
    else:
        report("parameter importances need 2 completed trials or more; importances.png not drawn")
    for name, plot in plots.items():
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                # "importances will be equal" when the trials' values cannot tell them apart:
                # the figure shows equal bars, the warning would be noise on stderr
                warnings.simplefilter("ignore", UserWarning)
                axes = plot(study)
        except (ValueError, RuntimeError) as e:  # e.g. every completed trial had one value
            report(f"{name} not drawn: {e}")
            continue
        axes.figure.set_size_inches(8, 5)
        axes.figure.tight_layout()
        written.append(save_figure(axes.figure, out_dir / name))
    plt.close("all")
    return written


def result_lines(result: TuneResult) -> list[str]:
    """What `tune` prints at the end: the trials by state and the best trials with their DM test."""
    counts = ", ".join(f"{count} {state}" for state, count in sorted(result.counts.items()))
    by = "this worker" if result.workers == 1 else f"these {result.workers} workers"
    lines = [f"study in {result.out_dir}/: {counts} ({result.ran} run by {by})"]
    if not result.best:
        return [*lines, "no trial completed yet"]
    lines.append("best trials (pooled out-of-sample skill; Diebold-Mariano test vs the baseline):")
    for row in result.best:
        pvalue = row["dm_pvalue"]
        shown = (
            "DM p n/a"
            if pvalue != pvalue
            else ("DM p < 0.001" if pvalue < 0.001 else f"DM p = {pvalue:.3f}")
        )
        params = ", ".join(f"{name}={value}" for name, value in row["params"].items())
        lines.append(
            f"  #{row['number']:<4} skill {row['value']:+.4f}  {row['verdict']} the baseline "
            f"({shown}, {row['rows']} rows)  {params}"
        )
    if result.strategy:
        lines.append(result.strategy["verdict"])
    lines.append(
        f"wrote {result.out_dir}/ (best.toml, trials.csv, study.json, history.png, importances.png)"
    )
    return lines


@dataclass(frozen=True)
class TuneResult:
    out_dir: Path
    counts: dict  # trials by state
    best: list[dict]  # the best trials, best first: number, value, params, dm_*
    ran: int  # trials this worker (and its --jobs helpers) ran
    strategy: dict | None = None  # the SPA test of all trials' strategies (trials_strategy)
    workers: int = 1  # this process and its helpers (tune --jobs)
