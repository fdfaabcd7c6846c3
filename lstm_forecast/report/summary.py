"""A backtest's summary.json: its shape, checked before its page is drawn, and its bands' rows.

A backtest folder has no checksums (it is an output to read, not a model to load again), so a
hand-edited summary.json reaches the report as it is: a value of the wrong kind is one DataError
naming the key, never a traceback in a formatter. Keys not listed here are shown as they are.
"""

from __future__ import annotations

from pathlib import Path

from lstm_forecast.errors import DataError
from lstm_forecast.forecaster.run_metrics import fits, metrics_problem
from lstm_forecast.report.parts import _number, format_value

TEXT = ("verdict", "source", "interval", "refit_from")
WHOLE = ("folds", "fold_length", "models_trained", "refit", "samples", "parameters")
SHARE = ("dm_pvalue", "interval_level", "coverage_pooled", "coverage")
BANDS = ("one_step_intervals", "recursive_intervals")  # {method: {coverage, width, winkler, ...}}


def actual_prices(path: Path):
    """The actual prices of a backtest's predictions.csv, for the page's decimals (a band that
    crosses, from a negative predicted price, is the backtest's own result: not checked here)."""
    import pandas as pd

    from lstm_forecast.files.read import read_table

    table = read_table(path)
    if "actual" not in table.columns:
        raise DataError(
            f"{path}: missing column(s) actual; the backtest's files were edited: run it again"
        )
    return pd.to_numeric(table["actual"], errors="coerce")


def checked_summary(summary, path: Path) -> dict:
    """`summary` (summary.json of a backtest) when every key the page reads holds its kind."""
    problem = summary_problem(summary)
    if problem is not None:
        raise DataError(
            f"{path}: {problem}; the backtest's files were edited: run the backtest again"
        )
    return summary


def summary_problem(summary) -> str | None:
    if not isinstance(summary, dict):
        return f"holds {summary!r:.40}, not a table of keys"
    for key, value in summary.items():
        kind = "text" if key in TEXT else "a whole number" if key in WHOLE else "a number"
        if isinstance(value, dict) and set(value) <= {"mean", "std"}:  # across the folds
            if not all(fits(item, "a number") for item in value.values()):
                return f"{key!r} is {value!r:.60}, not a mean and a standard deviation"
        elif (
            key in TEXT or key in WHOLE or key in SHARE or key.startswith(("pooled_", "dm_"))
        ) and (not fits(value, kind) or key in SHARE and value is not None and not 0 <= value <= 1):
            return f"{key!r} is {value!r:.60}, not {'a share' if key in SHARE else kind}"
    chosen = summary.get("baselines_chosen", {})
    if not isinstance(chosen, dict) or not all(fits(n, "a whole number") for n in chosen.values()):
        return f"'baselines_chosen' is {chosen!r:.60}, not a count of folds per baseline"
    for key in BANDS:
        methods = summary.get(key, {})
        if not isinstance(methods, dict):
            return f"{key!r} is {methods!r:.60}, not a table"
        for method, scores in methods.items():
            against = scores.get("against_naive", {}) if isinstance(scores, dict) else None
            values = (
                {k: v for k, v in scores.items() if k != "against_naive"}
                if against is not None
                else None
            )
            if not isinstance(against, dict) or not all(
                fits(v, "a number") for v in [*values.values(), *against.values()]
            ):
                return f"'{key}.{method}' is {scores!r:.60}, not a band's scores"
    return metrics_problem({"strategy": summary.get("strategy")})


INTERVALS_NOTE = (
    "Coverage: the share of actual prices inside the band; Winkler: its width plus 2/alpha times "
    "each miss's distance (lower is better). A recursive band is compared with the naive band "
    "fold by fold (one origin each): the folds where its Winkler score was lower, and the "
    "Wilcoxon signed-rank p-value of the differences."
)


def interval_rows(summary: dict, fmt) -> list[list[str]]:
    """One row per interval of a backtest summary, one-step then recursive."""
    length = summary.get("fold_length", "?")
    rows = []
    for kind, key in (
        ("one step", "one_step_intervals"),
        (f"{length} steps", "recursive_intervals"),
    ):
        scores = summary.get(key)
        if not isinstance(scores, dict):
            continue
        for method, values in scores.items():
            against = values.get("against_naive") or {}
            compared = ""
            if against:
                pvalue = _number(against.get("pvalue"))
                compared = (
                    f"lower in {against.get('folds_better')} of {against.get('folds')} folds"
                    + (f", p = {pvalue:.2g}" if pvalue is not None else "")
                )
            rows.append([
                kind,
                method,
                format_value("coverage", values.get("coverage"), fmt),
                format_value("width", values.get("width"), fmt),
                format_value("winkler", values.get("winkler"), fmt),
                compared,
            ])  # fmt: skip
    return rows
