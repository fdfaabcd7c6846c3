"""`lstm-forecast tune`: the [tune] table, the pooled objective, and real studies in real processes
(two workers sharing one journal file, a Ctrl-C'd study resumed, best.toml trained)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import tomllib
from dataclasses import replace
from pathlib import Path

import numpy as np
import optuna  # noqa: E402 - the test extra installs it; a missing one must fail, not skip
import pandas as pd
import pytest
from conftest import ROOT, TINY_CONFIG, random_walk
from typer.testing import CliRunner

from lstm_forecast.cli.base import app
from lstm_forecast.errors import ConfigError
from lstm_forecast.evaluate.pooled import RunningSkill, pooled_skill
from lstm_forecast.tune.search import load_tune_config, split_tune_table, toml_value

SEARCH = """
[tune]
folds = 2
fold_length = 10
prune_after_trials = 2

[tune.params]
"train.learning_rate" = {log = [1e-3, 1e-1]}
"model.cell" = {choices = ["lstm", "gru"]}
"data.features" = {choices = [[], ["Volume"]]}
"""


# the studies that run trials leave GRU out: a GRU trains with Keras, twice the time of a trial
FAST_SEARCH = SEARCH.replace('["lstm", "gru"]', '["lstm"]')


@pytest.fixture
def study_files(tmp_path: Path) -> tuple[Path, Path]:
    """A tiny search (1 epoch, 2 folds of 10 rows) and 120 rows of prices."""
    data = tmp_path / "prices.csv"
    random_walk(120, seed=3).to_csv(data, index=False, date_format="%Y-%m-%d")
    config = tmp_path / "search.toml"
    tiny = TINY_CONFIG.format(transform="log_return").replace("epochs = 2", "epochs = 1")
    config.write_text(tiny + "\n[forecast]\nsamples = 0\n" + FAST_SEARCH)
    return config, data


def load_trials(out: Path):
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    storage = JournalStorage(JournalFileBackend(str(out / "journal.log")))
    try:
        return optuna.load_study(study_name="lstm-forecast", storage=storage).get_trials()
    except KeyError:  # the journal is there, the study not yet: a worker is starting
        return []


def states(trials) -> list[str]:
    return [trial.state.name for trial in trials]


def tune_command(config: Path, data: Path, out: Path, trials: int, jobs: int = 1) -> list[str]:
    """One worker unless told (the default, one per core, is test_jobs_two_... and the --help
    example's)."""
    return [sys.executable, "-m", "lstm_forecast", "tune", "--config", str(config),
            "--data", str(data), "--out", str(out), "--trials", str(trials),
            "--jobs", str(jobs)]  # fmt: skip


# A child started from a background job inherits SIGINT ignored, and Python then keeps it
# ignored: the worker sets Python's own Ctrl-C handler first, as in a terminal.
WITH_CTRL_C = (
    "import runpy, signal; signal.signal(signal.SIGINT, signal.default_int_handler); "
    "runpy.run_module('lstm_forecast', run_name='__main__', alter_sys=True)"
)


def start(command: list[str]) -> subprocess.Popen:
    environment = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3"}
    assert command[1:3] == ["-m", "lstm_forecast"]
    return subprocess.Popen(
        [command[0], "-c", WITH_CTRL_C, *command[3:]],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


# ---- the [tune] table ---------------------------------------------------------------------------


def test_the_tune_table_is_split_off_and_parsed():
    raw = tomllib.loads(TINY_CONFIG.format(transform="level") + SEARCH)
    config, tune = split_tune_table(raw, "search.toml")
    assert "tune" not in config and "train" in config
    assert (tune.folds, tune.fold_length, tune.trials) == (2, 10, 20)
    by_name = {param.name: param for param in tune.params}
    assert by_name["train.learning_rate"].kind == "log"
    assert by_name["data.features"].choices == ([], ["Volume"])


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ("[tune]\nfolds = 2\n", "add a [tune.params] table"),
        (
            '[tune]\ndirection = "minimize"\n[tune.params]\n"model.cell" = {choices = ["gru"]}\n',
            "unknown key 'direction'",
        ),  # fmt: skip
        ('[tune.params]\n"window.length" = {int = [90, 20]}\n', "low < high"),
        ('[tune.params]\n"train.learning_rate" = {log = [0, 0.1]}\n', "low > 0"),
        ('[tune.params]\n"window.length" = {int = [20, 90], log = [1, 2]}\n', "exactly one of"),
        ('[tune.params]\n"train.epoch" = {int = [1, 3]}\n', "unknown key 'epoch'"),
        ('[tune.params]\n"model.cell" = {choices = ["lstm", "rnn"]}\n', "'rnn'"),
        ('[tune.params]\n"window.length" = {int = [20, 30], step = 50}\n', "step 50 is larger"),
        ('[tune.params]\n"window.length " = {int = [20, 30]}\n', "has spaces around it"),
        ('[tune.params]\n"train.batch_size" = {float = [8, 64]}\n', "must be a whole number"),
        (
            '[tune]\nbaseline = "nope"\n[tune.params]\n"model.cell" = {choices = ["gru"]}\n',
            "baseline must be one of baseline, persistence, drift, previous_close",
        ),  # fmt: skip
        (
            '[tune]\npruner = "hyper"\n[tune.params]\n"model.cell" = {choices = ["gru"]}\n',
            "pruner must be one of none, median, halving, got 'hyper'",
        ),
        (
            '[tune]\nsampler = "grid"\n[tune.params]\n"model.cell" = {choices = ["gru"]}\n',
            "sampler must be one of tpe, random, got 'grid'",
        ),
    ],  # fmt: skip
)
def test_a_bad_search_space_is_refused_before_any_trial(tmp_path: Path, table, message):
    path = tmp_path / "bad.toml"
    path.write_text(TINY_CONFIG.format(transform="level") + table)
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_tune_config(path)


@pytest.mark.parametrize("pruner", ["median", "halving", "none"])
def test_each_pruner_waits_for_its_first_trials_then_stops_the_weak(pruner):
    """Trials scored 0.1, 0.2, ... fold by fold, and every third one far worse: the pruners stop
    only those (and none among the first prune_after_trials), at fold 1; "none" never does."""
    from lstm_forecast.tune.search import TuneSettings
    from lstm_forecast.tune.trials import pruner

    tune = TuneSettings(params=(), folds=3, prune_after_trials=4, prune_after_folds=1,
                        pruner=pruner)  # fmt: skip
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    study = optuna.create_study(direction="maximize", pruner=pruner(tune))

    def objective(trial):
        skill = -1.0 if trial.number % 3 == 2 else 0.1 * trial.number
        for fold in range(1, tune.folds + 1):
            trial.report(skill, fold)
            if fold < tune.folds and trial.should_prune():
                raise optuna.TrialPruned()
        return skill

    study.optimize(objective, n_trials=12)
    pruned = [t.number for t in study.trials if t.state.name == "PRUNED"]
    assert pruned == ([] if pruner == "none" else [5, 8, 11])
    assert all(len(study.trials[n].intermediate_values) == 1 for n in pruned)  # at fold 1


@pytest.mark.parametrize(
    "value", [1, 0.00025, 1e-05, "gru", True, [], ["Volume", "sma(Close, 5)"], [{"units": 8}]]
)
def test_values_go_to_toml_and_back(value):
    assert tomllib.loads(f"v = {toml_value(value)}")["v"] == value


def test_pooled_skill_is_the_running_skill_after_the_last_fold():
    generator = np.random.default_rng(0)
    folds = []
    for fold in (1, 2, 3):
        actual = 100 + generator.normal(0, 1, 7 + fold)
        folds.append(
            pd.DataFrame(
                {
                    "fold": fold,
                    "actual": actual,
                    "predicted": actual + generator.normal(0, 0.8, actual.size),
                    "persistence": actual + generator.normal(0, 1.0, actual.size),
                }
            )  # fmt: skip
        )
    running = RunningSkill("persistence")
    for table in folds:
        model_rmse = np.sqrt(np.mean((table["predicted"] - table["actual"]) ** 2))
        persistence_rmse = np.sqrt(np.mean((table["persistence"] - table["actual"]) ** 2))
        metrics = {"rows": len(table), "rmse": model_rmse,
                   "baselines": {"persistence": {"rmse": persistence_rmse}}}  # fmt: skip
        skill = running.add(metrics)
    pooled = pd.concat(folds)
    reference = 1 - np.sqrt(np.mean((pooled["predicted"] - pooled["actual"]) ** 2)) / np.sqrt(
        np.mean((pooled["persistence"] - pooled["actual"]) ** 2)
    )
    assert skill == pytest.approx(reference) == pytest.approx(pooled_skill(pooled, "persistence"))


# ---- real studies -------------------------------------------------------------------------------


def test_two_workers_share_one_study_one_is_interrupted_and_it_resumes(study_files, tmp_path):
    config, data = study_files
    out = tmp_path / "study"
    first, second = (start(tune_command(config, data, out, trials=5)) for _ in range(2))
    # Ctrl-C the second worker while it trains a trial: that trial fails, the first worker
    # carries on and completes the study
    deadline = time.monotonic() + 120
    while not any(
        t.state.name == "RUNNING" and t.user_attrs.get("worker", "").endswith(f":{second.pid}")
        for t in (load_trials(out) if (out / "journal.log").exists() else [])
    ):
        assert time.monotonic() < deadline and second.poll() is None, second.communicate()
        time.sleep(0.2)
    second.send_signal(signal.SIGINT)
    _, stderr = second.communicate(timeout=120)
    assert second.returncode == 130, stderr
    assert "run the same command to resume" in stderr
    _, stderr = first.communicate(timeout=240)
    assert first.returncode == 0, stderr

    trials = load_trials(out)
    assert [trial.number for trial in trials] == list(range(len(trials)))  # none lost, no repeat
    assert sum(s in ("COMPLETE", "PRUNED") for s in states(trials)) == 5
    assert states(trials).count("FAIL") == 1  # the interrupted one
    assert "RUNNING" not in states(trials) and "WAITING" not in states(trials)
    workers = {trial.user_attrs["worker"] for trial in trials}
    assert {w.rpartition(":")[2] for w in workers} == {str(first.pid), str(second.pid)}
    table = pd.read_csv(out / "trials.csv")
    assert table["number"].tolist() == [trial.number for trial in trials]

    # the same command with a larger total resumes the study and runs only the missing trial
    result = CliRunner().invoke(app, tune_command(config, data, out, trials=6)[3:])
    assert result.exit_code == 0, result.output
    trials = load_trials(out)
    assert sum(s in ("COMPLETE", "PRUNED") for s in states(trials)) == 6
    assert len(trials) == 7
    assert "best trials" in result.output and "DM p" in result.output
    for name in ("best.toml", "trials.csv", "study.json", "history.png", "run.json"):
        assert (out / name).is_file(), name


def test_a_study_from_before_refit_from_resumes_as_scratch_and_is_told_the_key_otherwise(
    study_files,
):
    """Studies started before [backtest] refit_from trained every fold from scratch; their
    fingerprint has no such key. Resumed with refit_from = "scratch" they match (whatever the
    warm patience, which scratch never uses); under the new default the refusal names each key
    with its value then."""
    from types import SimpleNamespace

    from lstm_forecast.tune.study import fingerprint, same_study

    config, data = study_files
    config.write_text(config.read_text().replace(FAST_SEARCH, SEARCH))  # as ae903b3 had it
    # ae903b3 scaled bands by the EWMA alone ([forecast] scale's default before "ewma-model")
    scratch = load_tune_config(config, ["backtest.refit_from=scratch", 'forecast.scale="ewma"'])
    default = load_tune_config(config)
    # written by ae903b3, the commit before refit_from, for this same search
    old = (ROOT / "tests" / "fixtures" / "study_fingerprint_ae903b3.json").read_text()
    assert old == fingerprint(*scratch)
    assert "refit_from" not in old and "refit_from" in fingerprint(*default)
    frame = pd.DataFrame({"x": [1.0]})
    study = SimpleNamespace(user_attrs={"fingerprint": old})
    same_study(study, "s", "journal.log", fingerprint(*scratch), frame)  # resumes
    patient = load_tune_config(config, ["backtest.refit_from=scratch", 'forecast.scale="ewma"',
                                        "train.warm_start_patience=3"])  # fmt: skip
    assert fingerprint(*patient) == old
    with pytest.raises(ConfigError) as error:
        same_study(study, "s", "journal.log", fingerprint(*default), frame)
    assert (
        "(backtest.refit_from: 'previous' now, 'scratch' in the study; "
        "forecast.scale: 'ewma-model' now, 'ewma' in the study; "
        "train.warm_start_patience: 1 now, 2 in the study);"
    ) in str(error.value)
    other = load_tune_config(
        config, ["train.epochs=3", "backtest.refit_from=scratch", 'forecast.scale="ewma"']
    )
    with pytest.raises(ConfigError, match=r"\(train\.epochs: 3 now, 1 in the study\);"):
        same_study(study, "s", "journal.log", fingerprint(*other), frame)
    # a study under the default resumed as scratch: the key named with both values
    warm = SimpleNamespace(user_attrs={"fingerprint": fingerprint(*default)})
    with pytest.raises(ConfigError, match="backtest.refit_from: 'scratch' now, 'previous' in the"):
        same_study(warm, "s", "journal.log", fingerprint(*scratch), frame)


def test_best_toml_trains(study_files, tmp_path: Path):
    from lstm_forecast.app.commands import train
    from lstm_forecast.config.load import load_config

    config, data = study_files
    out = tmp_path / "study"
    result = CliRunner().invoke(app, tune_command(config, data, out, trials=2)[3:])
    assert result.exit_code == 0, result.output
    best = tomllib.loads((out / "best.toml").read_text())
    assert "tune" not in best
    best_trial = max(
        (t for t in load_trials(out) if t.state.name == "COMPLETE"), key=lambda t: t.value
    )
    assert best["train"]["learning_rate"] == pytest.approx(best_trial.params["train.learning_rate"])
    run = train(load_config(out / "best.toml"), tmp_path / "run", verbose=0)
    assert np.isfinite(run.metrics["rmse"])

    # the same directory on other data is refused, not mixed into the study
    other = tmp_path / "other.csv"
    random_walk(120, seed=4).to_csv(other, index=False, date_format="%Y-%m-%d")
    again = CliRunner().invoke(app, tune_command(config, other, out, trials=3)[3:])
    assert again.exit_code == 2
    assert "was run on other data (120 rows, 2020-01-01" in again.output
    # and with another search space
    config.write_text(config.read_text().replace("[1e-3, 1e-1]", "[1e-4, 1e-1]"))
    again = CliRunner().invoke(app, tune_command(config, data, out, trials=3)[3:])
    assert again.exit_code == 2
    assert "started with another base config" in again.output


def test_a_directory_of_other_files_is_refused(study_files, tmp_path: Path):
    config, data = study_files
    out = tmp_path / "notes"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    result = CliRunner().invoke(app, tune_command(config, data, out, trials=1)[3:])
    assert result.exit_code == 2
    assert "notes.txt" in result.output and "choose another --out" in result.output
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt"]


def test_trials_whose_config_does_not_fit_the_data_fail_in_one_line_each(study_files, tmp_path):
    config, data = study_files
    text = config.read_text().replace('"train.learning_rate" = {log = [1e-3, 1e-1]}', "")
    too_long = '[tune.params]\n"window.length" = {int = [150, 200]}'  # 120 rows of data
    config.write_text(text.replace("[tune.params]", too_long))
    out = tmp_path / "study"
    result = CliRunner().invoke(app, tune_command(config, data, out, trials=2)[3:])
    failed = [line for line in result.output.splitlines() if re.match(r"trial \d+ fail ", line)]
    assert len(failed) == 10
    assert all(f"{data}: 120 rows are too few for 2 folds of 10 rows" in line for line in failed)
    assert "Traceback" not in result.output and "Warning" not in result.output
    # the worker stops after FAILED_IN_A_ROW, says why, and exits 2: no trial completed
    assert "stopping: 10 trials in a row failed" in result.output
    assert result.exit_code == 2
    assert result.output.splitlines()[-1].startswith("error: no trial of the study completed")
    assert states(load_trials(out)) == ["FAIL"] * 10  # failures do not count towards --trials


def test_trials_whose_skill_is_undefined_fail_with_the_reason_and_the_worker_stops(
    study_files, tmp_path, monkeypatch
):
    # the folds' prices never move: the persistence baseline is exact, no skill is defined;
    # Optuna fails a trial that returns NaN without a word, and the worker sampled for ever
    config, data = study_files
    prices = pd.read_csv(data)
    prices.loc[len(prices) - 25 :, ["Open", "Close"]] = prices["Open"].iloc[-26]
    prices.to_csv(data, index=False)
    config.write_text(config.read_text().replace("[tune]\n", '[tune]\nbaseline = "persistence"\n'))
    monkeypatch.setattr("lstm_forecast.tune.trials.FAILED_IN_A_ROW", 2)
    out = tmp_path / "study"
    result = CliRunner().invoke(app, tune_command(config, data, out, trials=3)[3:])
    assert "fold 1/2: pooled skill undefined" in result.output
    failed = [line for line in result.output.splitlines() if re.match(r"trial \d+ fail ", line)]
    assert len(failed) == 2
    assert all("the pooled skill is undefined: the 'persistence' baseline" in f for f in failed)
    assert "stopping: 2 trials in a row failed" in result.output
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert states(load_trials(out)) == ["FAIL"] * 2


def test_a_study_whose_journal_was_deleted_is_not_started_afresh_over_its_results(
    study_files, tmp_path
):
    config, data = study_files
    out = tmp_path / "study"
    command = tune_command(config, data, out, trials=1)[3:]
    assert CliRunner().invoke(app, command).exit_code == 0
    (out / "journal.log").unlink()
    before = {path.name: path.read_bytes() for path in out.iterdir()}
    result = CliRunner().invoke(app, command)
    assert result.exit_code == 2
    assert result.output.startswith(f"error: {out / 'journal.log'}: is missing, yet {out} holds")
    assert {path.name: path.read_bytes() for path in out.iterdir()} == before


def test_prices_that_never_move_are_refused_before_a_study_is_started(study_files, tmp_path):
    # (a run trains on them and forecasts them flat: test_cli_series)
    config, data = study_files
    pd.read_csv(data).assign(Open=250.0, Close=250.0).to_csv(data, index=False)
    out = tmp_path / "out"
    result = CliRunner().invoke(app, tune_command(config, data, out, trials=1)[3:])
    assert result.exit_code == 2, result.output
    assert result.output.strip().splitlines()[-1] == (
        f"error: {data}: column 'Open' is 250 on all 120 rows (2020-01-01 .. 2020-06-16); a "
        "price that never moves gives a search nothing to judge: check the column (--target) "
        "and the file"
    )
    assert not out.exists()


def test_zero_trials_and_an_unreachable_database_are_refused_leaving_nothing(study_files, tmp_path):
    config, data = study_files
    out = tmp_path / "study"
    result = CliRunner().invoke(app, tune_command(config, data, out, trials=0)[3:])
    assert result.exit_code == 2 and "--trials must be at least 1, got 0" in result.output
    url = f"sqlite:///{tmp_path}/no-such-folder/study.db"  # SQLAlchemy comes with Optuna
    result = CliRunner().invoke(
        app, [*tune_command(config, data, out, trials=1)[3:], "--storage", url]
    )
    assert result.exit_code == 2
    (line,) = result.output.strip().splitlines()
    assert line.startswith(f"error: --storage {url}: cannot open the database (")
    assert not out.exists()


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="--jobs 2 needs two cores")
def test_jobs_two_runs_a_helper_process_and_exactly_the_trials_asked(study_files, tmp_path):
    config, data = study_files
    out = tmp_path / "study"
    cores = os.sched_getaffinity(0)
    result = CliRunner().invoke(app, tune_command(config, data, out, trials=4, jobs=2)[3:])
    assert result.exit_code == 0, result.output
    assert os.sched_getaffinity(0) == cores  # this process got its cores back
    trials = load_trials(out)
    assert [trial.number for trial in trials] == [0, 1, 2, 3]  # no surplus trial, none lost
    assert all(state in ("COMPLETE", "PRUNED") for state in states(trials))
    assert "(4 run by these 2 workers)" in result.output
    assert "ended with status" not in result.output  # the helper ran and ended well
    # the helper is another process (its pid is not this one's); it runs trials when it starts
    # before the study is full, which test_a_helper_joins_the_study_and_stops_at_its_total checks
    helper = {t.user_attrs["worker"] for t in trials} - {f"{os.uname().nodename}:{os.getpid()}"}
    assert all(not name.endswith(f":{os.getpid()}") for name in helper)


def test_a_helper_joins_the_study_and_stops_at_its_total(study_files, tmp_path):
    from lstm_forecast.model.backend import core_shares
    from lstm_forecast.tune.search import load_tune_config
    from lstm_forecast.tune.study import run_tune
    from lstm_forecast.tune.workers import StudyPlace, run_helper

    config, data = study_files
    out = tmp_path / "study"
    base, space = load_tune_config(config, [], data__path=str(data))
    run_tune(base, space, out, trials=1)
    lines: list[str] = []
    place = StudyPlace(base, space, out, 2, None, "lstm-forecast")
    run_helper(place, lines.append, lambda: False)
    trials = load_trials(out)
    assert [trial.number for trial in trials] == [0, 1]  # one trial, to the total of 2
    assert [line.split()[:2] for line in lines if " fold " not in line] == [["trial", "1"]]
    assert (out / "trials.csv").read_text().count("\n") == 3  # header and the two trials
    # asked to stop before it starts, a helper starts no trial (one asked while it trains ends
    # its trial after the epoch: test_a_stopped_first_worker_stops_its_helpers_after_their_epoch)
    run_helper(replace(place, total=5), lines.append, lambda: True)
    assert states(load_trials(out)) == ["COMPLETE"] * 2
    shares = core_shares(2)
    assert set().union(*shares) == os.sched_getaffinity(0) and all(shares)


@pytest.mark.parametrize(
    "jobs, message",
    [("0", "--jobs must be a whole number of at least 1, got 0"), ("999", "--jobs 999: this")],
)
def test_jobs_beyond_the_cores_are_refused_leaving_nothing(study_files, tmp_path, jobs, message):
    config, data = study_files
    out = tmp_path / "study"
    result = CliRunner().invoke(app, tune_command(config, data, out, trials=2, jobs=jobs)[3:])
    assert result.exit_code == 2 and message in result.output, result.output
    assert not out.exists()


def test_a_stopped_first_worker_stops_its_helpers_after_their_epoch(study_files, tmp_path):
    """Ctrl-C reaches the first worker (helpers ignore SIGINT): it asks them to stop, waits for
    them, and the interrupt goes on up; no trial is left RUNNING."""
    from lstm_forecast.tune.search import load_tune_config
    from lstm_forecast.tune.study import run_tune
    from lstm_forecast.tune.workers import Helpers, StudyPlace

    config, data = study_files
    out = tmp_path / "study"
    base, space = load_tune_config(config, [], data__path=str(data))
    run_tune(base, space, out, trials=1)
    cores = os.sched_getaffinity(0)
    lines: list[str] = []
    with pytest.raises(KeyboardInterrupt):
        place = StudyPlace(base, space, out, 9, None, "lstm-forecast")
        with Helpers(2, place, lambda: False, lines.append):
            deadline = time.monotonic() + 120
            while not any(state == "RUNNING" for state in states(load_trials(out))):
                assert time.monotonic() < deadline
                time.sleep(0.2)
            raise KeyboardInterrupt  # this worker's Ctrl-C
    assert os.sched_getaffinity(0) == cores
    found = states(load_trials(out))
    assert "RUNNING" not in found and "FAIL" in found  # the helper's trial, stopped
    assert len(found) < 9  # it did not go on to the study's total
    assert not lines  # no helper ended badly


def test_two_workers_of_one_folder_in_lockstep_start_exactly_the_total(monkeypatch, tmp_path):
    """Both finish a trial at the same moment and both count total - 1 live trials: the lock held
    from a worker's count to its next trial's start lets only one of them start it."""
    import threading

    from lstm_forecast.tune import trials as trials_module

    monkeypatch.setattr(trials_module, "write_tables", lambda *arguments: None)
    monkeypatch.setattr(trials_module, "trial_values", lambda trial, tune: {})
    barrier = threading.Barrier(2, timeout=10)

    def lockstep(*arguments):
        def run(trial):  # the two workers' trials end together, as equal trials do
            try:
                barrier.wait()
            except threading.BrokenBarrierError:  # the other worker has stopped
                pass
            return 0.0

        return run

    monkeypatch.setattr(trials_module, "objective", lockstep)
    count = trials_module._live

    def slow_count(study):  # a count that takes a while: the other worker counts meanwhile
        live = count(study)
        time.sleep(0.1)
        return live

    monkeypatch.setattr(trials_module, "_live", slow_count)
    study = optuna.create_study()
    total = 3  # odd: the two count 2 at the same moment

    def worker():
        trials_module.optimize(
            study, None, None, tmp_path, total, None, None, lambda line: None, lambda: False
        )
        barrier.abort()

    workers = [threading.Thread(target=worker) for _ in range(2)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join(timeout=30)
    assert [trial.number for trial in study.get_trials()] == list(range(total))
    assert not os.path.lexists(tmp_path / trials_module.NEXT_TRIAL_LOCK)  # released


@pytest.mark.filterwarnings("ignore:The value of `grace_period` might be too small")
def test_a_next_trial_lock_a_killed_worker_left_is_taken_over_without_spinning(tmp_path):
    """A lock file nobody renews is taken over after the grace period; the wait sleeps."""
    import threading

    from lstm_forecast.tune.trials import NEXT_TRIAL_LOCK, NextTrialLock

    NextTrialLock(tmp_path).acquire()  # and never released: its worker was killed
    lock = NextTrialLock(tmp_path, grace=1)
    spent = []

    def wait():
        started = time.thread_time()
        lock.acquire()
        spent.append(time.thread_time() - started)

    waiter = threading.Thread(target=wait, daemon=True)
    waiter.start()
    waiter.join(timeout=10)
    assert not waiter.is_alive() and lock.held
    assert spent[0] < 0.5  # CPU seconds of a wait of over a second: it slept
    lock.release()
    assert not os.path.lexists(tmp_path / NEXT_TRIAL_LOCK)
