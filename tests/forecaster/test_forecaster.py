"""The Forecaster object: the notebook flow of the README, save/load round trips, checks."""

import json
import re

import numpy as np
import pandas as pd
import pytest
from conftest import TINY_CONFIG, random_walk

from lstm_forecast import Forecaster, load_config, read_prices
from lstm_forecast.config.load import apply_settings, config_from_dict
from lstm_forecast.config.schema import Config
from lstm_forecast.errors import BundleError, ConfigError, DataError


@pytest.fixture(scope="module")
def prices(tmp_path_factory) -> pd.DataFrame:
    path = tmp_path_factory.mktemp("prices") / "prices.csv"
    random_walk(150, seed=4).to_csv(path, index=False)
    return read_prices(path, load_config())


@pytest.fixture(scope="module")
def config(tmp_path_factory):
    path = tmp_path_factory.mktemp("config") / "tiny.toml"
    path.write_text(TINY_CONFIG.format(transform="log_return"))
    return load_config(path)


@pytest.fixture(scope="module")
def forecaster(prices, config) -> Forecaster:
    return Forecaster.fit(prices[:"2020-05-15"], config)


def test_the_readme_flow(forecaster, prices, tmp_path):
    later = prices["2020-05-18":]
    table = forecaster.predict(later)
    assert list(table.columns) == [
        "date", "actual", "predicted", "persistence", "previous_close", "in_sample", "lower",
        "upper",
    ]  # fmt: skip
    # each new row's one-step band, adapted as the rows' actuals arrive
    assert (table["lower"] < table["predicted"]).all() and (
        table["predicted"] < table["upper"]
    ).all()
    assert len(table) == len(later) and table["predicted"].notna().all()  # history from the fit
    assert not table["in_sample"].any()
    future = forecaster.forecast(7, interval="none").table.dropna(subset=["predicted"])
    assert len(future) == 7 and future["lower"].isna().all()
    banded = forecaster.forecast(7).table.dropna(subset=["predicted"])  # conformal by default
    assert (banded["lower"] < banded["predicted"]).all()
    assert (banded["predicted"] < banded["upper"]).all()
    np.testing.assert_allclose(banded["predicted"], future["predicted"])
    loaded = Forecaster.load(forecaster.save(tmp_path / "run"))
    np.testing.assert_allclose(loaded.predict(later)["predicted"], table["predicted"], rtol=1e-6)
    assert loaded.train_rows == forecaster.train_rows and loaded.drift == forecaster.drift


def test_fit_takes_columns_by_name_and_knows_its_training_span(forecaster, prices):
    assert forecaster.target == "Open"
    assert forecaster.train_span == (prices.index[0], pd.Timestamp("2020-05-15"))
    assert forecaster.fit_info["engine"] == "fast"
    assert forecaster.fit_info["epochs_run"] == 2
    assert forecaster.inputs.history_rows == 6  # window 5 + 1 for the log return


def test_predict_marks_the_rows_it_trained_on(forecaster, prices):
    table = forecaster.predict(prices)
    in_sample = table["in_sample"].to_numpy()
    assert in_sample.sum() == forecaster.train_rows
    metrics = forecaster.evaluate(table)
    assert metrics["in_sample_rows_left_out"] == forecaster.train_rows
    assert metrics["rows"] == len(prices) - forecaster.train_rows
    at_close = (prices.index + pd.Timedelta(hours=16)).tz_localize("America/New_York")
    fetched = forecaster.predict(prices.set_axis(at_close))  # the same rows with UTC offsets
    assert fetched["in_sample"].sum() == forecaster.train_rows
    np.testing.assert_allclose(fetched["predicted"], table["predicted"], rtol=1e-6)
    assert fetched["date"].iloc[-1].endswith("16:00:00-04:00")
    later = prices["2020-05-18":]
    moved = forecaster.forecast(3, later.set_axis(at_close[-len(later) :]), interval="none")
    assert moved.table["predicted"].notna().sum() == 3


def test_prices_need_dates_and_the_configured_columns(config):
    with pytest.raises(DataError, match="need a DatetimeIndex"):
        Forecaster.fit(pd.DataFrame({"Open": np.arange(50.0)}), config)
    dated = pd.DataFrame(
        {"A": np.arange(50.0), "B": np.arange(50.0)}, index=pd.bdate_range("2020", periods=50)
    )
    with pytest.raises(DataError, match="columns A, B; the config needs Open"):
        Forecaster.fit(dated, config)
    with pytest.raises(DataError, match="prices have no columns; the config needs Open"):
        Forecaster.fit(dated[[]], config)


def test_a_loaded_run_is_checked_against_its_files(forecaster, tmp_path):
    run = forecaster.save(tmp_path / "run")
    (run / "config.toml").write_text((run / "config.toml").read_text().replace("5", "6", 1))
    with pytest.raises(BundleError, match="config.toml: changed since the run was saved"):
        Forecaster.load(run)
    for checksums in ({}, {"model.keras": "x"}):  # the check cannot be switched off
        manifest = json.loads((run / "run.json").read_text())
        (run / "run.json").write_text(json.dumps({**manifest, "checksums": checksums}))
        with pytest.raises(BundleError, match="run.json: no checksum for "):
            Forecaster.load(run)


def test_set_overrides_any_key_with_toml_values(config):
    changed = apply_settings(
        config, ["window.length=9", "train.learning_rate=0.01", 'data.features=["Volume"]']
    )
    assert (changed.window.length, changed.train.learning_rate) == (9, 0.01)
    assert changed.data.features == ("Volume",)
    assert apply_settings(config, ["data.target=Close"]).data.target == "Close"  # bare string
    for setting, message in [
        ("window.length", "write it as section.key=value"),
        ("nope.key=1", "unknown section [nope]"),
        ("train.epochz=3", "unknown key 'epochz'"),
        ("train.epochs=0", "epochs must be at least 1"),
        ("train.seed=-1", "seed must be in 0..4294967295"),
    ]:
        with pytest.raises(ConfigError, match=message.replace("[", "\\[").replace(".", "\\.")):
            apply_settings(config, [setting])


def test_features_are_parsed_once_when_the_config_is_read():
    config = config_from_dict({"data": {"features": ["sma(Close, 3)", "Volume"]}})
    first = config.data.parsed_features
    assert first is config.data.parsed_features  # cached, not parsed again
    assert [feature.kind for feature in first] == ["sma", "raw"]


def test_the_forecast_keeps_of_the_models_path_what_the_calibration_weights_say(forecaster):
    import dataclasses

    assert forecaster.calibration is not None
    weights = forecaster.calibration.weights
    assert len(weights) == forecaster.calibration.steps and all(0 <= w <= 1 for w in weights)
    last = float(forecaster.data.iloc[-1, 0])
    flat = dataclasses.replace(forecaster, calibration=dataclasses.replace(
        forecaster.calibration, weights=(0.0,) * len(weights)))  # fmt: skip
    table = flat.forecast(5).table.dropna(subset=["predicted"])
    np.testing.assert_allclose(table["predicted"], last)  # nothing kept: the last price
    whole = dataclasses.replace(forecaster, calibration=dataclasses.replace(
        forecaster.calibration, weights=()))  # fmt: skip
    model_path = whole.forecast(5, interval="none").table.dropna(subset=["predicted"])
    combined = forecaster.forecast(5, interval="none").table.dropna(subset=["predicted"])
    expected = forecaster.calibration.combine(model_path["predicted"].to_numpy()[None], last)[0]
    np.testing.assert_allclose(combined["predicted"], expected, rtol=1e-9)


@pytest.mark.parametrize(
    "damage, message",
    [
        (lambda p: p.iloc[::-1], "dates must run oldest first, but 2020-07-27 follows 2020-07-28"),
        (lambda p: pd.concat([p.iloc[:50], p.iloc[49:]]), "the date 2020-03-10 appears more than"),
        (lambda p: p.iloc[:0], "no rows of prices"),
        (
            lambda p: p.assign(Open=p["Open"].where(p.index != "2020-02-03")),
            "'Open' is nan on 2020-02-03",
        ),
        (
            lambda p: p.assign(Open=p["Open"].astype(object).where(p.index != "2020-02-03", "n/a")),
            "'Open' is 'n/a' on 2020-02-03, not a finite number",
        ),  # fmt: skip
        (
            lambda p: p.to_numpy(),
            "must be a pandas DataFrame or Series with dates as the index, got ndarray",
        ),
        (lambda p: p.rename(columns={"Close": "Open"}), "the column 'Open' appears more than once"),
        (lambda p: p.assign(Open=p["Open"] + 1j), "column 'Open' holds complex128 values"),
        (lambda p: p.assign(Open=p.index), "column 'Open' holds datetime64"),
        (lambda p: p * 1e300, "column 'Open' is 9.951e+301 on 2020-01-01: no price is that"),
    ],
)
def test_prices_from_python_are_checked_as_a_file_is(prices, config, damage, message):
    with pytest.raises(DataError, match=f"^training data: .*{re.escape(message)}"):
        Forecaster.fit(damage(prices), config)


def test_fit_and_read_prices_take_a_config_path_dict_or_none(prices, tmp_path):
    path = tmp_path / "tiny.toml"
    path.write_text(TINY_CONFIG.format(transform="diff"))
    assert Forecaster.fit(prices, str(path)).config.window.target_transform == "diff"
    raw = {"window": {"length": 5, "target_transform": "diff"}, "train": {"epochs": 1}}
    assert Forecaster.fit(prices, raw).inputs.length == 5
    with pytest.raises(ConfigError, match="config must be a Config .* got list"):
        Forecaster.fit(prices, ["window"])
    csv = tmp_path / "prices.csv"
    random_walk(80, seed=2).to_csv(csv, index=False)
    assert list(read_prices(csv).columns) == ["Open", "Close"]  # the default config: Open


def test_api_misuse_is_one_lstm_forecast_error(forecaster, prices):
    with pytest.raises(ConfigError, match="steps must be a whole number, got '5'"):
        forecaster.forecast("5")
    with pytest.raises(
        ConfigError, match=r"^forecast settings level=2.0: \[forecast\] level must be in"
    ):
        forecaster.forecast(3, level=2.0)
    with pytest.raises(DataError, match=r"evaluate\(\) takes the table predict\(\) returns"):
        forecaster.evaluate(pd.DataFrame({"x": [1.0]}))
    with pytest.raises(DataError, match="^data: no rows of prices"):
        forecaster.predict(prices.iloc[:0])


def test_wrong_argument_types_are_one_lstm_forecast_error(forecaster, prices, tmp_path):
    assert len(forecaster.forecast(np.int64(3)).table.dropna(subset=["predicted"])) == 3
    for origin in (5, True, 3.5, ""):
        with pytest.raises(DataError, match=f"--origin {origin!r} is not a date"):
            forecaster.forecast(3, origin=origin)
    table = forecaster.predict()
    for damaged in (table.iloc[:0], table.assign(predicted=np.nan), table.assign(actual=np.nan)):
        with pytest.raises(DataError, match="no row has both an actual and a predicted price"):
            forecaster.evaluate(damaged)
    with pytest.raises(DataError, match="actual and predicted must be numbers"):
        forecaster.evaluate(table.assign(predicted="x"))
    for damaged in (table.drop(columns="date"), table.assign(in_sample="x")):
        with pytest.raises(DataError, match="evaluate\\(\\) takes the table predict\\(\\) returns"):
            forecaster.evaluate(damaged)
    with pytest.raises(ConfigError, match="must be a path .* got a DataFrame$"):
        read_prices(table)
    for value in (5, None, b"run"):
        with pytest.raises(ConfigError, match=f"must be a path .* got {re.escape(repr(value))}"):
            Forecaster.load(value)
        with pytest.raises(ConfigError, match="must be a path"):
            forecaster.save(value)
        with pytest.raises(ConfigError, match="must be a path"):
            load_config(value if value is not None else 5)
        with pytest.raises(ConfigError, match="must be a path"):
            read_prices(value)
    run = forecaster.save(tmp_path / "run")
    with pytest.raises(ConfigError, match="overwrite must be True or False, got 'no'"):
        forecaster.save(run, overwrite="no")
    for evaluation, message in [
        ({"metrics": 5}, "save(): metrics must be a dict, got 5"),
        ({"predictions": "x"}, "save(): predictions must be a DataFrame, got 'x'"),
        ({"bogus": 1}, "save() takes metrics= and predictions=, not bogus="),
        ({"metrics": {"rmse": "x"}}, "save(): metrics 'rmse' is 'x', not a number"),
        ({"metrics": {"rows": 5.5}}, "save(): metrics 'rows' is 5.5, not a whole number"),
        ({"metrics": {"when": pd.Timestamp(0)}}, "save(): metrics cannot be written as JSON"),
    ]:
        with pytest.raises(ConfigError, match=re.escape(message)):
            forecaster.save(tmp_path / "other", **evaluation)
        assert not (tmp_path / "other").exists()
    assert Forecaster.load(run).train_rows == forecaster.train_rows  # untouched
    notes = {"rows": np.int64(3), "rmse": np.float32(2.0), "mine": "text", "curve": np.ones(2)}
    forecaster.save(tmp_path / "noted", metrics=notes)  # NumPy values from a notebook are fine
    Forecaster.load(tmp_path / "noted")
    written = json.loads((tmp_path / "noted" / "metrics.json").read_text())
    assert written == {"rows": 3, "rmse": 2.0, "mine": "text", "curve": [1.0, 1.0]}
    from lstm_forecast.forecaster.bundle import _sha256

    (run / "model.keras").write_bytes(b"not a zip")  # and its checksum updated: still said so
    manifest = json.loads((run / "run.json").read_text())
    manifest["checksums"]["model.keras"] = _sha256(run / "model.keras")
    (run / "run.json").write_text(json.dumps(manifest))
    with pytest.raises(BundleError, match="model.keras: cannot load the model \\(not a Keras"):
        Forecaster.load(run)


def test_fits_keywords_and_a_hand_built_config_are_checked(prices, config):
    import dataclasses

    from lstm_forecast.config.schema import WindowConfig

    train = prices[:"2020-05-15"]
    for keywords, message in [
        ({"stop": 5}, "fit(): stop must be a function, got 5"),
        ({"report": "x"}, "fit(): report must be a function, got 'x'"),
        ({"models": 5}, "fit(): models must be a ModelPool or None, got 5"),
        ({"verbose": "bogus"}, "fit(): verbose must be 0, 1, 2 or 'auto', got 'bogus'"),
        ({"config": Config(window=5)}, "config: [window] must be a table of keys, got 5"),
        ({"config": dataclasses.replace(config, window=WindowConfig(length=0))},
         "config: [window] length must be at least 1, got 0"),
    ]:  # fmt: skip
        with pytest.raises(ConfigError, match=re.escape(message)):
            Forecaster.fit(train, **{"config": config, **keywords})
    raw = {"train": {"epochs": np.int64(1), "learning_rate": np.float32(0.01)}}
    assert config_from_dict(raw).train.epochs == 1  # a dict built in Python with NumPy numbers


def test_predict_takes_bands_as_true_or_false(forecaster):
    with pytest.raises(ConfigError, match="predict\\(\\): bands must be True or False, got 'x'"):
        forecaster.predict(bands="x")
    assert "lower" not in forecaster.predict(bands=False)


@pytest.mark.parametrize(
    "key, value, message",
    [
        ("baseline", "bogus", "baseline must be one of persistence, drift, previous_close"),
        ("baseline", 5, "baseline must be one of"),
        ("drift", "x", "drift must be a number, got 'x'"),
        ("drift", None, "drift must be a number, got None"),
        ("shrinkage", True, "shrinkage must be a number in [0, 1], got True"),
    ],
)
def test_a_hand_edited_run_json_is_one_bundle_error(forecaster, tmp_path, key, value, message):
    run = forecaster.save(tmp_path / "run")
    manifest = json.loads((run / "run.json").read_text())
    (run / "run.json").write_text(json.dumps({**manifest, key: value}))
    with pytest.raises(BundleError, match=re.escape(message)):
        Forecaster.load(run)


def test_a_run_too_short_to_calibrate_still_forecasts_with_the_random_walks_band(
    forecaster, prices
):
    """validation_fraction = 0.05 of about 90 training windows: too few held-out origins for
    the model's own errors. The run is not refused a band: it takes the random walk's errors at
    every origin of its data (one note line says so), and its forecast has a finite band."""
    from lstm_forecast.config.load import with_overrides

    notes = []
    config = with_overrides(forecaster.config, train__validation_fraction=0.05)
    short = Forecaster.fit(prices[:"2020-05-15"], config, report=notes.append)
    assert short.calibration is not None and short.calibration.source == "random walk"
    stored = np.concatenate(short.calibration.errors)
    np.testing.assert_array_equal(stored, np.round(stored, 6))  # kept small, as the model's
    assert any("its bands are the random walk's" in note for note in notes)
    table = short.forecast(5).table.dropna(subset=["predicted"])
    assert np.isfinite(table[["lower", "upper"]].to_numpy()).all()
    assert (table["lower"] < table["predicted"]).all() and (
        table["predicted"] < table["upper"]
    ).all()
    # its width grows with the step, as the random walk's errors do
    width = (table["upper"] - table["lower"]).to_numpy()
    assert width[-1] > width[0]
    # the fan chart's inner bands: the same band at 50 % and 80 %, nested inside the 90 % one
    assert (table["lower"] <= table["lower_80"]).all() and (
        table["lower_80"] <= table["lower_50"]
    ).all()
    assert (table["upper_50"] <= table["upper_80"]).all() and (
        table["upper_80"] <= table["upper"]
    ).all()
    assert (table["lower_50"] < table["upper_50"]).all()
