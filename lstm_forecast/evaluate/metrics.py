"""Accuracy on the price level, always beside the baselines a forecast has to beat, and whether
the difference from the strongest baseline is significant (Diebold-Mariano).

Baselines, on the same rows (see baselines.py): persistence ("tomorrow = today", the previous
actual), drift (the previous actual plus the mean daily change of the training prices) and, for
an Open target with a Close column, previous close ("tomorrow's open = today's close").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lstm_forecast.errors import DataError
from lstm_forecast.evaluate.baselines import BASELINE_LABELS, from_previous
from lstm_forecast.numbers import reference_price

MAX_LAG_DAYS = 5  # lag diagnosis looks at shifts 0..5
SIGNIFICANCE_LEVEL = 0.05  # the Diebold-Mariano test's level for "beats" / "loses to"


def rmse(actual: np.ndarray, predicted: np.ndarray) -> float:
    return float(np.sqrt(np.mean((np.asarray(predicted) - np.asarray(actual)) ** 2)))


def mae(actual: np.ndarray, predicted: np.ndarray) -> float:
    return float(np.mean(np.abs(np.asarray(predicted) - np.asarray(actual))))


def mape(actual: np.ndarray, predicted: np.ndarray) -> float:
    """Mean absolute percentage error, in percent."""
    actual = np.asarray(actual, dtype=np.float64)
    return float(100.0 * np.mean(np.abs((np.asarray(predicted) - actual) / actual)))


def directional_accuracy(actual: np.ndarray, predicted: np.ndarray, previous: np.ndarray) -> float:
    """Share of rows where the predicted change from the previous actual has the real change's sign.

    Rows whose real change is exactly zero are left out; NaN when no row is left.
    """
    real_change = np.asarray(actual) - np.asarray(previous)
    predicted_change = np.asarray(predicted) - np.asarray(previous)
    moved = real_change != 0
    if not moved.any():
        return float("nan")
    return float(np.mean(np.sign(predicted_change[moved]) == np.sign(real_change[moved])))


def best_lag(
    actual: np.ndarray, predicted: np.ndarray, previous: np.ndarray
) -> tuple[int, list[float]]:
    """The shift k in 0..MAX_LAG_DAYS at which the predictions best match the actuals (least RMSE).

    Shift k compares predicted[t] with actual[t - k]; k = 1 uses `previous` for the first row.
    k >= 1 means the model mostly repeats the price from k days before. Returns (k, RMSE per k);
    shifts that leave fewer than 2 rows get NaN.
    """
    actual = np.asarray(actual, dtype=np.float64)
    predicted = np.asarray(predicted, dtype=np.float64)
    # earlier[j] = actual[j - 1]: the actual prices from the day before the first row on
    earlier = np.concatenate([np.asarray(previous, dtype=np.float64)[:1], actual])
    n = len(actual)
    errors = [rmse(actual, predicted)]  # k = 0
    for k in range(1, MAX_LAG_DAYS + 1):
        # predicted[t] against actual[t - k] = earlier[t - k + 1], for t = k - 1 .. n - 1
        shifted_predicted, shifted_actual = predicted[k - 1 :], earlier[: n + 1 - k]
        enough = len(shifted_predicted) >= 2
        errors.append(rmse(shifted_actual, shifted_predicted) if enough else float("nan"))
    return int(np.nanargmin(errors)), errors


@dataclass(frozen=True)
class DieboldMariano:
    """A Diebold-Mariano comparison of a model's errors with a baseline's."""

    statistic: float  # HLN-corrected; below 0: the model's squared errors are smaller
    pvalue: float  # two-sided, Student's t with n - 1 degrees of freedom
    verdict: str  # "beats", "loses to" or "no significant difference from"


def diebold_mariano(
    model_errors: np.ndarray,
    baseline_errors: np.ndarray,
    horizon: int = 1,
    level: float = SIGNIFICANCE_LEVEL,
) -> DieboldMariano:
    """Diebold-Mariano test of equal accuracy of two forecasts' errors on the same rows
    (squared-error loss, Harvey-Leybourne-Newbold small-sample correction, two-sided).

    Takes plain arrays of errors (predicted - actual), so a backtest can pass the pooled
    out-of-sample errors of all its folds. Rows where either error is missing are left out.
    """
    model_errors = np.asarray(model_errors, dtype=np.float64).ravel()
    baseline_errors = np.asarray(baseline_errors, dtype=np.float64).ravel()
    if model_errors.shape != baseline_errors.shape:
        raise ValueError(
            f"model and baseline errors differ in length: {model_errors.size} != "
            f"{baseline_errors.size}; compare them on the same rows"
        )
    both = np.isfinite(model_errors) & np.isfinite(baseline_errors)
    model_errors, baseline_errors = model_errors[both], baseline_errors[both]
    loss_differential = model_errors**2 - baseline_errors**2  # (rows,)
    if loss_differential.size < 2:  # no variance to estimate: no evidence either way
        return DieboldMariano(float("nan"), float("nan"), dm_verdict(np.nan, np.nan, level))
    if np.all(loss_differential == loss_differential[0]):
        # Zero variance: statsmodels would divide 0 by 0. Equal losses on every row are no
        # difference (p = 1); one forecast better by the same amount on every row is certain.
        if loss_differential[0] == 0:
            return DieboldMariano(0.0, 1.0, dm_verdict(0.0, 1.0, level))
        statistic = float(np.copysign(np.inf, loss_differential[0]))
        return DieboldMariano(statistic, 0.0, dm_verdict(statistic, 0.0, level))
    # The maintained implementation, statsmodels >= 0.15 (a heavy import, so here). lags =
    # horizon - 1 as in Diebold and Mariano (statsmodels' default is ceil(n ** (1/3))); its HAC
    # weights are Newey-West's, the same as theirs for one-step forecasts (no lag). y = 0 makes
    # its loss (y - forecast) ** 2 our squared error.
    from statsmodels.tsa.stattools import diebold_mariano_test

    result = diebold_mariano_test(
        np.zeros_like(model_errors),
        model_errors,
        baseline_errors,
        lags=horizon - 1,
        criterion="mse",
        harvey_adj=True,
        horizon=horizon,
    )
    statistic, pvalue = float(result.statistic), float(result.pvalue)
    return DieboldMariano(statistic, pvalue, dm_verdict(statistic, pvalue, level))


def dm_verdict(statistic: float, pvalue: float, level: float = SIGNIFICANCE_LEVEL) -> str:
    """The verdict: "beats" / "loses to" when the difference is significant at `level`, else
    "no significant difference from" (also when the test could not be run: NaN)."""
    if not pvalue < level:
        return "no significant difference from"
    return "beats" if statistic < 0 else "loses to"


def evaluate(
    actual: np.ndarray,
    predicted: np.ndarray,
    previous_actual: np.ndarray,
    drift: float = 0.0,
    previous_close: np.ndarray | None = None,
    baseline: str = "persistence",
) -> dict:
    """Metrics of `predicted` and of every baseline on the same rows, and whether the model beats
    the strongest baseline.

    Parameters
    ----------
    previous_actual: the actual price before each row (the persistence baseline).
    drift: mean daily change of the training prices (drift baseline = previous_actual + drift).
    previous_close: the previous row's Close, when the target is the Open and the data has one.
    baseline: the strongest baseline's name, chosen on the training span by the caller
        (baselines.choose_baseline): "persistence", "drift" or "previous_close".

    skill = 1 - rmse / baseline_rmse (above 0: beats the strongest baseline); skill_vs holds it
    for every baseline, skill_persistence against persistence. dm_statistic, dm_pvalue and
    verdict come from the Diebold-Mariano test against the strongest baseline.
    """
    actual = np.asarray(actual, dtype=np.float64)
    predicted = np.asarray(predicted, dtype=np.float64)
    previous_actual = np.asarray(previous_actual, dtype=np.float64)
    predictions = from_previous(previous_actual, drift, previous_close)
    if baseline not in predictions:
        raise ValueError(
            f"baseline {baseline!r} has no predictions here; available: {', '.join(predictions)}"
            + (" (pass previous_close)" if baseline == "previous_close" else "")
        )
    model_rmse = rmse(actual, predicted)
    baselines = {
        name: {
            "label": BASELINE_LABELS[name],
            "rmse": rmse(actual, values),
            "mae": mae(actual, values),
            "mape": mape(actual, values),
            "directional_accuracy": directional_accuracy(actual, values, previous_actual),
        }
        for name, values in predictions.items()
    }
    skill_vs = {name: skill(model_rmse, scores["rmse"]) for name, scores in baselines.items()}
    test = diebold_mariano(predicted - actual, predictions[baseline] - actual)
    lag, lag_rmse = best_lag(actual, predicted, previous_actual)
    return {
        "rows": int(actual.size),
        "rmse": model_rmse,
        "mae": mae(actual, predicted),
        "mape": mape(actual, predicted),
        "directional_accuracy": directional_accuracy(actual, predicted, previous_actual),
        "naive_rmse": baselines["persistence"]["rmse"],
        "naive_mae": baselines["persistence"]["mae"],
        "naive_mape": baselines["persistence"]["mape"],
        "drift": float(drift),
        "drift_rmse": baselines["drift"]["rmse"],
        "drift_mae": baselines["drift"]["mae"],
        "drift_directional_accuracy": baselines["drift"]["directional_accuracy"],
        "baselines": baselines,
        "baseline": baseline,
        "baseline_label": BASELINE_LABELS[baseline],
        "baseline_rmse": baselines[baseline]["rmse"],
        "skill": skill_vs[baseline],
        "skill_persistence": skill_vs["persistence"],
        "skill_vs": skill_vs,
        "dm_statistic": test.statistic,
        "dm_pvalue": test.pvalue,
        "verdict": test.verdict,
        "lag": lag,
        "lag_rmse": lag_rmse,
    }


def evaluate_table(table, drift: float = 0.0, baseline: str = "persistence") -> dict:
    """evaluate() on a predictions table (date, actual, predicted, persistence, and
    previous_close when the target is the Open and the data has a Close), skipping rows without
    a prediction, plus the span of dates scored."""
    try:
        numbers = table[["actual", "predicted"]].astype("float64")
    except (TypeError, ValueError) as e:
        raise DataError(f"predictions: actual and predicted must be numbers ({e})") from None
    scored = table[np.isfinite(numbers).all(axis=1)]  # rows without a prediction are skipped
    if scored.empty:
        raise DataError(
            "predictions: no row has both an actual and a predicted price to score "
            f"({len(table)} rows)"
        )
    previous_close = scored["previous_close"] if "previous_close" in scored else None
    metrics = evaluate(
        scored["actual"],
        scored["predicted"],
        scored["persistence"],
        drift=drift,
        previous_close=previous_close,
        baseline=baseline,
    )
    return {
        **metrics,
        "test_start": str(scored["date"].iloc[0]),
        "test_end": str(scored["date"].iloc[-1]),
        # the typical price: printed numbers get as many decimals as this scale needs
        "price_scale": reference_price(scored["actual"]),
    }


def verdict_sentence(metrics: dict) -> str:
    """One plain sentence: does the model beat the strongest baseline, with the DM p-value.

    e.g. "the model beats 'tomorrow's open = today's close' (DM p = 0.003)"
    """
    pvalue = metrics["dm_pvalue"]
    if np.isnan(pvalue):
        shown = "DM test needs 2 rows or more"
    else:
        shown = "DM p < 0.001" if pvalue < 0.001 else f"DM p = {pvalue:.3f}"
    return f"the model {verdict_verb(metrics['verdict'])} '{metrics['baseline_label']}' ({shown})"


def verdict_verb(verdict: str) -> str:
    """A verdict as the verb of "the model ... the baseline": "beats", "loses to", "shows no
    significant difference from"."""
    return f"shows {verdict}" if verdict.startswith("no ") else verdict


def skill(model_rmse: float, baseline_rmse: float) -> float:
    """1 - RMSE(model) / RMSE(baseline); NaN when the baseline is perfect (RMSE 0)."""
    return 1.0 - model_rmse / baseline_rmse if baseline_rmse > 0 else float("nan")


def lag_verdict(metrics: dict) -> str:
    """One plain sentence about what the lag diagnosis found, in the data's steps: metrics'
    `step_label` ("day", "week", "1h bar"; "day" when absent, as in runs saved before it)."""
    lag = metrics["lag"]
    if lag == 0:
        return "lag diagnosis: predictions match the actuals best unshifted (lag 0)"
    label = metrics.get("step_label") or "day"
    if label[0].isdigit():  # "1h bar": count bars, and say their size once
        steps, size = f"{lag} bar{'' if lag == 1 else 's'}", f" ({label}s)"
    else:
        steps, size = f"{lag} {label}{'' if lag == 1 else 's'}", ""
    return (
        f"lag diagnosis: predictions match the actual price from {steps} before best{size}: "
        f"the model mostly repeats the price from {steps} before"
    )
