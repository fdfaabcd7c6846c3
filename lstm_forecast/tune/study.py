"""Running a `tune` study and writing its directory: workers, trials.csv, best.toml, study.json,
figures, marker. The search space and the objective are in lstm_forecast.tune.search, the directory
check and the storage in lstm_forecast.tune.storage.

The output directory is resumable: running the same command on it again continues the study
until it holds `trials` completed or pruned trials in all, whichever worker ran them.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from lstm_forecast.config.load import config_to_dict
from lstm_forecast.config.schema import Config
from lstm_forecast.errors import ConfigError, DataError, OutputError
from lstm_forecast.files.names import (
    JOURNAL_FILE,
)
from lstm_forecast.files.write import make_directory, write_marker
from lstm_forecast.tune.results import TuneResult, _counts, best_trials, write_figures, write_tables
from lstm_forecast.tune.search import (
    TuneSettings,
    worker_name,
)
from lstm_forecast.tune.storage import (
    KIND,
    check_same_storage,
    check_tune_directory,
    hide_password,
    open_storage,
)
from lstm_forecast.tune.trials import (
    FAILED_IN_A_ROW,
    _live,
    frame_reader,
    optimize,
    pruner,
    quiet,
    sampler,
)

DEFAULT_STUDY = "lstm-forecast"

Report = Callable[[str], object]


# (section, key, value): a config key added after studies existed, and its value that does what
# those studies did (their fingerprints lack the key)
ADDED_KEYS = (("backtest", "refit_from", "scratch"), ("train", "warm_start_patience", 2))


def fingerprint(base: Config, tune: TuneSettings) -> str:
    """What a resumed study must share: the base config (its data paths left out, which differ
    between machines) and the [tune] table (its trials left out: a study may be extended)."""
    config = config_to_dict(base)
    config["data"] = {k: v for k, v in config["data"].items() if k not in ("path", "test_path")}
    if config["backtest"].get("refit_from") == "scratch":  # no warm start: its patience unused
        config["train"].pop("warm_start_patience", None)
    # keys added later, at the value that gives what the versions before them did, are left
    # out: a study those versions started still resumes with them set so
    for section, key, value in ADDED_KEYS:
        if config.get(section, {}).get(key, object()) == value:
            del config[section][key]
    # trials: a study may grow; pruner, sampler: how trials are chosen, not what one measures
    search = {k: v for k, v in tune.raw.items() if k not in ("trials", "pruner", "sampler")}
    return json.dumps({"config": config, "tune": search}, sort_keys=True, default=str)


def run_tune(
    base: Config,
    tune: TuneSettings,
    out_dir: str | Path,
    trials: int | None = None,
    storage_url: str | None = None,
    study_name: str = DEFAULT_STUDY,
    report: Report = lambda line: None,
    stop=lambda: False,
    jobs: int = 1,
) -> TuneResult:
    """Run (or resume, or join) the study until it holds `trials` (default [tune] trials)
    completed or pruned trials, writing the outputs after each trial and at the end. `jobs`:
    worker processes on this machine, this one and jobs - 1 helpers (tune.workers), each on its
    share of the cores."""
    import optuna

    from lstm_forecast.prep.inputs import input_paths, resolve_paths
    from lstm_forecast.prep.split import refuse_constant
    from lstm_forecast.tune.workers import Helpers, StudyPlace, check_jobs

    out_dir = Path(out_dir)
    total = tune.trials if trials is None else trials
    if total < 1:
        raise ConfigError(f"--trials must be at least 1, got {total}")
    check_jobs(jobs)
    base = resolve_paths(base)
    check_tune_directory(out_dir)
    for source in input_paths(base):
        if out_dir.resolve() in source.resolve().parents:
            raise OutputError(f"{out_dir}: holds the input {source}; choose another --out")
    frames = frame_reader()
    frame, data_source = frames(base)  # the data is read and checked before the study is touched
    refuse_constant(frame, data_source)  # every trial's skill would be undefined
    shown = hide_password(storage_url) if storage_url else JOURNAL_FILE
    check_same_storage(out_dir, study_name, shown)
    storage = None
    if storage_url or (out_dir / JOURNAL_FILE).exists():  # before any file is written
        storage = open_storage(out_dir, storage_url, report)
        refuse_another_study(storage, study_name, shown, fingerprint(base, tune), frame)
    make_directory(out_dir)
    storage = storage or open_storage(out_dir, None, report)
    write_marker(out_dir, KIND, study=study_name, storage=shown)
    quiet()
    study = optuna.create_study(
        storage=storage,
        study_name=study_name,
        direction="maximize",
        pruner=pruner(tune),
        sampler=sampler(tune),
        load_if_exists=True,
    )
    expected = fingerprint(base, tune)
    same_study(study, study_name, shown, expected, frame)  # a worker that started meanwhile
    if "fingerprint" not in study.user_attrs:  # a new study: what it runs on, for its resumes
        study.set_user_attr("fingerprint", expected)
    if "data" not in study.user_attrs:
        study.set_user_attr("data", data_digest(frame))
    free_dead_local_trials(study, storage_url is None, report)
    # no more workers than trials to run: a helper would find the study full, and this worker
    # would have trained on its share of the cores alone
    jobs = max(1, min(jobs, total - _live(study)))
    place = StudyPlace(base, tune, out_dir, total, storage_url, study_name)
    with Helpers(jobs, place, stop, report) as helpers:
        failed_in_a_row = optimize(
            study, base, tune, out_dir, total, storage_url, frames, report, stop
        )
    if helpers.processes and failed_in_a_row < FAILED_IN_A_ROW:
        # a helper killed outright left its trial RUNNING: free it, and run what is missing
        free_dead_local_trials(study, storage_url is None, report)
        failed_in_a_row = optimize(
            study, base, tune, out_dir, total, storage_url, frames, report, stop
        )
    me = worker_name()
    ran = sum(
        trial.user_attrs.get("worker") in (me, *helpers.names)
        for trial in study.get_trials(deepcopy=False)
    )
    strategy = write_tables(study, base, tune, out_dir, total, storage_url, final=True)
    write_figures(study, out_dir, report)
    counts = _counts(study)
    if not counts.get("complete") and failed_in_a_row:
        last = study.get_trials(deepcopy=False)[-1].user_attrs.get("error", "")
        raise DataError(f"no trial of the study completed; the last one failed: {last}")
    best = best_trials(study, tune)
    return TuneResult(out_dir, counts, best, ran, strategy, workers=1 + len(helpers.names))


def data_digest(frame: pd.DataFrame) -> dict:
    """What identifies a study's data on any machine: its span, rows and a hash of its values."""
    import hashlib

    values = pd.util.hash_pandas_object(frame, index=True).to_numpy().tobytes()
    return {
        "rows": len(frame),
        "span": [str(frame.index[0]), str(frame.index[-1])],
        "sha256": hashlib.sha256(values).hexdigest()[:16],
    }


def refuse_another_study(storage, study_name: str, shown: str, expected: str, frame) -> None:
    """Resuming or joining an existing study with another base config, [tune] table or data
    is refused before anything is written (Optuna's create_study appends to a journal even when
    the study exists)."""
    import optuna

    try:
        study = optuna.load_study(study_name=study_name, storage=storage)
    except KeyError:  # no such study yet: it will be created
        return
    same_study(study, study_name, shown, expected, frame)


def same_study(study, study_name: str, shown: str, expected: str, frame: pd.DataFrame) -> None:
    """A resumed or joined study runs with the base config and [tune] table it started with
    (`expected`: their fingerprint), and on the same data (its paths may differ between
    machines, its rows may not): trials scored otherwise cannot be ranked together. Reads only."""
    found = study.user_attrs.get("fingerprint")
    if found is not None and found != expected:
        raise ConfigError(
            f"study {study_name!r} in {shown} was started with another base config or "
            f"[tune] table{differences(found, expected)}; use the same config to resume it, "
            "or another --out / --study"
        )
    found = study.user_attrs.get("data")
    if found is not None and found != data_digest(frame):
        first, last = found["span"]
        raise DataError(
            f"study {study_name!r} in {shown} was run on other data ({found['rows']} rows, "
            f"{first} .. {last}); resume it with the same --data, or use another --out / --study"
        )


def differences(found: str, expected: str, shown: int = 3) -> str:
    """ " (backtest.refit_from: 'previous' now, 'scratch' in the study)": the first keys in which
    two fingerprints differ, as --set names them; "" when they cannot be read."""
    try:
        old, new = (
            pd.json_normalize(json.loads(text)).iloc[0].to_dict() for text in (found, expected)
        )
    except (ValueError, AttributeError, IndexError, TypeError):
        return ""
    # a key added later is absent from an older study's fingerprint at its value of then
    then = {f"config.{section}.{key}": value for section, key, value in ADDED_KEYS}
    changed = [
        f"{key.removeprefix('config.')}: {new[key]!r} now, "
        + (
            f"{old[key] if key in old else then[key]!r} in the study"
            if key in old or key in then
            else "not set in the study"
        )
        for key in sorted(old.keys() | new.keys())
        if str(old.get(key, "<absent>")) != str(new.get(key, "<absent>")) and key in new
    ]
    changed += [
        f"{key.removeprefix('config.')}: "
        + (f"{then[key]!r} now, {old[key]!r} in the study" if key in then else "not set now")
        for key in sorted(old.keys() - new.keys())
    ]
    return f" ({'; '.join(changed[:shown])})" if changed else ""


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
