"""The spread models a band is scaled by (intervals.spread), the quantile tracker
(intervals.tracking) and the online one-step band (intervals.band.online_band)."""

from __future__ import annotations

import numpy as np
import pytest

from lstm_forecast.errors import BundleError, ConfigError
from lstm_forecast.intervals.band import one_step_band, online_band
from lstm_forecast.intervals.conformal import Calibration
from lstm_forecast.intervals.spread import Garch, Spread, ewma_variance, log_moves, qlike
from lstm_forecast.intervals.tracking import track


def garch_moves(rows: int, seed: int, omega=2e-6, alpha=0.08, beta=0.9) -> np.ndarray:
    """(rows,) log moves of a simulated GARCH(1,1) with Gaussian shocks."""
    generator = np.random.default_rng(seed)
    variance, moves = omega / (1 - alpha - beta), np.empty(rows)
    for t in range(rows):
        moves[t] = np.sqrt(variance) * generator.standard_normal()
        variance = omega + alpha * moves[t] ** 2 + beta * variance
    return moves


def test_log_moves_are_over_the_base_of_the_row_before():
    opens, closes = np.array([10.0, 11, 12]), np.array([10.5, 11.5, 12.5])
    np.testing.assert_allclose(log_moves(opens)[1:], np.log([11 / 10, 12 / 11]))
    moves = log_moves(opens, closes)
    assert np.isnan(moves[0])
    np.testing.assert_allclose(moves[1:], np.log([11 / 10.5, 12 / 11.5]))  # the overnight gaps


def test_ewma_variance_uses_the_rows_up_to_each_row_only():
    moves = garch_moves(300, seed=1)
    later = moves.copy()
    later[200:] *= 10  # a storm after row 199 changes nothing up to it
    np.testing.assert_array_equal(ewma_variance(moves)[:200], ewma_variance(later)[:200])
    assert ewma_variance(later)[250] > 10 * ewma_variance(moves)[250]
    # before the second move there is no estimate: none is borrowed from a later row
    assert np.isnan(ewma_variance(log_moves(np.array([1.0, 1.1, 1.2, 1.3])))[:2]).all()


def test_garch_fit_recovers_a_simulated_process_and_refuses_too_few_rows():
    garch = Garch.fit(garch_moves(6000, seed=2))
    assert garch is not None
    assert garch.alpha == pytest.approx(0.08, abs=0.04)
    assert garch.beta == pytest.approx(0.9, abs=0.05)
    assert garch.long_run == pytest.approx(1e-4, rel=0.35)
    assert Garch.fit(garch_moves(50, seed=2)) is None  # too few moves to fit three parameters
    # calm, then lasting turmoil: the fit sits at alpha + beta = 1 - 3e-8, whose long-run
    # variance is no number to band with; the EWMA (integrated GARCH) serves instead
    generator = np.random.default_rng(3)
    shifted = np.r_[generator.normal(0, 0.005, 1000), generator.normal(0, 0.05, 1000)]
    assert Garch.fit(shifted) is None


def test_garch_variance_is_the_recursion_and_its_forecast_reverts_to_the_long_run():
    garch = Garch(omega=1e-6, alpha=0.1, beta=0.8)  # long run 1e-5
    moves = np.array([np.nan, 0.01, -0.02])
    variance = garch.variance(moves)
    # v after row 0 (no move): omega + alpha L + beta L = L; then the recursion by hand
    expected = [1e-5]
    for r in (0.01, -0.02):
        expected.append(1e-6 + 0.1 * r**2 + 0.8 * expected[-1])
    np.testing.assert_allclose(variance, expected)
    ahead = garch.ahead(np.array([4e-5]), 200)[0]
    assert ahead[0] == pytest.approx(4e-5)
    assert ahead[1] == pytest.approx(1e-5 + 0.9 * 3e-5)
    assert ahead[-1] == pytest.approx(1e-5, rel=1e-6)


def test_spread_scale_step_one_by_the_base_and_the_path_by_the_target():
    generator = np.random.default_rng(3)
    closes = 100 * np.exp(np.cumsum(generator.normal(0, 0.01, 800)))
    opens = np.r_[closes[0], closes[:-1]] * np.exp(generator.normal(0, 0.002, 800))  # gaps
    spread = Spread.fit("ewma-garch", opens, closes, end=600)
    scale = spread.scale(opens, closes, np.array([700]), 20)[0]
    gap_variance = ewma_variance(log_moves(opens, closes))[700]
    assert scale[0] == pytest.approx(np.sqrt(gap_variance))  # step 1: the overnight gap's
    assert scale[1] > 2 * scale[0]  # the path: the open-to-open moves, far wider than a gap
    # causal: what happens after the origin does not move its scale
    later = opens.copy()
    later[701:] *= 1.5
    np.testing.assert_array_equal(spread.scale(later, closes, np.array([700]), 20)[0], scale)
    ewma = Spread.fit("ewma", opens, closes, end=600).scale(opens, closes, np.array([700]), 20)
    np.testing.assert_allclose(ewma[0, 1:], ewma[0, 1])  # the EWMA: the same at every later step


def test_garch_path_scale_narrows_after_a_shock_as_the_shock_ages():
    moves = garch_moves(3000, seed=4)
    moves[2500] = 0.08  # a crash day
    prices = 100 * np.exp(np.cumsum(moves))
    spread = Spread.fit("garch", prices, None, end=2400)
    scale = spread.scale(prices, None, np.array([2500]), 60)[0]
    assert scale[0] > scale[19] > scale[59]  # the mean variance over 1..h falls toward the long run
    assert scale[59] > np.sqrt(spread.path.long_run)


def test_spread_round_trips_and_damage_is_a_bundle_error():
    moves = garch_moves(1000, seed=5)
    prices = 100 * np.exp(np.cumsum(moves))
    spread = Spread.fit("garch", prices, None, end=1000)
    restored = Spread.from_dict(spread.to_dict(), "calibration.json")
    assert restored == spread
    with pytest.raises(BundleError, match="c.json: spread model"):
        Spread.from_dict({"kind": "garch", "step_one": [1.0, 0.5, 0.6], "path": None}, "c.json")
    with pytest.raises(BundleError, match="c.json"):
        Spread.from_dict({"kind": "garch", "step_one": "x"}, "c.json")
    raw = spread.to_dict()
    with pytest.raises(BundleError, match="not valid"):  # a spread of another kind than its scale
        Spread.from_dict(raw, "c.json", expected="ewma")
    with pytest.raises(BundleError, match="not valid"):  # a parameter that is no number
        Spread.from_dict({**raw, "path": [float("inf"), 0.1, 0.8]}, "c.json")
    with pytest.raises(ConfigError, match="scale"):
        Spread.fit("vol", prices, None, end=10)


def test_calibration_stores_its_spread_and_reads_older_runs():
    prices = 100 * np.exp(np.cumsum(garch_moves(600, seed=6)))
    spread = Spread.fit("ewma-garch", prices, None, end=600)
    errors = np.random.default_rng(0).normal(size=(30, 3))
    calibration = Calibration.from_errors(errors)
    calibration = Calibration(calibration.errors, scale="ewma-garch", spread=spread)
    restored = Calibration.from_dict(calibration.to_dict())
    assert restored.spread == spread
    np.testing.assert_array_equal(
        restored.scales(prices, None, [500], 3), calibration.scales(prices, None, [500], 3)
    )
    older = {**calibration.to_dict(), "scale": "volatility"}
    del older["spread"]
    assert Calibration.from_dict(older).scales(prices, None, [500], 3).shape == (1, 3)
    with pytest.raises(BundleError, match="scale"):
        Calibration.from_dict({**older, "scale": "sideways"})


def test_qlike_prefers_the_true_variance():
    generator = np.random.default_rng(7)
    variance = np.exp(generator.normal(-9, 1, 5000))
    moves = np.sqrt(variance) * generator.standard_normal(5000)
    assert qlike(variance, moves) < qlike(variance * 4, moves)
    assert qlike(variance, moves) < qlike(variance / 4, moves)
    assert qlike(np.full(5000, variance.mean()), moves) > qlike(variance, moves)


def test_tracker_holds_the_miss_rate_from_a_wrong_start_and_with_late_feedback():
    generator = np.random.default_rng(8)
    scores = np.abs(generator.standard_normal(20_000))  # 90 % quantile 1.645
    for delay in (1, 20):
        used, _ = track(scores, static=0.5, level=0.9, lr=0.01, delay=delay)
        misses = scores > used
        assert misses[2000:].mean() == pytest.approx(0.1, abs=0.015)
        assert np.median(used[-5000:]) == pytest.approx(1.645, abs=0.2)


def test_tracker_recovers_after_the_spread_triples():
    generator = np.random.default_rng(9)
    scores = np.abs(generator.standard_normal(6000))
    scores[3000:] *= 3  # the spread model missed a regime change
    used, correction = track(scores, static=1.645, level=0.9, lr=0.01)
    assert (scores[3000:] > 1.645).mean() > 0.5  # the static band misses most rows
    assert (scores[3500:] > used[3500:]).mean() < 0.15
    assert correction > 2  # it carries on into the next band
    with pytest.raises(ConfigError):
        track(scores, static=1.0, level=1.5)


def _gap_regime(seed: int):
    """Opens over the previous Close whose gaps are calm for 1500 rows, then four times wider,
    while the open-to-open moves stay alike (the quick start's S&P 500 in 2017-18)."""
    generator = np.random.default_rng(seed)
    rows = 2000
    gap_sigma = np.r_[np.full(1500, 0.002), np.full(500, 0.008)]
    closes = 100 * np.exp(np.cumsum(generator.normal(0, 0.01, rows)))
    opens = np.r_[closes[0], closes[:-1]] * np.exp(gap_sigma * generator.standard_normal(rows))
    return opens, closes


@pytest.mark.parametrize("seed", [10, 11])
def test_one_step_band_follows_the_spread_of_the_error_not_of_the_target(seed):
    """The one-step prediction of an Open builds on the previous Close: its band must scale
    with the gaps' spread. Scaled by the open-to-open volatility (scale "volatility", the band
    before issue 28) it held far less than its level when the gaps widened."""
    opens, closes = _gap_regime(seed)
    predicted = closes[:-1]  # the baseline: tomorrow's open = today's close
    rows = np.arange(1, 2000)
    errors = np.log(opens[rows]) - np.log(predicted)  # (rows,)
    held_out, test = rows < 1400, rows >= 1500

    def coverage(kind: str, online: str = "none") -> float:
        spread = None if kind == "volatility" else Spread.fit(kind, opens, closes, end=1400)
        base = Calibration(((0.0,),), scale=kind, spread=spread)
        scale = base.scales(opens, closes, rows[held_out] - 1, 1)[:, 0]
        calibration = Calibration(
            Calibration.from_errors((errors[held_out] / scale)[:, None]).errors,
            scale=kind, spread=spread,
        )  # fmt: skip
        low, high, scale = one_step_band(
            calibration, predicted[test], opens, closes, rows[test], 0.9
        )
        if online != "none":
            low, high = online_band(
                calibration, opens[rows[test]], predicted[test], scale, 0.9, online
            )
        actual = opens[rows[test]]
        return float(np.mean((low <= actual) & (actual <= high)))

    assert coverage("volatility") < 0.75
    assert 0.82 <= coverage("ewma-garch") <= 0.97
    assert 0.84 <= coverage("ewma-garch", "aci") <= 0.96
    assert 0.84 <= coverage("ewma-garch", "track") <= 0.96


def test_online_band_takes_each_rows_own_static_offsets():
    """A backtest's rows come from several calibrations (one per refit): each keeps its own."""
    calibration = Calibration.from_errors(np.random.default_rng(13).normal(0, 1, (50, 1)))
    predicted, scale = np.full(4, 100.0), np.array([1.0, 1.0, 2.0, 2.0])
    offsets = (np.array([-1.0, -1.0, -3.0, -3.0]), np.array([1.0, 1.0, 3.0, 3.0]))
    low, high = online_band(calibration, predicted, predicted, scale, 0.9, "none", offsets=offsets)
    np.testing.assert_allclose(high, 100 * np.exp([1.0, 1.0, 6.0, 6.0]))
    np.testing.assert_allclose(low, 100 * np.exp([-1.0, -1.0, -6.0, -6.0]))


def test_online_band_none_is_the_static_band_and_track_stays_finite():
    generator = np.random.default_rng(12)
    calibration = Calibration.from_errors(generator.normal(0, 1, (200, 1)))
    predicted = np.full(400, 100.0)
    actual = predicted * np.exp(np.r_[generator.normal(0, 1, 200), generator.normal(0, 5, 200)])
    scale = np.ones(400)
    low, high = online_band(calibration, actual, predicted, scale, 0.9, "none")
    radius = calibration.offsets(0.9, 1)[1][0]
    np.testing.assert_allclose(high, 100 * np.exp(radius))
    track_low, track_high = online_band(
        calibration, actual, predicted, scale, 0.9, "track", rate=0.01
    )
    assert np.isfinite(track_high).all() and (track_low > 0).all()
    later = slice(300, 400)
    covered = (track_low <= actual) & (actual <= track_high)
    assert covered[later].mean() > ((low <= actual) & (actual <= high))[later].mean() + 0.2
    # an unknown actual (the row after the data) keeps the static band and teaches nothing
    actual[-1] = np.nan
    low2, high2 = online_band(calibration, actual, predicted, scale, 0.9, "track", rate=0.01)
    assert high2[-1] == pytest.approx(high[-1])


def test_a_base_the_price_sat_on_keeps_a_step_one_spread():
    """Opens equal to the previous Close for weeks (the bundled S&P 500 before 2006) have no
    gap to measure: a floor of a thousandth of the path's spread keeps every score finite."""
    generator = np.random.default_rng(14)
    closes = 100 * np.exp(np.cumsum(generator.normal(0, 0.01, 300)))
    opens = np.r_[closes[0], closes[:-1]]  # no gap at all
    scale = Spread("ewma").scale(opens, closes, np.arange(10, 300), 2)
    np.testing.assert_allclose(scale[:, 0], 1e-3 * scale[:, 1])


def test_aci_on_a_score_of_hundreds_of_sigmas_stays_finite():
    """A split-like jump is a standardized error of hundreds: ACI works on the scores, never on
    exp(score) (an OverflowError and a wrong message before)."""
    from lstm_forecast.intervals.band import adaptive_online

    calibration = Calibration.from_errors(np.random.default_rng(15).normal(0, 1, (100, 1)))
    predicted = np.full(30, 100.0)
    actual = predicted.copy()
    actual[10:] *= 50  # +4900 %: a score of about 780 with scale 0.005
    lower, upper, _ = adaptive_online(
        calibration, actual, predicted, np.full(30, 0.005), 0.9, 0.005
    )
    assert np.isfinite(lower).all() and (lower > 0).all() and (lower < upper).all()
