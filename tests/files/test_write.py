"""The one writer under a full, read-only or forbidden disk: one line naming the file and the fix,
nothing half-written."""

from __future__ import annotations

from pathlib import Path

import pytest


def test_a_full_disk_names_the_file_and_the_fix(tmp_path, monkeypatch):
    import errno

    from lstm_forecast.errors import OutputError
    from lstm_forecast.files.write import write_text

    def full(self, text, *args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Path, "write_text", full)
    with pytest.raises(OutputError) as error:
        write_text(tmp_path / "summary.json", "{}")
    message = str(error.value)
    assert message.startswith(f"{tmp_path / 'summary.json'}: cannot write it (No space left")
    assert "the disk is full: free some space" in message
    monkeypatch.undo()
    assert list(tmp_path.iterdir()) == []  # nothing half-written


def test_json_is_strict_a_missing_number_is_null(tmp_path):
    import json
    import math

    import numpy as np

    from lstm_forecast.files.write import write_json

    path = write_json(
        tmp_path / "summary.json",
        {"skill": math.nan, "p": np.float64("inf"), "folds": [{"rmse": -math.inf}, (1.5, 2)]},
    )

    def refuse(name):
        raise ValueError(name)

    assert json.loads(path.read_text(), parse_constant=refuse) == {
        "skill": None,
        "p": None,
        "folds": [{"rmse": None}, [1.5, 2]],
    }


def test_of_two_commands_writing_one_out_the_second_to_finish_refuses(tmp_path):
    import json
    import shutil

    from lstm_forecast.errors import OutputError
    from lstm_forecast.files.staging import staged_directory
    from lstm_forecast.files.write import write_marker, write_text

    out = tmp_path / "run"
    for existing in (False, True):  # a new --out, and one replaced with --overwrite
        if existing:  # the first round's output, replaced below
            assert json.loads((out / "run.json").read_text())["by"] == "first"
        with pytest.raises(OutputError, match="written by another command while this one ran"):
            with staged_directory(out, overwrite=True) as staging:
                write_text(staging / "mine.txt", "second")
                with staged_directory(out, overwrite=True) as other:  # finishes first
                    write_marker(other, "run", by="first")
        assert json.loads((out / "run.json").read_text())["by"] == "first"
        assert not (out / "mine.txt").exists()
        assert [p.name for p in tmp_path.iterdir()] == ["run"]  # no hidden folder left
    with staged_directory(out, overwrite=True) as staging:  # removed meanwhile: nothing to keep
        write_marker(staging, "run", by="second")
        shutil.rmtree(out)
    assert json.loads((out / "run.json").read_text())["by"] == "second"
    with staged_directory(out, overwrite=True) as staging:  # a file written inside: no conflict
        write_marker(staging, "run", by="third")
        write_text(out / "forecast.csv", "date,predicted\n")
    assert json.loads((out / "run.json").read_text())["by"] == "third"


def test_a_full_disk_inside_a_staged_folder_names_the_output(tmp_path, monkeypatch):
    import errno

    from lstm_forecast.errors import OutputError
    from lstm_forecast.files.staging import staged_directory
    from lstm_forecast.files.write import write_text

    def full(self, text, *args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(OutputError) as error:
        with staged_directory(tmp_path / "bt", overwrite=False) as staging:
            monkeypatch.setattr(Path, "write_text", full)
            write_text(staging / "summary.json", "{}")
    monkeypatch.undo()
    assert str(error.value).startswith(f"{tmp_path / 'bt' / 'summary.json'}: cannot write it")
    assert list(tmp_path.iterdir()) == []
