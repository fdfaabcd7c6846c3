import json

import numpy as np
import pandas as pd
import pytest
from conftest import random_walk

from lstm_forecast.app import commands as runs
from lstm_forecast.config.load import load_config, with_overrides
from lstm_forecast.errors import DataError, ForecastError
from lstm_forecast.evaluate.metrics import evaluate
from lstm_forecast.forecaster import bundle

RUN_FILES = {
    "model.keras",
    "scaler.json",
    "config.toml",
    "metrics.json",
    "history.csv",
    "predictions.csv",
    "series.csv",
    "run.json",
}


def test_run_directory_holds_every_file(trained_run):
    result, _, _ = trained_run
    assert RUN_FILES <= {path.name for path in result.run_dir.iterdir()}  # plot tests add plot.png
    assert not list(result.run_dir.parent.glob(".run.*"))  # no staging directory left


def test_metrics_are_those_of_the_saved_predictions(trained_run):
    result, _, test_csv = trained_run
    predictions = pd.read_csv(result.run_dir / "predictions.csv")
    assert list(predictions.columns) == [
        "date", "actual", "predicted", "persistence", "previous_close", "lower", "upper"
    ]  # fmt: skip
    # the one-step conformal band around each prediction, and how often it held
    assert (predictions["lower"] < predictions["predicted"]).all()
    assert (predictions["predicted"] < predictions["upper"]).all()
    inside = predictions["actual"].between(predictions["lower"], predictions["upper"])
    metrics_file = json.loads((result.run_dir / "metrics.json").read_text())
    assert metrics_file["coverage"] == pytest.approx(inside.mean())
    assert metrics_file["interval"] == "conformal" and metrics_file["level"] == 0.9
    assert len(predictions) == 20  # every test row, the first ones from the training history
    assert predictions["predicted"].notna().all()
    metrics = json.loads((result.run_dir / "metrics.json").read_text())
    again = evaluate(
        predictions["actual"],
        predictions["predicted"],
        predictions["persistence"],
        previous_close=predictions["previous_close"],
        baseline=metrics["baseline"],  # chosen on the training span
    )
    for key in ("rmse", "mae", "mape", "naive_rmse", "skill", "skill_persistence", "dm_pvalue"):
        assert metrics[key] == pytest.approx(again[key], rel=1e-4)
    # persistence of the first test row is the last training price, as in the reference
    assert predictions["persistence"].iloc[0] == pytest.approx(result.split.train.iloc[-1])


def test_scaler_is_fit_on_the_training_rows_only(trained_run):
    result, _, _ = trained_run
    scaler = json.loads((result.run_dir / "scaler.json").read_text())
    assert scaler["data_min"] == [pytest.approx(result.split.train.min())]
    assert scaler["data_max"] == [pytest.approx(result.split.train.max())]


def test_history_and_resolved_config(trained_run):
    result, train_csv, test_csv = trained_run
    history = pd.read_csv(result.run_dir / "history.csv")
    assert list(history.columns) == ["epoch", "loss", "seconds"]
    assert history["epoch"].tolist() == [1, 2]
    config = load_config(result.run_dir / "config.toml")
    assert config.data.path == str(train_csv.resolve())
    assert config.data.test_path == str(test_csv.resolve())
    manifest = json.loads((result.run_dir / "run.json").read_text())
    assert manifest["versions"]["keras"].startswith("3.")
    assert manifest["features"] == ["Open"]


def test_predict_on_the_test_csv_reproduces_the_run(trained_run):
    result, _, test_csv = trained_run
    saved = pd.read_csv(result.run_dir / "predictions.csv")
    table, source, metrics, _ = runs.predict(result.run_dir, test_csv, out="-")
    assert source == str(test_csv)
    assert not table["in_sample"].any()
    assert metrics["rmse"] == pytest.approx(result.metrics["rmse"], rel=1e-5)
    assert table["date"].tolist() == saved["date"].tolist()
    np.testing.assert_allclose(table["predicted"], saved["predicted"], rtol=1e-6)


def test_too_little_data_fails_before_any_run_directory(tmp_path, tiny_config):
    path = tmp_path / "short.csv"
    random_walk(7).to_csv(path, index=False)  # 6 training rows, 1 test row
    config = with_overrides(load_config(tiny_config), data__path=str(path))
    with pytest.raises(DataError, match="6 training rows, but a window of 5 .* needs at least 7"):
        runs.train(config, tmp_path / "run", verbose=0)
    assert not (tmp_path / "run").exists()


def test_existing_output_is_refused_without_overwrite(tmp_path, tiny_config, prices_csv):
    out = tmp_path / "run"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    config = with_overrides(load_config(tiny_config), data__path=str(prices_csv))
    with pytest.raises(
        ForecastError, match="already exists; choose another --out or pass --overwrite"
    ):
        runs.train(config, out, verbose=0)
    assert (out / "keep.txt").read_text() == "mine"


def test_a_failure_while_writing_leaves_nothing_behind(
    tmp_path, tiny_config, prices_csv, monkeypatch
):
    def broken_write(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(bundle, "write_run", broken_write)
    config = with_overrides(load_config(tiny_config), data__path=str(prices_csv))
    with pytest.raises(OSError, match="disk full"):
        runs.train(config, tmp_path / "run", verbose=0)
    # neither the run nor its staging directory remains
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(
        [tiny_config.name, prices_csv.name]
    )


def test_load_run_errors(tmp_path):
    with pytest.raises(ForecastError, match="no such run directory"):
        bundle.read_run(tmp_path / "missing")
    (tmp_path / "half").mkdir()
    (tmp_path / "half" / "config.toml").write_text("")
    with pytest.raises(
        ForecastError, match="not a complete run \\(missing model.keras, scaler.json"
    ):
        bundle.read_run(tmp_path / "half")
