import json

import numpy as np
import pandas as pd
import pytest
from conftest import random_walk

from lstm_forecast.app.commands import backtest
from lstm_forecast.backtest.walk import fold_origins
from lstm_forecast.config.load import load_config, with_overrides
from lstm_forecast.errors import DataError


def test_fold_origins_cut_the_newest_rows_into_consecutive_blocks():
    assert fold_origins(100, 3, 10, 20, "x") == [70, 80, 90]
    with pytest.raises(DataError, match="x: 100 rows are too few for 5 folds of 20 rows"):
        fold_origins(100, 5, 20, 21, "x")


def run_backtest(tmp_path, tiny_config, frame, name, folds=3, horizon=5, **overrides):
    path = tmp_path / f"{name}.csv"
    frame.to_csv(path, index=False)
    config = with_overrides(
        load_config(tiny_config), data__path=str(path), train__epochs=1, **overrides
    )
    return backtest(config, folds, horizon, tmp_path / name)


def test_backtest_writes_folds_predictions_summary_and_plot(tmp_path, tiny_config):
    seen = []
    frame = random_walk(90, seed=3)
    path = tmp_path / "prices.csv"
    frame.to_csv(path, index=False)
    config = with_overrides(
        load_config(tiny_config),
        data__path=str(path),
        train__epochs=1,
        forecast__interval="dropout",  # the tiny folds are too short to calibrate
    )
    backtest(config, 3, 5, tmp_path / "bt", on_fold=lambda fold, m: seen.append(fold))
    assert seen == [1, 2, 3]
    names = {p.name for p in (tmp_path / "bt").iterdir()}
    assert names == {
        "folds.csv", "predictions.csv", "paths.csv", "summary.json", "config.toml",
        "backtest.png", "run.json", "strategies.csv", "strategy_returns.csv", "equity.png",
    }  # fmt: skip
    # each fold's recursive path with its band (dropout here) and the naive band, per step
    paths = pd.read_csv(tmp_path / "bt" / "paths.csv")
    assert list(paths.columns) == ["fold", "step", "date", "actual", "predicted", "lower",
                                   "upper", "naive_lower", "naive_upper"]  # fmt: skip
    assert paths["fold"].tolist() == [1] * 5 + [2] * 5 + [3] * 5
    assert paths["step"].tolist() == [1, 2, 3, 4, 5] * 3
    assert (paths["naive_lower"] < paths["naive_upper"]).all()
    assert (paths["lower"] <= paths["upper"]).all()
    folds = pd.read_csv(tmp_path / "bt" / "folds.csv")
    assert folds["fold"].tolist() == [1, 2, 3]
    assert folds["train_rows"].tolist() == [75, 80, 85]
    predictions = pd.read_csv(tmp_path / "bt" / "predictions.csv")
    assert len(predictions) == 15 and predictions["predicted"].notna().all()
    # no calibration in folds this short: each row still gets a band, the naive one
    assert (predictions["lower"] < predictions["upper"]).all()
    assert {"one_step_coverage", "one_step_width", "one_step_winkler"} <= set(folds)
    expected_dates = frame["Date"].iloc[75:].dt.strftime("%Y-%m-%d").tolist()
    assert predictions["date"].tolist() == expected_dates
    for row in folds.itertuples():  # each fold trained strictly before its first prediction
        assert row.train_end < row.test_start
    summary = json.loads((tmp_path / "bt" / "summary.json").read_text())
    # folds.csv holds 6 significant digits
    assert summary["rmse"]["mean"] == pytest.approx(folds["rmse"].mean(), rel=1e-5)
    assert summary["skill"]["std"] == pytest.approx(folds["skill"].std(ddof=0), rel=1e-5)
    # each fold's recursive forecast: coverage is a share, its level and samples recorded
    assert folds["coverage"].between(0, 1).all()
    assert (summary["interval_level"], summary["samples"]) == (0.9, 100)
    assert folds["forecast_naive_rmse"].gt(0).all() and folds["forecast_rmse"].gt(0).all()


def test_coverage_counts_the_actuals_inside_the_interval(tmp_path, tiny_config):
    """samples = 0: no interval, coverage NaN; a 99 % interval from 30 samples: a share."""
    frame = random_walk(90, seed=3)
    path = tmp_path / "prices.csv"
    frame.to_csv(path, index=False)
    config = with_overrides(
        load_config(tiny_config),
        data__path=str(path),
        train__epochs=1,
        forecast__samples=0,
        forecast__interval="dropout",
    )
    result = backtest(config, 2, 5, tmp_path / "none")
    assert result.folds["coverage"].isna().all()
    wide = with_overrides(config, forecast__samples=30, forecast__level=0.99)
    assert backtest(wide, 2, 5, tmp_path / "wide").folds["coverage"].between(0, 1).all()


def test_no_information_from_a_folds_future_reaches_its_model(tmp_path, tiny_config):
    """Two series equal up to the second fold's origin, wildly different after it: the first
    fold (trained and scaled before that origin) must give identical predictions on both."""
    import tensorflow as tf

    tf.config.experimental.enable_op_determinism()
    original = random_walk(90, seed=4)
    altered = original.copy()
    altered.loc[80:, "Open"] *= 10  # rows from the second fold's origin on (origins 75, 80, 85)
    first = run_backtest(tmp_path, tiny_config, original, "original")
    second = run_backtest(tmp_path, tiny_config, altered, "altered")
    np.testing.assert_allclose(fold(first, 1), fold(second, 1), rtol=1e-6)
    # ... while a later fold does see the change (so the comparison can fail)
    assert not np.allclose(fold(first, 3), fold(second, 3))


def fold(result, number):
    return result.predictions.query(f"fold == {number}")["predicted"].to_numpy()


def test_backtest_scores_every_interval_and_tests_the_pooled_errors(tmp_path, tiny_config):
    """Enough held-out rows per fold to calibrate: conformal, adaptive and naive bands scored
    one step and recursively (Monte-Carlo dropout only when it is the interval asked for, though
    samples is 100); the pooled verdict against each fold's strongest baseline."""
    frame = random_walk(400, seed=5)
    path = tmp_path / "prices.csv"
    frame.to_csv(path, index=False)
    config = with_overrides(load_config(tiny_config), data__path=str(path), train__epochs=1)
    assert config.forecast.samples == 100 and config.forecast.interval == "conformal"
    result = backtest(config, 3, 10, tmp_path / "bt")
    summary, folds = result.summary, result.folds
    assert set(summary["recursive_intervals"]) == {"conformal", "adaptive", "naive"}
    assert set(summary["one_step_intervals"]) == {"conformal", "adaptive", "naive"}
    for scores in (
        *summary["recursive_intervals"].values(),
        *summary["one_step_intervals"].values(),
    ):
        assert 0 <= scores["coverage"] <= 1 and scores["width"] > 0
        assert scores["winkler"] >= scores["width"]  # width plus penalties for misses
    for method in ("conformal", "adaptive"):
        against = summary["recursive_intervals"][method]["against_naive"]
        better = (folds[f"{method}_winkler"] < folds["naive_winkler"]).sum()
        assert against["folds_better"] == better and against["folds"] == 3
    assert "against_naive" not in summary["recursive_intervals"]["naive"]
    assert folds["coverage"].equals(folds["conformal_coverage"])  # the configured interval
    # the pooled test compares each row with its fold's strongest baseline
    predictions = result.predictions
    assert set(folds["baseline"]) <= {"persistence", "drift", "previous_close"}
    errors = predictions["predicted"] - predictions["actual"]
    baseline = predictions["baseline"] - predictions["actual"]
    expected = 1 - np.sqrt((errors**2).mean()) / np.sqrt((baseline**2).mean())
    assert summary["pooled_skill"] == pytest.approx(expected)
    assert 0 <= summary["dm_pvalue"] <= 1
    assert summary["verdict"] in ("beats", "loses to", "no significant difference from")
    assert "skill_vs_persistence" in folds and "baselines" not in folds  # flat CSV columns


@pytest.mark.parametrize("engine", ["fast", "keras"])
def test_folds_share_one_model_and_get_the_numbers_of_fresh_models(
    tmp_path, tiny_config, engine, monkeypatch
):
    """The model pool lends one Keras model to every fold (traced and compiled once), reset to
    the seed's initial weights (and, for Keras's fit, a new optimizer): each fold's predictions
    are those of a model built for it."""
    from lstm_forecast.backtest.walk import walk_forward
    from lstm_forecast.forecaster.forecaster import Forecaster
    from lstm_forecast.model import fast_graph
    from lstm_forecast.model.build import ModelPool

    config = with_overrides(
        load_config(tiny_config),
        train__epochs=2,
        train__engine=engine,
        forecast__interval="none",
        forecast__samples=0,
        backtest__refit_from="scratch",
    )
    frame = random_walk(90, seed=5).set_index("Date")[["Open"]]
    lent, original = [], ModelPool.model

    def spy(self, *args, **kwargs):
        lent.append(original(self, *args, **kwargs))
        return lent[-1]

    monkeypatch.setattr(ModelPool, "model", spy)
    fast_graph.network.cache_clear()
    pooled = walk_forward(config, frame, 3, 5, "x", models=ModelPool())
    assert len(lent) == 3 and all(model is lent[0] for model in lent)
    if engine == "fast":  # 3 folds of 3 sizes: one graph, traced for one size and then open
        assert fast_graph.network.cache_info().misses == 1
        spec = fast_graph.Spec.from_config(config.model, config.train)
        net = fast_graph.network(spec, config.train.batch_size, config.train.learning_rate, 0)
        assert net.epoch.experimental_get_tracing_count() <= 2
    monkeypatch.undo()
    for number, origin in enumerate((75, 80, 85), start=1):
        fresh = Forecaster.fit(frame.iloc[:origin], config).with_data(frame.iloc[: origin + 5])
        expected = fresh.predict(frame.iloc[origin : origin + 5])["predicted"].to_numpy()
        np.testing.assert_allclose(fold(pooled, number), expected, rtol=1e-5)


def test_warm_refits_start_from_the_previous_folds_weights(tiny_config):
    """refit_from = "previous" (the default): each fold's model is the previous fold's, trained
    on from its weights (the pool's one model object must not hand back its initial weights);
    "scratch" gives other numbers from fold 2 on. The fast engine: both engines start from the
    weights train.fit puts into the pool's model (test_folds_share_one_model... covers Keras's
    fit on a lent model)."""
    from lstm_forecast.backtest.walk import walk_forward
    from lstm_forecast.forecaster.forecaster import Forecaster

    config = with_overrides(
        load_config(tiny_config),
        train__epochs=2,
        train__engine="fast",
        forecast__interval="none",
        forecast__samples=0,
    )
    assert config.backtest.refit_from == "previous"
    frame = random_walk(90, seed=5).set_index("Date")[["Open"]]
    warm = walk_forward(config, frame, 3, 5, "x")
    assert warm.folds["warm_start"].tolist() == [False, True, True]
    assert warm.summary["refit_from"] == "previous"
    previous = None
    for number, origin in enumerate((75, 80, 85), start=1):
        previous = Forecaster.fit(frame.iloc[:origin], config, warm_start=previous)
        expected = previous.with_data(frame.iloc[: origin + 5]).predict(
            frame.iloc[origin : origin + 5]
        )["predicted"]
        np.testing.assert_allclose(fold(warm, number), expected.to_numpy(), rtol=1e-5)
    scratch_config = with_overrides(config, backtest__refit_from="scratch")
    scratch = walk_forward(scratch_config, frame, 3, 5, "x")
    assert not scratch.folds["warm_start"].any()
    np.testing.assert_allclose(fold(scratch, 1), fold(warm, 1), rtol=1e-6)
    assert not np.allclose(fold(scratch, 3), fold(warm, 3), rtol=1e-6)


def test_a_warm_start_of_another_shape_or_kind_is_one_error(tiny_config):
    from lstm_forecast.errors import ConfigError
    from lstm_forecast.forecaster.forecaster import Forecaster

    config = load_config(tiny_config)
    frame = random_walk(60, seed=5).set_index("Date")[["Open"]]
    small = Forecaster.fit(frame, config)
    with pytest.raises(ConfigError, match=r"^warm_start: .*same \[model\] layers and inputs$"):
        Forecaster.fit(frame, apply_units(config, 6), warm_start=small)
    with pytest.raises(ConfigError, match="warm_start takes a Forecaster, got str"):
        Forecaster.fit(frame, config, warm_start="runs/x")
    with pytest.raises(ConfigError, match=r'refit_from must be "previous" or "scratch"'):
        with_overrides(config, backtest__refit_from="warm")


def apply_units(config, units: int):
    """`config` with its first layer `units` wide."""
    import dataclasses

    layers = list(config.model.layers)
    layers[0] = dataclasses.replace(layers[0], units=units)
    return dataclasses.replace(
        config, model=dataclasses.replace(config.model, layers=tuple(layers))
    )


@pytest.mark.parametrize(("refit", "new_models"), [(0, [1, 0, 0]), (2, [1, 0, 1]), (1, [1, 1, 1])])
def test_refit_trains_a_new_model_every_n_folds(tmp_path, tiny_config, refit, new_models):
    result = run_backtest(
        tmp_path,
        tiny_config,
        random_walk(90, seed=6),
        "bt",
        forecast__interval="none",
        forecast__samples=0,
        backtest__refit=refit,
    )
    folds = result.folds
    assert folds["new_model"].astype(int).tolist() == new_models
    # a new model after the first starts from the last one's weights (refit_from "previous")
    assert folds["warm_start"].astype(int).tolist() == [0, *new_models[1:]]
    # a fold without a new model predicts with the last model: trained before an earlier fold
    last_trained = folds["train_rows"].where(folds["new_model"]).ffill()
    assert folds["train_rows"].tolist() == last_trained.tolist()
    assert (folds["epochs_run"] > 0).tolist() == [bool(n) for n in new_models]
    assert result.summary["models_trained"] == sum(new_models)
    predictions = result.predictions
    assert len(predictions) == 15 and predictions["predicted"].notna().all()


def test_a_negative_refit_is_refused(tiny_config):
    from lstm_forecast.errors import ConfigError

    with pytest.raises(ConfigError, match=r"\[backtest\] refit must be >= 0"):
        with_overrides(load_config(tiny_config), backtest__refit=-1)


def test_winkler_against_the_naive_band_counts_folds_and_tests_them():
    from lstm_forecast.backtest.bands import winkler_against

    naive = np.full(10, 100.0)
    better = winkler_against(naive - np.arange(1, 11), naive)  # lower in every fold
    assert better["folds_better"] == 10 and better["folds"] == 10
    assert better["pvalue"] == pytest.approx(2 / 2**10)  # exact: the one most extreme sign pattern
    # one large loss among small wins: no evidence either way
    mixed = winkler_against(np.array([90.0, 95, 98, 99, 600]), np.full(5, 100.0))
    assert mixed["folds_better"] == 4 and mixed["pvalue"] > 0.5
    # fewer than two folds that differ: no test
    assert np.isnan(winkler_against(np.array([100.0, 90]), np.array([100.0, 100]))["pvalue"])


@pytest.mark.parametrize("online", ["none", "track"])
def test_each_row_keeps_its_folds_band_and_the_written_band_is_scored(tiny_config, online):
    """Two refits, two calibrations: with online = "none" each row's band in predictions.csv
    is its own fold's static band (the summary's "conformal"); with "track" the summary scores
    the tracked band predictions.csv holds."""
    from lstm_forecast.backtest.walk import walk_forward
    from lstm_forecast.intervals.scores import band_scores

    config = with_overrides(
        load_config(tiny_config),
        train__epochs=1,
        forecast__samples=0,
        forecast__online=online,
        backtest__refit=2,
    )
    frame = random_walk(160, seed=8).set_index("Date")[["Open"]]
    result = walk_forward(config, frame, 4, 5, "x", strategies=False)
    rows = result.predictions
    scores = band_scores(rows["actual"], rows["lower"], rows["upper"], 0.9)
    one_step = result.summary["one_step_intervals"]
    if online == "none":
        assert scores == pytest.approx(one_step["conformal"])
    else:
        assert scores == pytest.approx(one_step["tracked"])
