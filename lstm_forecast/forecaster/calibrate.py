"""What training leaves for forecasting, fitted on the held-out tail the model never trained on:
the shrinkage of a log-ratio model towards its baseline, and the conformal calibration of the
recursive forecast's errors (and the highest interval level it can bound)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from lstm_forecast.config.schema import Config
from lstm_forecast.errors import DataError
from lstm_forecast.prep.windows import Inputs


class Ahead:
    """The calibration's compiled paths, traced and compiled on a forecast thread while the model
    trains: XLA takes about a second the first time a model runs a shape, and training leaves
    part of the cores idle (benchmarks/backtest_throughput.py). Called with the model as
    training starts (train.fit's before_training); held_out() waits for it."""

    def __init__(self, config: Config, frame: pd.DataFrame) -> None:
        from lstm_forecast.model.train import held_out_rows

        self.inputs = Inputs.from_config(config)
        # (rows, in sample): the model's held-out rows, known from the config and the frame
        self.held_out = held_out_rows(config, None, frame)
        self.steps = _path_steps(config, frame, self.held_out[0].size)
        self.future = None

    def __call__(self, model) -> None:
        from lstm_forecast.forecaster.origins import compile_paths

        if self.steps >= 1:
            self.future = compile_paths(model, self.inputs, self.steps)

    def wait(self) -> None:
        if self.future is not None:
            self.future.exception()  # done, either way: model_paths raises what it raised


def held_out(config: Config, fitted, frame, rows: np.ndarray, report, warm=None, ahead=None):
    """(shrinkage, calibration) of a model on its held-out `rows`: one compiled pass gives the
    recursive paths from every held-out origin, and their first step is the one-step prediction
    the shrinkage is fitted on (instead of a second forward pass over the same windows).
    `ahead`: the Ahead that compiled the paths during training."""
    inputs = Inputs.from_config(config)
    if ahead is not None:
        ahead.wait()
    paths = held_out_paths(config, fitted, frame, rows, inputs)
    first = None if paths is None else paths[:, 0]
    shrinkage = fit_shrinkage(fitted, frame, rows, inputs, first)
    return shrinkage, calibrate(config, fitted, frame, rows, shrinkage, report, warm, paths)


def fit_shrinkage(
    fitted, frame: pd.DataFrame, rows: np.ndarray, inputs: Inputs, predicted=None
) -> float:
    """The a in [0, 1] of prediction = base × exp(a × model output) that fits the held-out rows
    best (least squares in log-ratio space, closed form). 1 for targets that are no log ratio.
    `predicted`: the model's outputs for `rows` in model space when already computed (the
    first step of the calibration's paths), else one forward pass computes them.

    This is a forecast combination of the model with its baseline (a = 0: the baseline alone),
    fitted where the model was not trained, not a trick: it only keeps what the model showed.
    """
    if not inputs.target_transform.log_ratio or rows.size == 0:
        return 1.0
    matrix = inputs.matrix(frame)
    if predicted is None:
        from lstm_forecast.forecaster.predict import model_outputs
        from lstm_forecast.prep.scaling import scale, unscale

        windows, divisor = inputs.windows(matrix, rows)
        scaled = scale(fitted.scaler, windows).astype(np.float32)
        outputs = model_outputs(fitted.model, scaled)
        predicted = unscale(fitted.scaler, outputs) * divisor  # (rows,) model space
    actual = matrix[rows, 0]
    power = float(np.sum(predicted**2))
    return float(np.clip(np.sum(actual * predicted) / power, 0.0, 1.0)) if power > 0 else 0.0


def _steps(config: Config, origins: int) -> int:
    """Steps calibrated: step h has an error from every origin but the last h - 1, and keeps
    them only when they are enough for the level."""
    from lstm_forecast.intervals.conformal import min_origins

    level = config.forecast.level
    return min(config.forecast.calibration_steps, origins + 1 - min_origins(level))


def _path_steps(config: Config, frame: pd.DataFrame, origins: int) -> int:
    """Steps of the held-out paths: 0 where calibrate needs none (a price at or below zero: no
    log-price band; too few origins)."""
    return 0 if np.any(frame.iloc[:, 0].to_numpy() <= 0) else max(0, _steps(config, origins))


def held_out_paths(config: Config, fitted, frame, rows: np.ndarray, inputs: Inputs):
    """Model-space recursive paths (origins, steps) from the row before each held-out row (no
    refit: the held-out windows were never trained on); None where calibrate needs none."""
    from lstm_forecast.forecaster.origins import model_paths

    steps = _path_steps(config, frame, rows.size)
    if steps < 1:
        return None
    return model_paths(fitted.model, fitted.scaler, frame, rows - 1, steps, inputs)


def calibrate(config: Config, fitted, frame, rows, shrinkage: float, report, warm=None, paths=None):
    """Conformal calibration: recursive forecasts from every held-out origin (no refit: the
    held-out windows were never trained on), their log errors per step. `warm`: the spread
    model of the fit this one continues (a warm refit), which a spread network starts from.
    `paths`: held_out_paths() when already computed."""
    from lstm_forecast.forecaster.forecast import to_prices
    from lstm_forecast.intervals.conformal import Calibration
    from lstm_forecast.intervals.spread import scales

    prices = frame.iloc[:, 0].to_numpy(np.float64)
    origins = rows - 1  # each forecast starts on the row before a held-out row
    steps = _steps(config, origins.size)
    level = config.forecast.level
    if np.any(prices <= 0):
        report("note: no conformal intervals: a log-price band needs prices above zero")
        return None
    if steps < 1:
        return random_walk_calibration(config, frame, origins.size, report)
    inputs = Inputs.from_config(config)
    if paths is None:
        paths = held_out_paths(config, fitted, frame, rows, inputs)
    bases = inputs.base_values(frame)[origins][:, None]  # (origins, 1)
    forecasts = to_prices(paths, inputs, bases, shrinkage)
    actual = _actuals(prices, origins, steps)
    weights = combination_weights(forecasts, actual, prices[origins])
    if weights:
        last = prices[origins][:, None]
        forecasts = last * np.exp(np.asarray(weights) * np.log(forecasts / last))
    errors = np.log(actual) - np.log(forecasts)  # (origins, steps)
    # the spread model knows the rows before the held-out tail, as the network does
    kind, base, spread = spread_model(config, frame, inputs, end=int(rows[0]), warm=warm)
    # a scale asked for by name that could not be fitted says so; the default, whose path
    # network needs 500 moves, takes the EWMA before them as documented, without a note
    chosen = kind != type(config.forecast).scale
    if spread is not None and chosen and kind not in ("ewma", "none") and spread.path is None:
        what = "the spread network" if "model" in kind else "GARCH(1,1) (or it did not converge)"
        report(f"note: {int(rows[0])} rows are too few to fit {what}: the band is scaled by "
               "the EWMA instead")  # fmt: skip

    def scale(target: np.ndarray, at: np.ndarray) -> np.ndarray:
        return scales(kind, spread, target, base, at, steps)

    errors = errors / scale(prices, origins)
    if config.forecast.calibration_origins == "all":
        walk = random_walk_errors(config, frame, origins[0], steps, scale)
        errors = np.concatenate([walk, errors])
    for usable in range(steps, 0, -1):  # the longest calibration its origins bound
        try:
            calibration = Calibration.from_errors(errors[:, :usable], level)
            return dataclasses.replace(
                calibration, scale=kind, weights=weights[:usable], spread=spread
            )
        except DataError as e:
            reason = e
    report(f"note: no conformal intervals for this run: {reason}")
    return None


def spread_model(config: Config, frame, inputs: Inputs, end: int, warm=None):
    """(kind, base, spread): the configured scale (the old name interval_scale first), the
    residual target's base column (None: the target), and the spread model fitted on the rows
    before `end` (None for the old "volatility", which has no parameters), from `warm`'s
    networks where it has them (Spread.fit)."""
    from lstm_forecast.intervals.spread import Spread

    kind = config.forecast.interval_scale or config.forecast.scale
    base = inputs.base_values(frame) if inputs.base else None
    prices = frame.iloc[:, 0].to_numpy(np.float64)
    spread = None if kind == "volatility" else Spread.fit(kind, prices, base, end=end, warm=warm)
    return kind, base, spread


def random_walk_calibration(config: Config, frame, held_out: int, report):
    """The band a run too short to calibrate its model (a monthly series, a small
    validation_fraction) can still honestly give: the random walk's errors (the last price
    held), at every origin of the training data and every step, scaled by the spread model as
    the model's would be; step 1 of a residual target (an Open over the previous Close) is the
    move over that base, the prediction's own baseline. With one note line; None (and a note)
    when even these are too few."""
    from lstm_forecast.intervals.conformal import Calibration
    from lstm_forecast.intervals.spread import scales

    prices = frame.iloc[:, 0].to_numpy(np.float64)
    inputs, level = Inputs.from_config(config), config.forecast.level
    kind, base, spread = spread_model(config, frame, inputs, end=len(prices))
    steps = config.forecast.calibration_steps
    # a scale needs two moves before its origin; at most WALK_ORIGINS, the newest kept
    stride = max(1, -(-(len(prices) - 3) // WALK_ORIGINS))
    origins = np.arange(len(prices) - 2, 1, -stride)[::-1]
    if origins.size:
        errors = np.log(_actuals(prices, origins, steps)) - np.log(prices[origins])[:, None]
        if base is not None:  # step 1 builds on the base (the previous Close), as scaled
            errors[:, 0] = np.log(_actuals(prices, origins, 1)[:, 0]) - np.log(base[origins])
        errors = np.round(errors / scales(kind, spread, prices, base, origins, steps), 6)
        for usable in range(steps, 0, -1):
            try:
                calibration = Calibration.from_errors(errors[:, :usable], level)
            except DataError:
                continue
            report(
                f"note: {held_out} held-out rows are too few to calibrate the model's own errors; "
                f"its bands are the random walk's (the last price held) at {origins.size} "
                "origins of the training data, steps 1 to "
                f"{usable} (train on more rows or a larger validation_fraction for the model's)"
            )
            return dataclasses.replace(calibration, scale=kind, spread=spread, source="random walk")
    report(f"note: no conformal intervals: {len(prices)} rows are too few even for the random "
           "walk's band")  # fmt: skip
    return None


WALK_ORIGINS = 5000  # about 20 years of daily rows: a calibration.json of about 1 MB at most


def random_walk_errors(config: Config, frame, end: int, steps: int, scale) -> np.ndarray:
    """(origins, steps) log errors of the random walk (the target's last value held) at every
    origin before `end` from which the model could forecast (a full window behind it), scaled as
    the model's errors are (scale(target, origins): (origins, steps) divisors); step 1 is NaN: its band
    keeps the model's own held-out errors.

    Why: a 20-step error is one draw per 20 rows, so the held-out tail (about 450 origins on the
    bundled S&P 500, 64 on the five-year reference Google file) holds only a handful of
    independent long-horizon paths, and their quantile is that of whatever spell the tail
    happened to be. The random walk has no parameters, so its errors are out of sample at every
    origin, and they bring every spell of the training span to steps 2..
    (benchmarks/results/interval_variants.md). A recursive forecast's step-h error is mostly the
    moves of the h - 1 rows after its first, which the random walk's errors carry alike. The random walk starts from the target itself, not from the
    residual's base: a Close column that disagrees with the Open (the reference Google file's
    Close is not split-adjusted before April 2014) would otherwise make every early score huge.
    Rounded to 6 decimals, and at most WALK_ORIGINS origins spread evenly over the span (every
    k-th, the newest kept: neighbours share all but one of their moves), to keep the run small."""
    target = frame.iloc[:, 0].to_numpy(np.float64)
    first = config.window.length - 1  # the first origin with a full window behind it
    stride = max(1, -(-(end - first) // WALK_ORIGINS))
    origins = np.arange(end - 1, first - 1, -stride)[::-1]  # (origins,) oldest first
    if origins.size == 0 or np.any(target <= 0):
        return np.empty((0, steps))
    errors = np.log(_actuals(target, origins, steps)) - np.log(target[origins])[:, None]
    errors[:, 0] = np.nan  # step 1: the model's own errors alone
    errors = errors / scale(target, origins)
    return np.round(errors, 6)


def _actuals(prices: np.ndarray, origins: np.ndarray, steps: int) -> np.ndarray:
    """(origins, steps) the prices of rows origin + 1 .. origin + steps; NaN past the data."""
    targets = origins[:, None] + np.arange(1, steps + 1)
    return np.where(targets < len(prices), prices[np.minimum(targets, len(prices) - 1)], np.nan)


def combination_weights(forecasts: np.ndarray, actual: np.ndarray, last: np.ndarray) -> tuple:
    """Per step h, the share b_h in [0, 1] of the model's log move away from the last price that
    best predicts the actual log move on the held-out origins (least squares, as fit_shrinkage
    does for one step): the recursive forecast combined with the random walk, which keeps the
    model's path only as far as it beat holding the last price. Step 1 keeps weight 1: the
    one-step forecast is already combined with the strongest baseline (fit_shrinkage), and its
    band (train's predictions, the backtest's one-step band) uses the step-1 errors as they are.
    () when a forecast is not a positive price (no log move to weigh)."""
    if not np.all(np.isfinite(forecasts) & (forecasts > 0)):
        return ()
    model_move = np.log(forecasts) - np.log(last)[:, None]  # (origins, steps)
    actual_move = np.log(actual) - np.log(last)[:, None]  # NaN past the data
    weights = [1.0]
    for step in range(1, forecasts.shape[1]):
        seen = np.isfinite(actual_move[:, step])
        x, y = model_move[seen, step], actual_move[seen, step]
        power = float(np.sum(x * x))
        weights.append(float(np.clip(np.sum(x * y) / power, 0.0, 1.0)) if power > 0 else 0.0)
    return tuple(weights)
