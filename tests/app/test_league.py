"""`backtest` of many series: worker processes pinned to their cores, a real local Dask cluster, the
league table checked against the predictions it was computed from."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT, TINY_CONFIG, random_walk
from typer.testing import CliRunner

from lstm_forecast.app.league import COLUMNS, league
from lstm_forecast.cli.base import app
from lstm_forecast.config.load import config_from_dict

QUICK = TINY_CONFIG.format(transform="log_return").replace("epochs = 2", "epochs = 1")
QUICK += '\n[forecast]\nsamples = 5\ninterval = "dropout"  # the tiny series are too short to calibrate\n'


@pytest.fixture
def series_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "series"
    folder.mkdir()
    for seed in (1, 2):
        random_walk(80, seed=seed).to_csv(folder / f"walk{seed}.csv", index=False)
    (tmp_path / "quick.toml").write_text(QUICK)
    return folder


def rmse(errors) -> float:
    return float(np.sqrt(np.mean(np.square(errors))))


def test_a_folder_of_series_gives_a_league_table(series_folder: Path, tmp_path: Path):
    """One worker process (each imports TensorFlow): two run in the --help example's league and
    in the pinned-workers test below."""
    out = tmp_path / "league"
    arguments = ["backtest", "--config", str(tmp_path / "quick.toml"), "--data", str(series_folder),
                 "--folds", "2", "--fold-length", "5", "--jobs", "1", "--out", str(out)]  # fmt: skip
    result = CliRunner().invoke(app, arguments)
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out / "league.csv")
    assert tuple(table.columns) == COLUMNS
    assert sorted(table["series"]) == ["walk1", "walk2"]
    assert table["skill"].is_monotonic_decreasing
    predictions = pd.read_csv(out / "predictions.csv")
    for row in table.itertuples():
        rows = predictions[predictions["series"] == row.series]
        assert len(rows) == row.rows == 10  # 2 folds of 5 rows
        model, persistence, baseline = (
            rows["predicted"] - rows["actual"],
            rows["persistence"] - rows["actual"],
            rows["baseline"] - rows["actual"],  # each fold's strongest baseline
        )
        assert row.rmse == pytest.approx(rmse(model), rel=1e-4)
        assert row.persistence_rmse == pytest.approx(rmse(persistence), rel=1e-4)
        assert row.skill == pytest.approx(1 - rmse(model) / rmse(baseline), rel=1e-3, abs=1e-5)
        assert 0 <= row.dm_pvalue <= 1 and 0 <= row.coverage <= 1
    assert "walk1" in result.output and "league.csv" in result.output

    # its report: the count of verdicts and the table, one row per series
    report = CliRunner().invoke(app, ["report", str(out)])
    assert report.exit_code == 0, report.output
    page = (out / "report.html").read_text()
    beats, loses = (int((table["verdict"] == v).sum()) for v in ("beats", "loses to"))
    assert f"significantly on {beats} of 2 series, loses to it on {loses}" in page
    assert page.count("<td>walk") == 2


def test_a_missing_series_fails_before_any_training(series_folder: Path, tmp_path: Path):
    arguments = ["backtest", "--config", str(tmp_path / "quick.toml"), "--data",
                 str(series_folder / "walk1.csv"), "--data", str(tmp_path / "absent.csv"),
                 "--folds", "2", "--fold-length", "5", "--out", str(tmp_path / "league")]  # fmt: skip
    result = CliRunner().invoke(app, arguments)
    assert result.exit_code == 2
    assert "absent.csv" in result.output
    assert not (tmp_path / "league").exists()


def test_the_series_run_on_a_dask_cluster(series_folder: Path, monkeypatch):
    import tomllib

    import distributed  # the test extra installs it: a missing one fails

    from lstm_forecast.prep.inputs import read_prices

    monkeypatch.setenv("PYTHONPATH", str(ROOT))  # the workers import this checkout
    config = config_from_dict(tomllib.loads(QUICK))
    frames = {
        path.stem: (read_prices(path, config), str(path))
        for path in sorted(series_folder.iterdir())
    }
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        result = league(config, frames, folds=2, fold_length=5, scheduler=cluster.scheduler_address)
        with distributed.Client(cluster.scheduler_address) as client:
            ran_on = client.run(lambda: "lstm_forecast.backtest.walk" in __import__("sys").modules)
    assert sorted(result.table["series"]) == ["walk1", "walk2"]
    assert any(ran_on.values())  # the backtests ran in the cluster's worker processes
    assert result.table["rows"].tolist() == [10, 10]
    assert set(result.predictions["series"]) == {"walk1", "walk2"}


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="needs two cores to share out")
def test_league_workers_each_get_their_own_cores_and_a_failure_ends_them():
    import multiprocessing
    import time

    from lstm_forecast.app.league import on_pinned_workers
    from lstm_forecast.errors import LstmForecastError
    from lstm_forecast.model.backend import available_cores, core_shares

    cores = sorted(os.sched_getaffinity(0))
    shares = core_shares(len(cores))
    assert sorted(min(share) for share in shares) == cores  # one core each, all of them
    assert all(len(share) == 1 for share in shares)
    assert core_shares(1) == [set(cores)]
    assert [len(share) for share in core_shares(len(cores) + 1)] == [1] * (len(cores) + 1)
    # each worker sees its own share: one core of the two
    assert list(on_pinned_workers(available_cores, [(), ()], 2)) == [1, 1]

    # one call fails at once while the other would run for a minute: the error comes back
    # at once, and the busy worker is ended, not waited for
    others = set(multiprocessing.active_children())  # other tests' in this process
    started = time.monotonic()
    with pytest.raises(ValueError, match="non-negative"):
        list(on_pinned_workers(time.sleep, [(60,), (-1,)], 2))
    assert time.monotonic() - started < 30
    for child in set(multiprocessing.active_children()) - others:
        child.join(10)
        # join() can return before the ended worker is reaped (the pool's thread may reap it):
        # poll until it is gone
        deadline = time.monotonic() + 10
        while child.is_alive() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not child.is_alive(), child
    # a worker killed outright (as the out-of-memory killer would): one line, naming --jobs
    with pytest.raises(LstmForecastError, match="fewer --jobs than 2"):
        list(on_pinned_workers(os._exit, [(1,), (1,)], 2))
