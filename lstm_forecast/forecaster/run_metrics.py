"""The shape of a run's metrics.json, checked when the run is read.

`report`, `plot` and `predict` format these values as numbers, text or tables; a value of the
wrong type (an edit whose checksum was updated too, or a run saved from Python with
`save(metrics=...)`) is one BundleError naming the key, never a traceback in a formatter.
Keys not listed here are free: a user's own notes saved with a run are shown as they are.
"""

from __future__ import annotations

import math
import numbers
from pathlib import Path

from lstm_forecast.errors import BundleError

WHOLE = ("rows", "lag", "train_rows", "epochs_run", "epochs_asked", "train_windows",
         "parameters", "held_out_rows")  # fmt: skip
NUMBER = ("rmse", "mae", "mape", "directional_accuracy", "naive_rmse", "naive_mae", "naive_mape",
          "drift", "drift_rmse", "drift_mae", "drift_mape", "drift_directional_accuracy",
          "baseline_rmse", "skill", "skill_persistence", "dm_statistic", "dm_pvalue",
          "price_scale", "shrinkage", "level", "coverage", "mean_width", "winkler",
          "coverage_static", "fit_seconds", "seconds_per_epoch")  # fmt: skip
TEXT = ("baseline", "baseline_label", "verdict", "test_start", "test_end", "step_label",
        "interval", "online", "scale", "engine")  # fmt: skip
FLAG = ("interrupted", "held_out_in_sample", "warm_start")
SHARE = ("directional_accuracy", "drift_directional_accuracy", "coverage", "coverage_static",
         "dm_pvalue", "level")  # fmt: skip
LARGEST_WHOLE = 2**53  # a count beyond this is no count of rows or epochs


def checked_metrics(metrics: dict, path: Path) -> dict:
    """`metrics` (metrics.json of a run) when every known key holds its kind of value."""
    problem = metrics_problem(metrics)
    if problem is not None:
        raise BundleError(
            f"{path}: {problem}; edits to a run are not supported: restore the file or train "
            "the run again"
        )
    return metrics


def metrics_problem(metrics: dict) -> str | None:
    """What is wrong with `metrics` (a dict read from JSON), or None."""
    for key, value in metrics.items():
        kind = _kind(key)
        if kind is not None and not fits(value, kind):
            return f"{key!r} is {value!r:.60}, not {kind}"
        if value is None or kind not in ("a number", "a whole number"):
            continue
        if key in SHARE and not 0 <= value <= 1 or key == "level" and value in (0, 1):
            return f"{key!r} is {value!r:.60}, not a share between 0 and 1"
        if kind == "a whole number" and not 0 <= value < LARGEST_WHOLE:
            return f"{key!r} is {value!r:.60}, not a count"
    lags = metrics.get("lag_rmse")
    if lags is not None and not (isinstance(lags, list) and all(fits(v, "a number") for v in lags)):
        return f"'lag_rmse' is {lags!r:.60}, not a list of numbers"
    skill_vs = metrics.get("skill_vs")
    if skill_vs is not None and not _all_numbers(skill_vs):
        return f"'skill_vs' is {skill_vs!r:.60}, not a table of numbers"
    strategy = metrics.get("strategy")
    if strategy is not None and not isinstance(strategy, dict):
        return f"'strategy' is {strategy!r:.60}, not a table"
    # tables of rows: each row's "label" text, its other values numbers
    for where, table in (("baselines", metrics.get("baselines")),
                         ("strategy.strategies", (strategy or {}).get("strategies"))):  # fmt: skip
        if table is None:
            continue
        if not isinstance(table, dict):
            return f"{where!r} is {table!r:.60}, not a table"
        for name, row in table.items():
            scores = {k: v for k, v in row.items() if k != "label"} if isinstance(row, dict) else 0
            if not _all_numbers(scores) or not isinstance(row.get("label", ""), str):
                return f"'{where}.{name}' is {row!r:.60}, not a label and numbers"
    return None


def _kind(key: str) -> str | None:
    if key in WHOLE:
        return "a whole number"
    if key in NUMBER:
        return "a number"
    if key in TEXT:
        return "text"
    return "yes or no (true, false)" if key in FLAG else None


def fits(value, kind: str) -> bool:
    """Whether a JSON `value` is of `kind`: "a number", "a whole number", "text" or "yes or
    no ..." (a number may be None: undefined)."""
    if value is None:  # a number that is undefined here (written as null)
        return kind.endswith("number")
    if kind == "text":
        return isinstance(value, str)
    if kind.startswith("yes or no"):
        return isinstance(value, bool)
    if isinstance(value, bool) or not isinstance(value, numbers.Real):  # NumPy's too (save())
        return False
    try:
        float(value)  # a JSON integer of 400 digits is no float
    except OverflowError:
        return False
    whole = isinstance(value, numbers.Integral) or math.isfinite(value) and value % 1 == 0
    return kind == "a number" or whole


def _all_numbers(values) -> bool:
    return isinstance(values, dict) and all(fits(v, "a number") for v in values.values())
