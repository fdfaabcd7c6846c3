"""Running a `tune` study and writing its directory: workers, trials.csv, best.toml, study.json,
figures, marker. The search space and the objective are in lstm_forecast.tune.search, the directory
check and the storage in lstm_forecast.tune.storage.

The output directory is resumable: running the same command on it again continues the study
until it holds `trials` completed or pruned trials in all, whichever worker ran them.
"""

from __future__ import annotations

import json
import logging
import os
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from lstm_forecast.config.load import config_to_dict, config_to_toml
from lstm_forecast.config.schema import Config
from lstm_forecast.errors import ConfigError, DataError, LstmForecastError, OutputError
from lstm_forecast.files.names import (
    BEST_CONFIG_FILE,
    HISTORY_FIGURE,
    IMPORTANCES_FIGURE,
    STUDY_FILE,
    TRIALS_FILE,
)
from lstm_forecast.files.write import make_directory, write_csv, write_marker, write_text
from lstm_forecast.tune.search import (
    TuneSettings,
    live_states,
    objective,
    trial_config,
    trial_values,
    worker_name,
)
from lstm_forecast.tune.storage import (
    JOURNAL_FILE,
    KIND,
    check_tune_directory,
    hide_password,
    open_storage,
)

DEFAULT_STUDY = "lstm-forecast"
BEST_SHOWN = 5  # best trials printed with their DM test
FAILED_IN_A_ROW = 10  # a worker stops when its sampled configs keep failing (ranges too wide)

Report = Callable[[str], object]


@dataclass(frozen=True)
class TuneResult:
    out_dir: Path
    counts: dict  # trials by state
    best: list[dict]  # the best trials, best first: number, value, params, dm_*
    ran: int  # trials this worker ran


def fingerprint(base: Config, tune: TuneSettings) -> str:
    """What a resumed study must share: the base config (its data paths left out, which differ
    between machines) and the [tune] table (its trials left out: a study may be extended)."""
    config = config_to_dict(base)
    config["data"] = {k: v for k, v in config["data"].items() if k not in ("path", "test_path")}
    search = {key: value for key, value in tune.raw.items() if key != "trials"}  # may grow
    return json.dumps({"config": config, "tune": search}, sort_keys=True, default=str)


def run_tune(
    base: Config,
    tune: TuneSettings,
    out_dir: str | Path,
    trials: int | None = None,
    storage_url: str | None = None,
    study_name: str = DEFAULT_STUDY,
    report: Report = lambda line: None,
) -> TuneResult:
    """Run (or resume, or join) the study until it holds `trials` (default [tune] trials)
    completed or pruned trials, writing the outputs after each trial and at the end."""
    import optuna

    from lstm_forecast.prep.inputs import input_paths, load_split, resolve_paths

    out_dir = Path(out_dir)
    total = tune.trials if trials is None else trials
    if total < 1:
        raise ConfigError(f"--trials must be at least 1, got {total}")
    base = resolve_paths(base)
    check_tune_directory(out_dir)
    for source in input_paths(base):
        if out_dir.resolve() in source.resolve().parents:
            raise OutputError(f"{out_dir}: holds the input {source}; choose another --out")
    cache: dict[str, tuple] = {}

    def frames(config: Config):
        key = json.dumps(config_to_dict(config)["data"], sort_keys=True)
        if key not in cache:
            split, sources = load_split(config)
            cache[key] = (split.frame, sources[0].source)
        return cache[key]

    frame, _ = frames(base)  # the data is read and checked before the study is touched
    storage = open_storage(out_dir, storage_url) if storage_url else None  # before any file
    make_directory(out_dir)
    storage = storage or open_storage(out_dir, None)
    shown = hide_password(storage_url) if storage_url else JOURNAL_FILE
    write_marker(out_dir, KIND, study=study_name, storage=shown)
    # Optuna logs a failed trial with its traceback; each trial gets our one line instead
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    # every trial builds new models, and TensorFlow warns about retracing each time
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    study = optuna.create_study(
        storage=storage,
        study_name=study_name,
        direction="maximize",
        pruner=optuna.pruners.MedianPruner(
            n_startup_trials=tune.prune_after_trials, n_warmup_steps=tune.prune_after_folds
        ),
        load_if_exists=True,
    )
    expected = fingerprint(base, tune)
    found = study.user_attrs.get("fingerprint")
    if found is None:
        study.set_user_attr("fingerprint", expected)
    elif found != expected:
        raise ConfigError(
            f"study {study_name!r} in {shown} was started with another base config or "
            "[tune] table; use the same config to resume it, or another --out / --study"
        )
    check_same_data(study, study_name, shown, frame)
    free_dead_local_trials(study, storage_url is None, report)
    failed_in_a_row = 0

    def after_trial(study, trial) -> None:
        nonlocal failed_in_a_row
        state = trial.state.name.lower()
        value = "" if trial.value is None else f" pooled skill {trial.value:+.4f}"
        error = trial.user_attrs.get("error", "")
        params = ", ".join(f"{k}={v}" for k, v in trial_values(trial, tune).items())
        report(f"trial {trial.number} {state}{value}  {params}" + (f": {error}" if error else ""))
        write_tables(study, base, tune, out_dir, total, storage_url)
        failed_in_a_row = failed_in_a_row + 1 if error else 0
        if failed_in_a_row == FAILED_IN_A_ROW:
            report(
                f"stopping: {FAILED_IN_A_ROW} trials in a row failed; narrow the [tune.params] "
                "ranges to values the data allows"
            )
            study.stop()

    if _live(study) < total:  # MaxTrialsCallback asks only after a trial; ask before the first
        study.optimize(
            objective(base, tune, total, frames, report),
            callbacks=[optuna.study.MaxTrialsCallback(total, states=live_states()), after_trial],
            catch=(LstmForecastError,),  # a trial's bad config or data fails that trial alone
            gc_after_trial=True,
        )
    me = worker_name()
    ran = sum(trial.user_attrs.get("worker") == me for trial in study.get_trials(deepcopy=False))
    write_tables(study, base, tune, out_dir, total, storage_url)
    write_figures(study, out_dir, report)
    counts = _counts(study)
    if not counts.get("complete") and failed_in_a_row:
        last = study.get_trials(deepcopy=False)[-1].user_attrs.get("error", "")
        raise DataError(f"no trial of the study completed; the last one failed: {last}")
    return TuneResult(out_dir=out_dir, counts=counts, best=best_trials(study, tune), ran=ran)


def data_digest(frame: pd.DataFrame) -> dict:
    """What identifies a study's data on any machine: its span, rows and a hash of its values."""
    import hashlib

    values = pd.util.hash_pandas_object(frame, index=True).to_numpy().tobytes()
    return {
        "rows": len(frame),
        "span": [str(frame.index[0]), str(frame.index[-1])],
        "sha256": hashlib.sha256(values).hexdigest()[:16],
    }


def check_same_data(study, study_name: str, storage: str, frame: pd.DataFrame) -> None:
    """A resumed or joined study runs on the data it started with (its paths may differ between
    machines, its rows may not): trials scored on two data sets cannot be ranked together."""
    found, expected = study.user_attrs.get("data"), data_digest(frame)
    if found is None:
        study.set_user_attr("data", expected)
    elif found != expected:
        first, last = found["span"]
        raise DataError(
            f"study {study_name!r} in {storage} was run on other data ({found['rows']} rows, "
            f"{first} .. {last}); resume it with the same --data, or use another --out / --study"
        )


def _live(study) -> int:
    """Trials that count towards the total or will: completed, pruned, running, waiting."""
    import optuna

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        optuna.storages.fail_stale_trials(
            study
        )  # RDB heartbeats: fail and retry dead workers' trials
    return len(study.get_trials(deepcopy=False, states=live_states()))


def _counts(study) -> dict:
    counts: dict[str, int] = {}
    for trial in study.get_trials(deepcopy=False):
        counts[trial.state.name.lower()] = counts.get(trial.state.name.lower(), 0) + 1
    return counts


def free_dead_local_trials(study, journal: bool, report: Report) -> None:
    """A journal file has no heartbeat: fail the running trials of workers on this machine whose
    process is gone (killed with SIGKILL, or the machine restarted), so they stop counting."""
    import socket

    from optuna.trial import TrialState

    if not journal:
        return
    host = socket.gethostname()
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        worker_host, _, pid = str(trial.user_attrs.get("worker", "")).rpartition(":")
        if worker_host != host or not pid.isdigit() or _alive(int(pid)):
            continue
        study._storage.set_trial_state_values(trial._trial_id, state=TrialState.FAIL)
        report(f"trial {trial.number}: its worker (pid {pid}) is gone; marked failed")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# ---- outputs ------------------------------------------------------------------------------------


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


def write_tables(study, base: Config, tune: TuneSettings, out_dir: Path, total: int, storage_url):
    """trials.csv, study.json and best.toml, each written atomically (several workers may
    write the same directory: each writes the whole study as the storage holds it)."""
    import pandas as pd

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
        "params": {param.name: tune.raw["params"][param.name] for param in tune.params},
        "best": best,
    }
    write_text(out_dir / STUDY_FILE, json.dumps(summary, indent=2, default=str) + "\n")
    if best:
        config = trial_config(base, best[0]["params"], tune)
        header = (
            f"# best trial {best[0]['number']} of study {study.study_name!r}: pooled skill "
            f"{best[0]['value']:+.4f} vs {tune.baseline} ({tune.folds} folds of {tune.fold_length} rows)\n"
        )
        write_text(out_dir / BEST_CONFIG_FILE, header + config_to_toml(config))


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
    lines = [f"study in {result.out_dir}/: {counts} ({result.ran} run by this worker)"]
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
    lines.append(
        f"wrote {result.out_dir}/ (best.toml, trials.csv, study.json, history.png, importances.png)"
    )
    return lines
