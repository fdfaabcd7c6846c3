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
