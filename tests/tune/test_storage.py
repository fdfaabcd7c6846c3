"""A tune study's files under misuse: a journal cut short is repaired (a copy kept) before anything
is appended to it, other damage is refused in one line with nothing written, a refused resume
writes nothing, and a study's own report does not stop it from resuming."""

from __future__ import annotations

import re

import optuna  # a test dependency
import pandas as pd
import pytest

from lstm_forecast.errors import ConfigError, OutputError
from lstm_forecast.files.write import write_marker
from lstm_forecast.tune.storage import check_same_storage, check_tune_directory, open_storage
from lstm_forecast.tune.study import data_digest, refuse_another_study

optuna.logging.set_verbosity(optuna.logging.ERROR)


def journal_study(folder, trials=3):
    """A small study in folder/journal.log, as `tune` writes one."""
    storage = open_storage(folder, None)
    study = optuna.create_study(storage=storage, study_name="s", direction="maximize")
    study.optimize(lambda trial: trial.suggest_float("x", 0, 1), n_trials=trials)
    return study


def test_a_journal_cut_mid_record_is_repaired_and_the_study_resumes(tmp_path):
    journal_study(tmp_path)
    journal = tmp_path / "journal.log"
    whole = journal.read_bytes()
    journal.write_bytes(whole + b'{"op_code": 4, "worker_id": "cut-he')  # a crash mid-write
    said = []
    storage = open_storage(tmp_path, None, said.append)
    (copy,) = tmp_path.glob("journal.log.damaged-*")
    assert copy.read_bytes() == whole + b'{"op_code": 4, "worker_id": "cut-he'
    assert journal.read_bytes() == whole
    assert "last record was cut short" in said[0] and copy.name in said[0]
    study = optuna.load_study(study_name="s", storage=storage)
    study.optimize(lambda trial: trial.suggest_float("x", 0, 1), n_trials=1)
    reread = optuna.load_study(study_name="s", storage=open_storage(tmp_path, None))
    assert len(reread.trials) == 4  # the appended trial reads: nothing sits mid-file
    check_tune_directory(tmp_path)  # the kept copy is a file of ours


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda data: b"\xff\xfe" + data, "not an Optuna journal (not UTF-8 text at byte 0)"),
        (lambda data: data.replace(b"\n", b"\n{broken\n", 1), "line 2 is damaged"),
        (lambda data: b"[1, 2]\n" + data, "line 1 is not an Optuna journal record"),
        (lambda data: b'{"op_code": 99}\n' + data, "Optuna cannot replay its records"),
        (lambda data: data + b'{"op_code": 4}\n', "Optuna cannot replay its records"),
    ],
)
def test_other_damage_is_refused_in_one_line_and_nothing_is_written(tmp_path, damage, message):
    journal_study(tmp_path)
    journal = tmp_path / "journal.log"
    journal.write_bytes(damage(journal.read_bytes()))
    before = {path.name: path.read_bytes() for path in tmp_path.iterdir() if path.is_file()}
    with pytest.raises(OutputError, match=re.escape(message)) as error:
        open_storage(tmp_path, None)
    assert "\n" not in str(error.value) and "restore journal.log from a copy" in str(error.value)
    after = {path.name: path.read_bytes() for path in tmp_path.iterdir() if path.is_file()}
    assert after == before


def test_a_refused_resume_writes_nothing(tmp_path):
    study = journal_study(tmp_path)
    frame = pd.DataFrame({"Close": [1.0, 2.0, 3.0]}, index=pd.date_range("2024-01-01", periods=3))
    study.set_user_attr("fingerprint", "started-with-this")
    study.set_user_attr("data", data_digest(frame))
    journal = tmp_path / "journal.log"
    before = journal.read_bytes()
    storage = open_storage(tmp_path, None)
    with pytest.raises(ConfigError, match="was started with another base config"):
        refuse_another_study(storage, "s", "journal.log", "another", frame)
    other = frame * 2
    with pytest.raises(Exception, match="was run on other data"):
        refuse_another_study(storage, "s", "journal.log", "started-with-this", other)
    refuse_another_study(storage, "s", "journal.log", "started-with-this", frame)  # the same: fine
    refuse_another_study(storage, "new", "journal.log", "anything", frame)  # no such study yet
    assert journal.read_bytes() == before


def test_a_study_with_its_own_report_inside_still_resumes(tmp_path):
    write_marker(tmp_path, "tune", study="s", storage="journal.log")
    (tmp_path / "report.html").write_text("<html></html>")
    check_tune_directory(tmp_path)


@pytest.mark.parametrize(
    ("damage", "study", "shown", "message"),
    [
        ("delete", "s", "journal.log", "journal.log: is missing, yet"),
        ("empty", "s", "journal.log", "journal.log: is empty, yet"),
        (None, "other", "journal.log", "holds study 's', not 'other'; resume it with --study s"),
        (None, "s", "sqlite:///x.db", "stored in journal.log, not sqlite:///x.db; resume it "
         "without --storage"),
    ],
)  # fmt: skip
def test_a_resume_that_would_start_afresh_over_a_study_is_refused(
    tmp_path, damage, study, shown, message
):
    journal_study(tmp_path)
    write_marker(tmp_path, "tune", study="s", storage="journal.log")
    (tmp_path / "trials.csv").write_text("number,state,value\n0,COMPLETE,0.1\n")
    journal = tmp_path / "journal.log"
    if damage == "delete":
        journal.unlink()
    elif damage == "empty":
        journal.write_bytes(b"")
    before = {path.name: path.read_bytes() for path in tmp_path.iterdir()}
    with pytest.raises(OutputError, match=re.escape(message)) as error:
        check_same_storage(tmp_path, study, shown)
    assert "\n" not in str(error.value)
    assert {path.name: path.read_bytes() for path in tmp_path.iterdir()} == before


def test_a_resume_of_the_same_study_and_a_study_killed_before_its_results_pass(tmp_path):
    write_marker(tmp_path, "tune", study="s", storage="journal.log")
    check_same_storage(tmp_path, "s", "journal.log")  # no journal, no results yet: starts
    journal_study(tmp_path)
    (tmp_path / "trials.csv").write_text("number,state,value\n0,COMPLETE,0.1\n")
    check_same_storage(tmp_path, "s", "journal.log")  # the journal holds it: resumes
