"""The spread network (intervals.spread_net, `[forecast] scale = "model"`): what it learns, that
it reads the past only, its file form, and a run that uses it end to end."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import TINY_CONFIG, random_walk
from test_spread import garch_moves

from lstm_forecast.errors import BundleError
from lstm_forecast.intervals.conformal import Calibration
from lstm_forecast.intervals.spread import Garch, Spread, ewma_variance, log_moves, qlike
from lstm_forecast.intervals.spread_net import MIN_MOVES, SpreadNet


@pytest.fixture(scope="module")
def moves() -> np.ndarray:
    """A GARCH(1,1) whose shocks fade fast (alpha + beta = 0.9): the EWMA, with no long run to
    revert to, forecasts the next month's spread as today's."""
    return np.r_[np.nan, garch_moves(3999, seed=11, omega=1e-5, alpha=0.15, beta=0.75)]


@pytest.fixture(scope="module")
def net(moves) -> SpreadNet:
    return SpreadNet.fit(moves[:3000], horizons=20)


def test_it_beats_the_ewma_out_of_sample_where_the_spread_reverts(moves, net):
    rows = np.arange(3000, 3979)
    ewma = ewma_variance(moves)[rows]
    eta = net.log_variance(moves)[rows]  # (rows, 20)
    truth = Garch(1e-5, 0.15, 0.75)  # the process itself: the best any forecast can do
    best = truth.variance(moves)[rows]
    for k in (1, 5, 20):
        learned, known = qlike(np.exp(eta[:, k - 1]), moves[rows + k]), qlike(ewma, moves[rows + k])
        assert learned < known
        if k < 20:  # a quarter of the way from the EWMA to the truth, at least
            assert known - learned > 0.25 * (
                known - qlike(truth.ahead(best, k)[:, -1], moves[rows + k])
            )
    # after a shock the network's later steps revert, where the EWMA's stay put
    shocked = moves.copy()
    shocked[3500] = 0.1
    ahead = net.ahead(shocked, np.array([3500]), 20)[0]
    assert ahead[0] > 2 * ahead[19]


def test_it_reads_the_moves_up_to_each_origin_only(moves, net):
    later = moves.copy()
    later[3201:] *= 5
    np.testing.assert_array_equal(net.log_variance(later)[:3201], net.log_variance(moves)[:3201])


def test_a_fit_is_repeatable_and_too_few_moves_leave_the_ewma(moves, net):
    assert SpreadNet.fit(moves[:3000], horizons=20) == net
    assert SpreadNet.fit(moves[: MIN_MOVES + 1], horizons=1) is not None  # exactly MIN_MOVES
    assert SpreadNet.fit(moves[:MIN_MOVES], horizons=1) is None  # one finite move fewer
    assert SpreadNet.fit(np.zeros(1000), horizons=1) is None  # a price that never moved
    prices = 100 * np.exp(np.nancumsum(moves))
    short = Spread.fit("model", prices, None, end=MIN_MOVES - 10)
    assert short.path is None and short.step_one is None  # the EWMA, as a short GARCH fit
    np.testing.assert_allclose(
        short.scale(prices, None, np.array([900]), 3),
        Spread("ewma").scale(prices, None, np.array([900]), 3),
    )


def test_step_one_has_its_own_network_over_the_base():
    generator = np.random.default_rng(12)
    closes = 100 * np.exp(np.cumsum(generator.normal(0, 0.01, 1200)))
    opens = np.r_[closes[0], closes[:-1]] * np.exp(generator.normal(0, 0.002, 1200))
    spread = Spread.fit("model", opens, closes, end=1000)
    assert spread.step_one.horizons == 1 and spread.path.horizons == 20
    scale = spread.scale(opens, closes, np.array([1100]), 20)[0]
    assert scale[1] > 2 * scale[0]  # the gap's spread at step 1, the open-to-open moves later
    gap = spread.step_one.variance(log_moves(opens, closes))[1100]
    assert scale[0] == pytest.approx(np.sqrt(gap))


def test_it_round_trips_through_json_and_damage_is_a_bundle_error(moves):
    prices = 100 * np.exp(np.nancumsum(moves[:1500]))
    spread = Spread.fit("model", prices, None, end=1500)
    raw = json.loads(json.dumps(spread.to_dict()))
    assert Spread.from_dict(raw, "c.json", expected="model") == spread
    calibration = Calibration(Calibration.from_errors(np.ones((30, 2))).errors, scale="model",
                              spread=spread)  # fmt: skip
    restored = Calibration.from_dict(json.loads(json.dumps(calibration.to_dict())))
    np.testing.assert_array_equal(
        restored.scales(prices, None, [1400], 2), calibration.scales(prices, None, [1400], 2)
    )
    bad_shape = {**raw, "path": {**raw["path"], "output_bias": [0.0, 1.0]}}
    not_finite = {**raw, "path": {**raw["path"], "mean": [float("nan")] * 6}}
    for damaged in (bad_shape, not_finite, {**raw, "path": {"floor": [1.0]}}):
        with pytest.raises(BundleError, match="c.json"):
            Spread.from_dict(damaged, "c.json")
    with pytest.raises(BundleError, match="not valid"):  # a network under another kind
        Spread.from_dict({**raw, "kind": "garch"}, "c.json")


def test_a_run_with_the_spread_network_forecasts_with_its_band(tmp_path):
    from lstm_forecast import Forecaster, load_config, read_prices
    from lstm_forecast.config.load import with_overrides

    config_path = tmp_path / "tiny.toml"
    config_path.write_text(TINY_CONFIG.format(transform="log_return"))
    config = with_overrides(load_config(config_path), forecast__scale="model")
    random_walk(700, seed=13).to_csv(tmp_path / "prices.csv", index=False)
    prices = read_prices(tmp_path / "prices.csv", config)
    notes = []
    forecaster = Forecaster.fit(prices.iloc[:650], config, report=notes.append)
    calibration = forecaster.calibration
    assert calibration.scale == "model" and isinstance(calibration.spread.path, SpreadNet)
    assert not any("EWMA instead" in n for n in notes)
    banded = forecaster.forecast(20).table.dropna(subset=["predicted"])
    assert (banded["lower"] < banded["predicted"]).all()
    assert (banded["predicted"] < banded["upper"]).all()
    loaded = Forecaster.load(forecaster.save(tmp_path / "run"))
    again = loaded.forecast(20).table.dropna(subset=["predicted"])
    np.testing.assert_allclose(again["upper"], banded["upper"], rtol=1e-6)
    table = loaded.predict(prices.iloc[650:])
    assert (table["lower"] < table["upper"]).all()


def test_the_default_takes_the_ewma_before_500_moves_and_only_a_named_scale_says_so(tmp_path):
    from lstm_forecast import Forecaster, load_config, read_prices
    from lstm_forecast.config.load import with_overrides

    config_path = tmp_path / "tiny.toml"
    config_path.write_text(TINY_CONFIG.format(transform="log_return"))
    config = load_config(config_path)
    assert config.forecast.scale == "ewma-model"  # the default
    random_walk(200, seed=14).to_csv(tmp_path / "prices.csv", index=False)
    prices = read_prices(tmp_path / "prices.csv", config)
    for scale, noted in (("ewma-model", False), ("model", True)):
        notes = []
        forecaster = Forecaster.fit(
            prices, with_overrides(config, forecast__scale=scale), report=notes.append
        )
        assert forecaster.calibration.spread.path is None  # 200 rows: the EWMA
        assert any("too few to fit the spread network" in n for n in notes) is noted, notes


def test_a_warm_refit_starts_from_the_last_network_and_keeps_its_penalty(moves, monkeypatch):
    import lstm_forecast.intervals.spread_net as spread_net

    prices = 100 * np.exp(np.nancumsum(moves))
    before = Spread.fit("ewma-model", prices, None, end=2000)
    fits = []
    fit_weights = spread_net._fit_weights
    monkeypatch.setattr(spread_net, "_fit_weights", lambda *a: fits.append(a) or fit_weights(*a))
    after = Spread.fit("ewma-model", prices, None, end=2020, warm=before)
    assert len(fits) == 1  # a fresh fit makes one per penalty, and one on every row
    np.testing.assert_array_equal(fits[0][0], before.path.flat())
    assert after.path.penalty == before.path.penalty
    fresh = Spread.fit("ewma-model", prices, None, end=2020)
    assert len(fits) == 1 + len(spread_net.PENALTIES) + 1
    rows = np.arange(2020, 2500)
    warm_scale = after.scale(prices, None, rows, 20)
    np.testing.assert_allclose(warm_scale, fresh.scale(prices, None, rows, 20), rtol=0.05)
    Spread.fit("ewma-model", prices, None, end=2020, warm=Spread.fit("garch", prices, None, 2000))
    assert len(fits) == 1 + 2 * (len(spread_net.PENALTIES) + 1)  # another kind: a fresh fit


def test_the_written_out_gradient_is_the_losss(moves):
    from scipy.optimize import approx_fprime

    from lstm_forecast.intervals import spread_net

    features, offset, _ = spread_net.inputs(moves[:400])
    keep = np.isfinite(features).all(axis=1)  # from the second move on
    assert keep.sum() == 398 and np.isfinite(offset[keep]).all()
    x = (features[keep] - features[keep].mean(axis=0)) / features[keep].std(axis=0)
    rows = spread_net._Rows.of(x, offset[keep], spread_net._ahead(moves[:400] ** 2, 3)[keep])
    theta = np.random.default_rng(15).normal(0.0, 0.1, spread_net._start(x, rows.offset,
                                             np.ones((1, 3))).size)  # fmt: skip
    for spread in (0.1, 3.0):  # weights that keep the outputs inside the clip, and past it
        theta = np.random.default_rng(15).normal(0.0, spread, theta.size)
        value, gradient = spread_net._loss(theta, rows, 0.1)
        assert np.isfinite(value) and np.isfinite(gradient).all()
        assert np.abs(gradient).max() > 1e-3
        numeric = approx_fprime(theta, lambda t: spread_net._loss(t, rows, 0.1)[0], 1e-7)
        np.testing.assert_allclose(gradient, numeric, rtol=1e-4, atol=1e-6)
