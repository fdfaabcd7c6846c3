"""Run directories written by lstm-forecast 0.2.0 (tests/fixtures/runs_v0_2, made before the package
was restructured) still load, predict and forecast the numbers they gave then."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from conftest import FIXTURES

OLD_RUNS = FIXTURES / "runs_v0_2"


@pytest.mark.parametrize("cell", ["lstm", "peephole"])
def test_a_run_of_the_previous_release_predicts_as_it_did(cell, tmp_path):
    from lstm_forecast import Forecaster

    run = shutil.copytree(OLD_RUNS / f"run_{cell}", tmp_path / "run")  # never touch the fixture
    expected = json.loads((OLD_RUNS / f"expected_{cell}.json").read_text())
    forecaster = Forecaster.load(run)
    predictions = forecaster.predict(forecaster.data.iloc[180:])
    np.testing.assert_allclose(predictions["predicted"], expected["predicted"], atol=2e-6)
    table = forecaster.forecast(5).table
    np.testing.assert_allclose(table["predicted"], expected["forecast"], atol=2e-6)
    np.testing.assert_allclose(table["lower"], expected["lower"], atol=2e-6, equal_nan=True)
    traces = forecaster.gates()  # the gates of a run from before issue 31
    gates = traces[traces["gate"].isin(["forget", "input", "output"])]
    assert len(gates) and gates["value"].between(0, 1).all()
    hidden = traces[traces["gate"] == "hidden"]
    assert len(hidden) and hidden["value"].between(-1, 1).all()


def test_predict_on_a_run_that_names_no_data_file_asks_for_one(tmp_path):
    """A run trained in Python on a frame has no data path: `predict` without --data says so in
    one line (it read the current directory as a CSV before)."""
    from lstm_forecast.app.commands import predict
    from lstm_forecast.errors import DataError

    run = shutil.copytree(OLD_RUNS / "run_lstm", tmp_path / "run")
    with pytest.raises(DataError, match="the run names no data file; pass one with --data CSV"):
        predict(run, out="-")
