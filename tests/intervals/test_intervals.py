import json
import math

import numpy as np
import pytest

from lstm_forecast.errors import BundleError, ConfigError, DataError
from lstm_forecast.intervals.adaptive import adaptive_alphas
from lstm_forecast.intervals.conformal import (
    Calibration,
    conformal_offsets,
    conformal_quantile,
    min_origins,
    rolling_origin_errors,
)
from lstm_forecast.intervals.scores import (
    coverage,
    log_return_std,
    mean_width,
    naive_band,
    winkler_score,
)

# ---- the conformal quantile ---------------------------------------------------------------------


def test_quantile_is_the_kth_smallest_score_by_hand():
    scores = np.arange(1.0, 20.0)[::-1]  # 19 scores, 19..1
    # k = ceil(20 * 0.9) = 18: the 18th smallest
    assert conformal_quantile(scores, 0.9) == 18.0
    # k = ceil(20 * 0.95) = 19 = n: the largest
    assert conformal_quantile(scores, 0.95) == 19.0
    # 8 scores at 90 %: k = ceil(9 * 0.9) = 9 > 8, unbounded; 9 scores: k = 9, the largest
    assert conformal_quantile(np.arange(8.0), 0.9) == math.inf
    assert conformal_quantile(np.arange(9.0), 0.9) == 8.0
    # NaNs are left out, not counted
    assert conformal_quantile(np.r_[scores, np.nan, np.nan], 0.9) == 18.0


@pytest.mark.parametrize("n", [9, 10, 19, 37, 100, 499])
@pytest.mark.parametrize("tail_level", [0.8, 0.9, 0.95])
def test_quantile_matches_numpy_inverted_cdf_at_the_corrected_level(n, tail_level):
    scores = np.random.default_rng(n).exponential(size=n)
    rank = math.ceil(round((n + 1) * tail_level, 9))
    if rank > n:
        assert conformal_quantile(scores, tail_level) == math.inf
    else:
        expected = np.quantile(scores, rank / n, method="inverted_cdf")
        assert conformal_quantile(scores, tail_level) == expected


def test_exact_coverage_at_small_n_where_method_higher_overcovers():
    # 19 calibration scores and one new one, exchangeable: coverage is k / (n + 1) = 18 / 20.
    # np.quantile(..., k / n, method="higher") takes the 19th smallest instead: 19 / 20.
    generator = np.random.default_rng(7)
    trials = generator.normal(size=(40_000, 20))  # (trials, 19 calibration + 1 new)
    calibration, new = np.abs(trials[:, :19]), np.abs(trials[:, 19])
    ours = np.array([conformal_quantile(row, 0.9) for row in calibration])
    higher = np.quantile(calibration, 18 / 19, method="higher", axis=1)
    # 40 000 trials: standard error 0.0015, so 0.01 separates 0.90 from 0.95 by far
    assert np.mean(new <= ours) == pytest.approx(0.90, abs=0.01)
    assert np.mean(new <= higher) == pytest.approx(0.95, abs=0.01)


def test_min_origins_is_the_first_bounded_count():
    assert min_origins(0.9, "symmetric") == 9
    assert min_origins(0.9, "asymmetric") == 19
    assert min_origins(0.8, "symmetric") == 4
    for level in (0.5, 0.8, 0.9, 0.95, 0.99):
        for method in ("symmetric", "asymmetric"):
            needed = min_origins(level, method)
            bounded = conformal_offsets(np.ones((needed, 1)), level, method)[1][0]
            unbounded = conformal_offsets(np.ones((needed - 1, 1)), level, method)[1][0]
            assert math.isfinite(bounded) and unbounded == math.inf


# ---- per-step offsets and the Calibration -------------------------------------------------------


def test_offsets_symmetric_and_asymmetric_by_hand():
    # step 1: errors -10..8 (19 values); step 2: the same times 2 with the last origin missing
    step1 = np.arange(-10.0, 9.0)
    step2 = np.r_[2 * step1[:-1], np.nan]
    errors = np.column_stack([step1, step2])  # (19 origins, 2 steps)
    lower, upper = conformal_offsets(errors, 0.9, "symmetric")
    # |step1| sorted: 0,1,1,...,8,8,9,10; k = 18 of 19 -> 9
    assert upper[0] == 9.0 and lower[0] == -9.0
    # step 2 has 18 errors: k = ceil(19 * 0.9) = 18 = n -> the largest |e| = 20
    assert upper[1] == 20.0 and lower[1] == -20.0
    lower, upper = conformal_offsets(errors, 0.9, "asymmetric")
    # each tail at 0.95: step 1 (n = 19): k = 19, the extremes -10 and 8; step 2 (n = 18) unbounded
    assert (lower[0], upper[0]) == (-10.0, 8.0)
    assert (lower[1], upper[1]) == (-math.inf, math.inf)


def test_asymmetric_follows_a_biased_forecaster_symmetric_stays_centred():
    generator = np.random.default_rng(3)
    errors = 0.05 + 0.01 * generator.normal(size=(2000, 1))  # forecasts 5 % too low
    lower, upper = conformal_offsets(errors, 0.9, "asymmetric")
    assert lower[0] > 0.02 and upper[0] == pytest.approx(0.05 + 0.01645, abs=0.002)
    lower, upper = conformal_offsets(errors, 0.9, "symmetric")
    assert lower[0] == -upper[0] and upper[0] > 0.06


def test_band_is_forecast_times_exp_offsets_and_scales_with_price():
    generator = np.random.default_rng(1)
    errors = generator.normal(0, 0.01, (200, 3)) * np.sqrt([1, 2, 3])  # (origins, steps)
    calibration = Calibration.from_errors(errors, level=0.9)
    forecast = np.array([100.0, 101.0, 102.0])
    lower, upper = calibration.band(forecast)
    low_offsets, up_offsets = conformal_offsets(errors, 0.9)
    np.testing.assert_allclose(lower, forecast * np.exp(low_offsets))
    np.testing.assert_allclose(upper, forecast * np.exp(up_offsets))
    assert np.all(lower < forecast) and np.all(forecast < upper)
    lower_x10, upper_x10 = calibration.band(forecast * 10)
    np.testing.assert_allclose(upper_x10 - lower_x10, 10 * (upper - lower))
    # a wider level gives a wider band
    lower_99, upper_99 = calibration.band(forecast, level=0.99)
    assert np.all(lower_99 < lower) and np.all(upper < upper_99)


def test_band_past_the_calibrated_steps_grows_like_sqrt_h():
    errors = np.random.default_rng(2).normal(0, 0.01, (100, 4))
    calibration = Calibration.from_errors(errors)
    lower, upper = calibration.offsets(steps=9)
    calibrated_lower, calibrated_upper = calibration.offsets()
    np.testing.assert_array_equal(upper[:4], calibrated_upper)
    np.testing.assert_allclose(upper[4:], calibrated_upper[3] * np.sqrt(np.arange(5, 10) / 4))
    np.testing.assert_allclose(lower[8], calibrated_lower[3] * 1.5)  # sqrt(9 / 4)
    assert calibration.band(np.full(2, 50.0))[0].shape == (2,)  # fewer steps: the first ones


def test_calibration_round_trips_through_json():
    errors = np.random.default_rng(4).normal(0, 0.02, (30, 3))
    errors[-1, 1:] = np.nan  # the last origin saw only one step
    calibration = Calibration.from_errors(errors, level=0.8, method="asymmetric")
    assert calibration.origins == 30 and [len(step) for step in calibration.errors] == [30, 29, 29]
    restored = Calibration.from_dict(json.loads(json.dumps(calibration.to_dict())))
    assert restored == calibration
    forecast = np.array([10.0, 11.0, 12.0])
    np.testing.assert_array_equal(restored.band(forecast)[1], calibration.band(forecast)[1])


def test_calibration_errors_name_the_problem():
    too_few = np.random.default_rng(5).normal(size=(8, 2))
    with pytest.raises(DataError, match="step 1 has 8 calibration errors.*needs at least 9"):
        Calibration.from_errors(too_few, level=0.9)
    calibration = Calibration.from_errors(too_few, level=0.8)  # 80 % needs 4
    with pytest.raises(DataError, match="needs at least 19"):
        calibration.band(np.ones(2), level=0.95)
    with pytest.raises(ConfigError, match="level must be between 0 and 1"):
        calibration.band(np.ones(2), level=90)
    with pytest.raises(DataError, match="step 2 is -1.0"):
        calibration.band(np.array([1.0, -1.0]))
    with pytest.raises(DataError, match="1-D"):
        calibration.band(np.ones((2, 2)))
    with pytest.raises(ConfigError, match="method"):
        Calibration.from_errors(too_few, level=0.8, method="both")
    with pytest.raises(BundleError, match="run.json: missing origins"):
        Calibration.from_dict({"level": 0.9, "method": "symmetric", "errors": []}, "run.json")
    with pytest.raises(BundleError, match="method 'x'"):
        Calibration.from_dict({"level": 0.9, "method": "x", "errors": [], "origins": 0})


# ---- rolling-origin errors ----------------------------------------------------------------------


def persistence(prices: np.ndarray):
    """Stand-in forecaster: every future price equals the origin's price."""
    return lambda origin, steps: np.full(steps, prices[origin])


def test_rolling_origin_errors_by_hand_with_nan_past_the_end():
    prices = np.array([100.0, 110.0, 99.0, 120.0])
    errors = rolling_origin_errors(persistence(prices), prices, [0, 2, 3], steps=2)
    expected = np.log(
        [[110 / 100, 99 / 100], [120 / 99, np.nan], [np.nan, np.nan]]
    )  # (origins, steps)
    np.testing.assert_allclose(errors, expected)
    with pytest.raises(DataError, match="origin row 4 is outside the 4 price rows"):
        rolling_origin_errors(persistence(prices), prices, [4], steps=1)
    with pytest.raises(DataError, match="positive forecasts"):
        rolling_origin_errors(lambda origin, steps: -np.ones(steps), prices, [0], steps=1)


def test_persistence_on_a_random_walk_errors_grow_like_sqrt_h_and_band_covers_later():
    generator = np.random.default_rng(11)
    prices = 100 * np.exp(np.cumsum(generator.normal(0, 0.01, 12_000)))
    steps = 9
    errors = rolling_origin_errors(persistence(prices), prices, list(range(6000)), steps)
    spread = errors.std(axis=0)  # (steps,)
    # step h error = sum of h daily returns: std 0.01 sqrt(h); overlapping origins leave about
    # 6000 / h independent ones, a standard error near 3 % of the std at h = 9
    np.testing.assert_allclose(spread, 0.01 * np.sqrt(np.arange(1, steps + 1)), rtol=0.08)
    calibration = Calibration.from_errors(errors, level=0.9)
    later = list(range(6000, 12_000 - steps))
    forecasts = np.array([persistence(prices)(origin, steps) for origin in later])
    actuals = np.array([prices[origin + 1 : origin + 1 + steps] for origin in later])
    low_offsets, up_offsets = calibration.offsets()  # (steps,) each
    lower, upper = (
        forecasts * np.exp(low_offsets),
        forecasts * np.exp(up_offsets),
    )  # (origins, steps)
    per_step = [coverage(actuals[:, h], lower[:, h], upper[:, h]) for h in range(steps)]
    np.testing.assert_allclose(per_step, 0.9, atol=0.04)


# ---- adaptive conformal inference ---------------------------------------------------------------


def volatility_series(seed: int, rows: int, later_scale: float):
    """Forecast 100 every day; log errors N(0, 0.01), times later_scale from halfway on."""
    generator = np.random.default_rng(seed)
    scale = np.r_[np.ones(rows // 2), np.full(rows - rows // 2, later_scale)]
    errors = 0.01 * scale * generator.normal(size=rows)  # (rows,)
    forecast = np.full(rows, 100.0)
    calibration = 0.01 * generator.normal(size=500)  # errors from the calm first regime
    return forecast * np.exp(errors), forecast, calibration


def aci_bound(rows: int, gamma: float = 0.005, alpha: float = 0.1) -> float:
    """Gibbs & Candès: |miss rate - alpha| <= (max(alpha, 1 - alpha) + gamma) / (gamma T)."""
    return (max(alpha, 1 - alpha) + gamma) / (gamma * rows)


def test_aci_recovers_coverage_after_volatility_triples_while_static_does_not():
    rows = 6000
    actual, forecast, calibration_errors = volatility_series(0, rows, later_scale=3.0)
    after = slice(rows // 2, None)
    static = Calibration.from_errors(calibration_errors[:, None], level=0.9)
    lower, upper = static.band(forecast[:1])
    static_after = coverage(
        actual[after], np.full(rows // 2, lower[0]), np.full(rows // 2, upper[0])
    )
    assert static_after < 0.5  # 1.645 sigma of the calm regime covers |z| < 0.55 of the new one
    # all scores kept (window=None): only alpha_t adapts; gamma = 0 is online split conformal
    online = adaptive_alphas(actual, forecast, calibration_errors, 0.9, gamma=0.0, window=None)
    assert online.covered[after].mean() < 0.75
    adaptive = adaptive_alphas(actual, forecast, calibration_errors, 0.9, gamma=0.005, window=None)
    assert 0.85 <= adaptive.covered[after].mean() <= 0.95
    assert abs(1 - adaptive.covered.mean() - 0.1) <= aci_bound(rows)
    assert adaptive.alphas[after].mean() < 0.1  # it widened the band by lowering alpha_t
    # the default trailing window: near 90 % after the change, and seldom an unbounded band
    windowed = adaptive_alphas(actual, forecast, calibration_errors, 0.9)
    assert 0.87 <= windowed.covered[after].mean() <= 0.93
    assert np.mean(np.isinf(windowed.upper)) < 0.01


def test_static_and_aci_both_cover_90_percent_on_iid_errors():
    rows = 10_000
    actual, forecast, _ = volatility_series(1, rows, later_scale=1.0)
    calibration_errors = 0.01 * np.random.default_rng(2).normal(size=4000)
    static = Calibration.from_errors(calibration_errors[:, None], level=0.9)
    lower, upper = static.band(forecast[:1])
    # 4000 calibration errors: the band's own coverage has std 0.005; 10 000 rows add 0.003
    static_coverage = coverage(actual, np.full(rows, lower[0]), np.full(rows, upper[0]))
    assert static_coverage == pytest.approx(0.9, abs=0.02)
    adaptive = adaptive_alphas(actual, forecast, calibration_errors, 0.9)
    assert adaptive.covered.mean() == pytest.approx(0.9, abs=0.02)
    assert abs(1 - adaptive.covered.mean() - 0.1) <= aci_bound(rows)


def test_aci_alpha_update_by_hand():
    # calibration |e| = 0.01 .. 0.09 (9 scores, the minimum at 90 %): the band is +-0.09 at first
    calibration_errors = np.arange(1, 10) * 0.01
    errors = np.array([0.5, 0.0, -0.5])  # miss, cover, miss
    forecast = np.full(3, 10.0)
    result = adaptive_alphas(
        forecast * np.exp(errors), forecast, calibration_errors, 0.9, gamma=0.1
    )
    # alpha_2 = 0.1 + 0.1 (0.1 - 1) = 0.01: unbounded; alpha_3 = 0.01 + 0.1 * 0.1 = 0.02
    np.testing.assert_allclose(result.alphas, [0.1, 0.01, 0.02])
    assert result.next_alpha == pytest.approx(0.03)  # covered at step 3: + 0.1 * 0.1
    np.testing.assert_allclose([result.lower[0], result.upper[0]], 10 * np.exp([-0.09, 0.09]))
    assert result.lower[1] == 0.0 and result.upper[1] == math.inf
    # step 3: the 9 scores plus |0.5| and |0.0|; k = ceil(12 * 0.98) = 12 > 11 -> unbounded
    assert result.upper[2] == math.inf
    np.testing.assert_array_equal(result.covered, [False, True, True])
    with pytest.raises(ConfigError, match="window 5 is too short"):
        adaptive_alphas(forecast, forecast, calibration_errors, window=5)


# ---- scores and the naive band ------------------------------------------------------------------


def test_scores_by_hand():
    actual = np.array([10.0, 5.0, 20.0, np.nan])  # inside, 3 below, 8 above, no actual yet
    lower = np.array([8.0, 8.0, 8.0, 8.0])
    upper = np.array([12.0, 12.0, 12.0, 12.0])
    assert coverage(actual, lower, upper) == pytest.approx(1 / 3)
    assert mean_width(lower, upper) == 4.0
    # widths 4 each; penalties (2 / 0.1) * 3 = 60 and (2 / 0.1) * 8 = 160
    assert winkler_score(actual, lower, upper, alpha=0.1) == pytest.approx((4 + 64 + 164) / 3)
    assert winkler_score(actual[:1], lower[:1], upper[:1], alpha=0.5) == 4.0
    assert math.isnan(coverage([np.nan], [1.0], [2.0]))
    with pytest.raises(DataError, match="differ in length"):
        coverage(actual, lower[:2], upper)


def test_naive_band_by_hand():
    lower, upper = naive_band(last_price=100.0, sigma=0.01, steps=4, level=0.9)
    z = 1.6448536269514722
    np.testing.assert_allclose(upper, 100 * np.exp(z * 0.01 * np.sqrt([1, 2, 3, 4])))
    np.testing.assert_allclose(lower * upper, 100.0**2)  # symmetric in log space
    prices = np.array([100.0, 110.0, 99.0, 120.0])
    assert log_return_std(prices) == pytest.approx(np.std(np.diff(np.log(prices)), ddof=1))
    with pytest.raises(DataError, match="at least 3"):
        log_return_std(prices[:2])


# ---- combining the recursive forecast with the random walk --------------------------------------


def test_combination_weights_keep_a_move_that_predicts_and_drop_one_that_does_not():
    from lstm_forecast.forecaster.calibrate import combination_weights

    rng = np.random.default_rng(0)
    last = np.full(400, 100.0)
    actual_move = rng.normal(0, 0.02, (400, 3))
    useful = 100.0 * np.exp(actual_move)  # step 1: the model foresaw the move exactly
    noise = 100.0 * np.exp(rng.normal(0, 0.02, (400, 3)))  # unrelated to what happened
    half = 100.0 * np.exp(2.0 * actual_move)  # twice the move: half of it is the best fit
    # step 1 always keeps the model (its one-step forecast is already shrunk to the baseline)
    forecasts = np.stack([noise[:, 0], useful[:, 1], noise[:, 2], half[:, 2]], axis=1)
    actual = 100.0 * np.exp(actual_move[:, [0, 1, 2, 2]])
    actual[-1, 3] = np.nan  # past the data: left out of the fit
    weights = combination_weights(forecasts, actual, last)
    assert weights[0] == 1.0
    assert weights[1] == pytest.approx(1.0)
    assert weights[2] < 0.15
    assert weights[3] == pytest.approx(0.5, abs=1e-9)
    assert combination_weights(np.zeros((3, 2)), np.ones((3, 2)), np.ones(3)) == ()


def test_combine_pulls_paths_toward_the_last_price_step_by_step():
    calibration = Calibration(errors=((0.1,),) * 2, weights=(1.0, 0.0))
    paths = np.array([[110.0, 121.0, 130.0]])
    combined = calibration.combine(paths, 100.0)
    # step 1 kept, step 2 the last price, step 3 past the weights: the last weight (0)
    np.testing.assert_allclose(combined, [[110.0, 100.0, 100.0]])
    half = Calibration(errors=((0.1,),), weights=(0.5,)).combine(np.array([[121.0]]), 100.0)
    np.testing.assert_allclose(half, [[110.0]])  # half of the log move
    unweighted = Calibration(errors=((0.1,),))
    np.testing.assert_allclose(unweighted.combine(paths, 100.0), paths)
    crossing = np.array([[5.0, -1.0, 2.0]])  # a path below zero has no log move: left as it is
    np.testing.assert_array_equal(calibration.combine(crossing, 10.0), crossing)


def test_combination_weights_round_trip_and_out_of_range_ones_are_refused():
    calibration = Calibration(errors=((0.1, 0.2),), weights=(0.25,))
    raw = json.loads(json.dumps(calibration.to_dict()))
    assert Calibration.from_dict(raw) == calibration
    raw["weights"] = [1.5]
    with pytest.raises(BundleError, match=r"weights must be in \[0, 1\]"):
        Calibration.from_dict(raw, "run/calibration.json")
    del raw["weights"]  # a run from before the weights: the model's path as it is
    assert Calibration.from_dict(raw).weights == ()


# ---- pooling the random walk's errors into steps 2.. ---------------------------------------------


def _frame(opens, closes):
    import pandas as pd

    dates = pd.bdate_range("2021-01-04", periods=len(opens))
    return pd.DataFrame({"Open": opens, "Close": closes}, index=dates)


def test_random_walk_errors_by_hand_from_the_target_with_step_1_left_to_the_model():
    from lstm_forecast.config.load import config_from_dict
    from lstm_forecast.forecaster.calibrate import random_walk_errors
    from lstm_forecast.intervals.spread import scales, volatility

    def none(target, at):
        return np.ones((len(at), 3))

    def ewma(target, at):  # the target's EWMA volatility at each origin, every step
        return scales("volatility", None, target, None, at, 3)

    opens = np.array([10.0, 11, 12, 13, 14, 15, 16])
    # a Close that disagrees with the Open (not split-adjusted): the random walk ignores it
    frame = _frame(opens, opens * 2)
    config = config_from_dict({"window": {"length": 3, "base": "previous_close"}})
    errors = random_walk_errors(config, frame, end=5, steps=3, scale=none)
    # origins: rows 2..4 (a full window of 3 behind each), before the held-out tail at row 5
    assert errors.shape == (3, 3)
    assert np.isnan(errors[:, 0]).all()  # step 1 is the model's alone
    # origin row 2 (12): step 2 -> row 4 (14), step 3 -> row 5 (15)
    np.testing.assert_allclose(errors[0, 1:], np.round(np.log([14 / 12, 15 / 12]), 6))
    # origin row 4 (14): step 2 -> row 6 (16); step 3 would be row 7, past the data
    np.testing.assert_allclose(errors[2, 1], round(np.log(16 / 14), 6))
    assert np.isnan(errors[2, 2])
    scaled = random_walk_errors(config, frame, end=5, steps=3, scale=ewma)
    np.testing.assert_allclose(
        scaled[1, 1], round(np.log(15 / 13) / volatility(opens)[3], 6), rtol=1e-6
    )
    assert random_walk_errors(config, frame, end=2, steps=3, scale=none).shape == (0, 3)


def test_random_walk_origins_are_thinned_evenly_to_at_most_walk_origins(monkeypatch):
    from lstm_forecast.config.load import config_from_dict
    from lstm_forecast.forecaster import calibrate

    logs = np.arange(30.0) ** 2 / 100  # each origin's 2-step move differs: it names the origin
    frame = _frame(np.exp(logs), np.exp(logs))
    config = config_from_dict({"window": {"length": 3}})
    monkeypatch.setattr(calibrate, "WALK_ORIGINS", 5)
    errors = calibrate.random_walk_errors(
        config, frame, end=22, steps=2, scale=lambda target, at: np.ones((len(at), 2))
    )
    # origins 2..21 (20 of them) -> every 4th, the newest kept: 5, 9, 13, 17, 21
    expected = [logs[o + 2] - logs[o] for o in (5, 9, 13, 17, 21)]
    np.testing.assert_allclose(errors[:, 1], np.round(expected, 6))


def test_pooled_calibration_keeps_step_1_and_adds_every_earlier_origin_to_later_steps():
    import tomllib
    from types import SimpleNamespace

    from conftest import TINY_CONFIG, random_walk

    from lstm_forecast import Forecaster
    from lstm_forecast.config.load import config_from_dict, with_overrides
    from lstm_forecast.forecaster.calibrate import calibrate
    from lstm_forecast.model.train import held_out_rows

    raw = tomllib.loads(TINY_CONFIG.format(transform="residual"))
    raw["train"]["validation_fraction"] = 0.2
    raw["forecast"] = {"calibration_steps": 4}
    frame = random_walk(300, seed=3).set_index("Date")[["Open", "Close"]]
    forecaster = Forecaster.fit(frame, config_from_dict(raw))
    config = forecaster.config
    fitted = SimpleNamespace(model=forecaster.model, scaler=forecaster.scaler)
    rows, _ = held_out_rows(config, fitted, forecaster.data)
    held_out = calibrate(
        with_overrides(config, forecast__calibration_origins="held-out"),
        fitted, forecaster.data, rows, forecaster.shrinkage, print,
    )  # fmt: skip
    pooled = forecaster.calibration
    assert config.forecast.calibration_origins == "all"  # the default
    assert pooled.errors[0] == held_out.errors[0]  # step 1: the model's held-out errors alone
    assert pooled.weights == held_out.weights
    first_held_out = rows[0] - 1
    earlier = first_held_out - (config.window.length - 1)  # origins with a window behind them
    for step in range(1, 4):
        assert len(pooled.errors[step]) == len(held_out.errors[step]) + earlier
        assert pooled.errors[step][earlier:] == held_out.errors[step]  # the model's, at the end
    assert pooled.origins == held_out.origins + earlier
    raw = json.loads(json.dumps(pooled.to_dict()))
    assert Calibration.from_dict(raw) == pooled


def test_a_calibration_with_an_empty_step_is_refused_in_one_line():
    raw = {"level": 0.9, "method": "symmetric", "origins": 3, "errors": [[0.1, -0.1], []]}
    with pytest.raises(BundleError, match="run/calibration.json: the calibration holds a step"):
        Calibration.from_dict(raw, "run/calibration.json")
    with pytest.raises(BundleError, match="a step without errors"):
        Calibration.from_dict({**raw, "errors": []}, "run/calibration.json")
    ok = {**raw, "errors": [[0.1, -0.1]]}
    for damage in ({"level": 1.5}, {"level": 0}, {"origins": -1}, {"origins": 1e30}):
        with pytest.raises(BundleError, match="level or origins out of range; train the run"):
            Calibration.from_dict({**ok, **damage}, "run/calibration.json")
