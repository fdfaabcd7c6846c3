"""Running the trials of a study in one process: the pruner and sampler a [tune] table names,
the data each trial reads, and Optuna's optimize loop with our callbacks (one line per trial, the
tables written after each, a stop after FAILED_IN_A_ROW failures). `tune` runs it in its first
worker (study.run_tune) and in each --jobs helper (workers.run_helper)."""

from __future__ import annotations

import json
import logging
import warnings
from pathlib import Path

from lstm_forecast.config.load import config_to_dict
from lstm_forecast.config.schema import Config
from lstm_forecast.errors import LstmForecastError
from lstm_forecast.tune.results import write_tables
from lstm_forecast.tune.search import TuneSettings, live_states, objective, trial_values

FAILED_IN_A_ROW = 10  # a worker stops when its sampled configs keep failing (ranges too wide)
NEXT_TRIAL_LOCK = "next-trial.lock"  # NextTrialLock's file in the study's folder


def pruner(tune: TuneSettings):
    """The [tune] pruner. Each waits for the first prune_after_trials trials and for the end
    of a trial's fold prune_after_folds, and never stops a trial after its last fold
    (objective()). prune_after_* stay in the study's fingerprint as they always were."""
    import optuna

    if tune.pruner == "none":
        return optuna.pruners.NopPruner()
    if tune.pruner == "median":
        return optuna.pruners.MedianPruner(
            n_startup_trials=tune.prune_after_trials, n_warmup_steps=tune.prune_after_folds
        )

    class AfterTrials(optuna.pruners.BasePruner):
        """Optuna's successive halving has no startup trials (its bootstrap_count prunes the
        first ones instead): it ranks every trial at its rungs, its verdicts count later."""

        def __init__(self, wrapped) -> None:
            self.wrapped = wrapped

        def prune(self, study, trial) -> bool:
            verdict = self.wrapped.prune(study, trial)  # records the trial's rung values
            states = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)
            return verdict and len(study.get_trials(False, states)) >= tune.prune_after_trials

    # the best third go on at folds k, 3k, 9k ... (k = prune_after_folds)
    return AfterTrials(
        optuna.pruners.SuccessiveHalvingPruner(
            min_resource=max(1, tune.prune_after_folds), reduction_factor=3
        )
    )


def frame_reader():
    """frames(config) -> (frame, source) of the data a config reads, each file read once."""
    from lstm_forecast.prep.inputs import load_split

    cache: dict[str, tuple] = {}

    def frames(config: Config):
        key = json.dumps(config_to_dict(config)["data"], sort_keys=True)
        if key not in cache:
            split, sources = load_split(config)
            cache[key] = (split.frame, sources[0].source)
        return cache[key]

    return frames


def quiet() -> None:
    import optuna

    # Optuna logs a failed trial with its traceback; each trial gets our one line instead
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    # every trial builds new models, and TensorFlow warns about retracing each time
    logging.getLogger("tensorflow").setLevel(logging.ERROR)


def sampler(tune: TuneSettings):
    import optuna

    return optuna.samplers.RandomSampler() if tune.sampler == "random" else None  # TPE


def optimize(study, base, tune, out_dir, total, storage_url, frames, report, stop) -> int:
    """Run trials of `study` in this process until it holds `total`, writing the tables after
    each; returns how many trials failed in a row at the end (a worker stops at 10)."""

    quiet()
    failed_in_a_row = 0

    def after_trial(study, trial) -> None:
        nonlocal failed_in_a_row
        state = trial.state.name.lower()
        value = "" if trial.value is None else f" pooled skill {trial.value:+.4f}"
        error = trial.user_attrs.get("error", "")
        params = ", ".join(f"{k}={v}" for k, v in trial_values(trial, tune).items())
        report(f"trial {trial.number} {state}{value}  {params}" + (f": {error}" if error else ""))
        write_tables(study, base, tune, out_dir, total, storage_url)
        # a trial fails with our error, or without one (Optuna's: a NaN or no value returned)
        failed_in_a_row = failed_in_a_row + 1 if state == "fail" else 0
        if failed_in_a_row == FAILED_IN_A_ROW:
            report(
                f"stopping: {FAILED_IN_A_ROW} trials in a row failed; fix what their errors "
                "name, or narrow the [tune.params] ranges to values the data allows"
            )
            study.stop()

    lock = NextTrialLock(out_dir)

    def stop_at_total(study, trial) -> None:
        """After each trial: held from this count to the next trial's start (MaxTrialsCallback's
        count, under the lock)."""
        lock.acquire()
        if _live(study) >= total or stop():
            study.stop()
            lock.release()

    run = objective(base, tune, total, frames, report, stop)

    def started(trial):
        lock.release()  # the trial is asked, running: the other workers count it now
        return run(trial)

    lock.acquire()
    try:
        if _live(study) < total and not stop():
            study.optimize(
                started,
                callbacks=[after_trial, stop_at_total],
                catch=(LstmForecastError,),  # a trial's bad config or data fails that trial alone
                gc_after_trial=True,
            )
    finally:
        lock.release()
    return failed_in_a_row


class NextTrialLock:
    """A lock file in the study's folder (Optuna's open-file lock: it waits with a backoff and
    takes over a lock not renewed for `grace` seconds, one a killed worker left), held by a
    worker from its count of the study's live trials to its next trial's start: two workers of
    one folder never both count total - 1 and both start a trial. Workers elsewhere on one
    database still can, and the later one yields (search.refuse_surplus)."""

    def __init__(self, out_dir, grace: int = 30) -> None:
        from optuna.storages.journal import JournalFileOpenLock

        path = Path(out_dir) / NEXT_TRIAL_LOCK.removesuffix(".lock")
        self.lock = JournalFileOpenLock(str(path), grace_period=grace)
        self.held = False

    def acquire(self) -> None:
        if not self.held:
            self.held = self.lock.acquire()

    def release(self) -> None:
        if self.held:
            self.lock.release()
            self.held = False


def _live(study) -> int:
    """Trials that count towards the total or will: completed, pruned, running, waiting."""
    import optuna

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        optuna.storages.fail_stale_trials(
            study
        )  # RDB heartbeats: fail and retry dead workers' trials
    return len(study.get_trials(deepcopy=False, states=live_states()))
