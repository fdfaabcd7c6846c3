"""The report pages of a backtest (across folds, per fold) and of a tuning study (best trials,
their significance test, best.toml)."""

from __future__ import annotations

import re
from pathlib import Path

from lstm_forecast.errors import BundleError
from lstm_forecast.files.names import (
    BEST_CONFIG_FILE,
    CONFIG_FILE,
    EQUITY_FIGURE,
    FOLDS_FILE,
    LEAGUE_FILE,
    MARKER_FILE,
    PREDICTIONS_FILE,
    SUMMARY_FILE,
    TRIALS_FILE,
)
from lstm_forecast.files.read import read_table, read_text
from lstm_forecast.numbers import price_format, reference_price
from lstm_forecast.report.parts import (
    _config_section,
    _frame_table,
    _key_values,
    _number,
    _read_config,
    _read_json,
    _section,
    _skill,
    _table,
    _verdict,
    data_quality_section,
    format_value,
    png_figures,
)
from lstm_forecast.report.strategy import strategy_section
from lstm_forecast.report.summary import (
    INTERVALS_NOTE,
    actual_prices,
    checked_summary,
    interval_rows,
)

BEST_TRIALS_SHOWN = 10
# objective columns a trials.csv may have, in the order we look for them
OBJECTIVE_COLUMNS = ("objective", "value", "score", "skill", "val_rmse", "rmse", "val_loss", "loss")


def backtest_page(directory: Path) -> dict:
    """The page of a backtest: verdict, mean and std across folds, the per-fold table and figure."""

    path, predictions = directory / SUMMARY_FILE, directory / PREDICTIONS_FILE
    summary = checked_summary(_read_json(path), path) if path.is_file() else {}
    fmt = price_format(reference_price(actual_prices(predictions) if predictions.is_file() else []))
    across = [  # a standard deviation has no sign, even a skill's
        [
            name,
            format_value(name, value.get("mean"), fmt),
            format_value(name, value.get("std"), fmt).lstrip("+"),
        ]
        for name, value in summary.items()
        if isinstance(value, dict) and "mean" in value
    ]
    sections = []
    if across:
        others = [name for name, value in summary.items() if not isinstance(value, dict)]
        tables = [
            _table("mean and standard deviation across folds", ["metric", "mean", "std"], across),
            _table("", ["", ""], _key_values(summary, others, fmt)),
        ]
        sections.append(_section("summary", "Across folds", [], tables))
    intervals = interval_rows(summary, fmt)
    if intervals:
        headers = ["forecast", "interval", "coverage", "mean width", "Winkler", "vs the naive band"]
        level = _number(summary.get("interval_level"))
        caption = f"nominal {100 * level:g} % intervals" if level is not None else ""
        sections.append(
            _section(
                "intervals", "Intervals", [INTERVALS_NOTE], [_table(caption, headers, intervals)]
            )
        )
    trading = strategy_section(summary, directory)
    if trading is not None:
        sections.append(trading)
    if (directory / FOLDS_FILE).is_file():
        folds = read_table(directory / FOLDS_FILE)
        # dict-valued metrics (baselines, skill_vs) reach folds.csv as Python reprs: not for people
        nested = [c for c in folds if folds[c].astype(str).str.startswith(("{", "[")).all()]
        folds = folds.drop(columns=nested)
        sections.append(_section("folds", "Per fold", [], [_frame_table("", folds, fmt)]))
    figures = png_figures(directory, skip=(EQUITY_FIGURE,) if trading else ())
    if figures:
        sections.append(_section("figures", "Figures", figures=figures))
    config = _read_config(directory / CONFIG_FILE)
    if config is not None:
        sections.append(data_quality_section([config.data.path], config.data))
    marker = _read_json(directory / MARKER_FILE)
    sections.append(_config_section(directory / CONFIG_FILE, marker))
    verdict = _pooled_verdict(summary) or _verdict(summary, fmt)
    if not verdict["verdict"] and _number(summary.get("pooled_skill")) is not None:
        skill = summary["pooled_skill"]
        verdict = {
            "verdict": f"Pooled skill vs 'tomorrow = today' over all {summary.get('folds', '?')} "
            f"folds {_skill(skill)}: the model {'beats' if skill > 0 else 'does not beat'} it "
            "(no significance test in this backtest)",
            "mood": "good" if skill > 0 else "bad",
        }
    tiles = [
        {"label": label, "value": format_value(name, summary[name].get("mean"), fmt)}
        for name, label in (("rmse", "mean RMSE"), ("naive_rmse", "mean persistence RMSE"),
                            ("skill", "mean skill"), ("coverage", "mean interval coverage"))
        if isinstance(summary.get(name), dict)
    ]  # fmt: skip
    return {
        "title": f"Backtest {directory.name}",
        "kind": "backtest",
        "subtitle": f"{summary.get('folds', '?')} folds of {summary.get('fold_length', '?')} rows"
        + (f" of {Path(summary['source']).name}" if summary.get("source") else "")
        + _models_trained(summary),
        "directory": str(directory),
        **verdict,
        "tiles": tiles,
        "notes": [],
        "sections": sections,
    }


def _pooled_verdict(summary: dict) -> dict | None:
    """The backtest's own verdict: the pooled out-of-sample errors of all folds against each
    fold's strongest baseline, with their Diebold-Mariano test (None for older summaries)."""
    from lstm_forecast.evaluate.baselines import BASELINE_LABELS
    from lstm_forecast.evaluate.metrics import verdict_verb

    if not {"verdict", "pooled_skill", "baselines_chosen"} <= summary.keys():
        return None
    chosen = summary["baselines_chosen"]
    labels = ", ".join(
        f"'{BASELINE_LABELS.get(name, name)}'" + (f" in {count} folds" if len(chosen) > 1 else "")
        for name, count in chosen.items()
    )
    pvalue = _number(summary.get("dm_pvalue"))
    test = (
        "DM test not possible"
        if pvalue is None
        else ("DM p < 0.001" if pvalue < 0.001 else f"DM p = {pvalue:.3f}")
    )
    sentence = (
        f"The model {verdict_verb(summary['verdict'])} the strongest baseline ({labels}) over "
        f"all {summary.get('folds', '?')} folds ({test}): pooled skill "
        f"{_skill(summary['pooled_skill'])} against it, "
        f"{_skill(summary.get('pooled_skill_persistence'))} against 'tomorrow = today'"
    )
    mood = {"beats": "good", "loses to": "bad"}.get(summary["verdict"], "neutral")
    return {"verdict": sentence, "mood": mood}


def tune_page(directory: Path) -> dict:
    """The page of a tuning study: the best trials by the objective (with their DM test when the
    study's JSON has them), its summary, best.toml and every figure."""
    import pandas as pd

    trials_path = directory / TRIALS_FILE
    trials = read_table(trials_path) if trials_path.is_file() else pd.DataFrame()
    summary = {}
    for path in sorted(directory.glob("*.json")):
        if path.name != MARKER_FILE and isinstance(value := _read_json(path), dict):
            summary.update(value)
    fmt = lambda value: format(value, ".4g")  # noqa: E731 (no price scale to go by here)
    objective, maximize = _objective(trials, summary)
    described = summary.get("objective")
    paragraphs = [f"Objective: {described}"] if isinstance(described, str) else []
    sections, verdict = [], _verdict(summary, fmt)
    if objective:
        ranked = trials.sort_values(objective, ascending=not maximize, na_position="last")
        best = ranked.head(BEST_TRIALS_SHOWN)
        order = "highest" if maximize else "lowest"
        caption = f"by {objective}, {order} first, of {len(trials)} trials"
        table = {**_frame_table(caption, best, fmt), "highlight": [0]}
        sections.append(_section("trials", f"Best {len(best)} trials", paragraphs, [table]))
        if not verdict["verdict"] and len(best):
            shown = format_value(objective, best[objective].iloc[0], fmt)
            verdict = {"verdict": f"Best trial: {objective} {shown}", "mood": "neutral"}
    elif len(trials.columns):
        sections.append(_section("trials", "Trials", paragraphs, [_frame_table("", trials, fmt)]))
    tested = summary.get("best")
    if isinstance(tested, list) and tested and all(isinstance(row, dict) for row in tested):
        caption = "each against the baseline on its out-of-sample rows (Diebold-Mariano)"
        table = _frame_table(caption, pd.json_normalize(tested), fmt)
        sections.append(_section("tested", "Best trials, tested", [], [table]))
        verdict = _tested_verdict(tested[0], fmt) or verdict
    rest = [name for name in summary if name not in ("objective", "best")]
    if rest:
        rows = _key_values(summary, rest, fmt)
        sections.append(_section("summary", "Study", [], [_table("", ["", ""], rows)]))
    if (directory / BEST_CONFIG_FILE).is_file():
        text = read_text(directory / BEST_CONFIG_FILE)
        sections.append(_section("best", "Best config (best.toml)", preformatted=text))
    figures = png_figures(directory)
    if figures:
        sections.append(_section("figures", "Figures", figures=figures))
    return {
        "title": f"Tuning study {directory.name}",
        "kind": "tuning study",
        "subtitle": f"{len(trials)} trials",
        "directory": str(directory),
        **verdict,
        "tiles": [],
        "notes": [],
        "sections": sections,
    }


def _tested_verdict(best: dict, fmt) -> dict | None:
    """The verdict of the best trial of a study whose JSON tested it (number, value, verdict,
    dm_pvalue), else None."""
    if not {"number", "value", "verdict"} <= best.keys():
        return None
    verb = best["verdict"]
    verb = f"shows {verb}" if verb.startswith("no significant") else verb
    pvalue = _number(best.get("dm_pvalue"))
    shown = "DM p < 0.001" if pvalue is not None and pvalue < 0.001 else f"DM p = {pvalue:.3f}"
    sentence = (
        f"Best trial {best['number']}: objective {format_value('value', best['value'], fmt)}; "
        f"it {verb} the baseline" + (f" ({shown})" if pvalue is not None else "")
    )
    mood = {"beats": "good", "loses to": "bad"}.get(best["verdict"], "neutral")
    return {"verdict": sentence, "mood": mood}


def _objective(trials, summary: dict) -> tuple[str | None, bool]:
    """The column trials are ranked by, and whether higher is better: as the study's JSON says
    ("objective" or "metric" naming a column; "direction", or "maximi[sz]ed" in the objective's
    description), else the first known objective column, higher better for a skill or score."""
    named = [summary.get(key) for key in ("objective", "metric")]
    candidates = [name for name in named if isinstance(name, str)] + list(OBJECTIVE_COLUMNS)
    column = next((name for name in candidates if name in trials.columns), None)
    if column is None:
        return None, False
    said = f"{summary.get('direction', '')} {summary.get('objective', '')}".lower()
    if re.search(r"\bmax|maximi", said) or re.search(r"\bmin|minimi", said):
        return column, bool(re.search(r"\bmax|maximi", said))
    return column, bool(re.search(r"skill|accuracy|coverage|score", column))


def _models_trained(summary: dict) -> str:
    """ ", 2 models trained (refit 5)" when the folds did not each train a model."""
    trained, folds = summary.get("models_trained"), summary.get("folds")
    if trained is None or trained == folds:
        return ""
    return f", {trained} model{'s' * (trained > 1)} trained (refit {summary.get('refit')})"


LEAGUE_NOTE = (
    "One walk-forward backtest per series with the same config. Skill: 1 - RMSE / the RMSE of "
    "the strongest baseline that series' training rows chose; the verdict is a Diebold-Mariano "
    "test of the pooled out-of-sample errors against that baseline. Coverage: the share of "
    "actual prices inside the configured [forecast] interval of each fold's recursive forecast "
    "from its origin (steps 1 to the fold length), averaged over the folds; winkler and "
    "naive_winkler: that band's Winkler score and the naive random-walk band's on the same steps "
    "(lower is better); one_step_coverage: the one-step band of every row. league.csv holds "
    "every column (widths, the one-step Winkler score, seconds)."
)
LEAGUE_SHOWN = ("series", "skill", "dm_pvalue", "verdict", "coverage", "winkler", "naive_winkler",
                "one_step_coverage", "rows", "rmse", "baseline", "baseline_rmse")  # fmt: skip


def league_page(directory: Path) -> dict:
    """The page of a many-series backtest: how many series the model beats, the league table."""
    import pandas as pd

    from lstm_forecast.evaluate.metrics import verdict_verb

    path = directory / LEAGUE_FILE
    if not path.is_file():
        raise BundleError(f"{path}: missing; run the backtest with several --data again")
    table = read_table(path, remedy="run the backtest again")
    marker = _read_json(directory / MARKER_FILE)
    verdicts = table["verdict"].fillna("").astype(str) if "verdict" in table else pd.Series([])
    counts = {name: int((verdicts == name).sum()) for name in ("beats", "loses to")}
    neutral = len(table) - sum(counts.values())
    sentence = (
        f"The model beats its strongest baseline significantly on {counts['beats']} of "
        f"{len(table)} series, loses to it on {counts['loses to']}, and shows no significant "
        f"difference on {neutral}"
    )
    mood = (
        "good"
        if counts["beats"] > counts["loses to"]
        else "bad"
        if counts["loses to"]
        else "neutral"
    )
    # what the verdict rests on first, so a narrow page shows it without scrolling
    table = table[[c for c in LEAGUE_SHOWN if c in table]]
    rows = []
    for _, row in table.iterrows():
        # each series has its own price scale, which the table does not hold: 4 digits
        cells = [format_value(str(name), value, "{:.4g}".format) for name, value in row.items()]
        if "verdict" in row:
            cells[list(row.index).index("verdict")] = verdict_verb(str(row["verdict"]))
        rows.append(cells)
    league = _table("best skill first", [str(c) for c in table.columns], rows)
    sections = [_section("league", "League table", [LEAGUE_NOTE], [league])]
    figures = png_figures(directory)
    if figures:
        sections.append(_section("figures", "Figures", figures=figures))
    sections.append(_config_section(directory / CONFIG_FILE, marker))
    skills = pd.to_numeric(table.get("skill", pd.Series([])), errors="coerce")
    tiles = [
        {"label": "series", "value": str(len(table))},
        {"label": "median skill", "value": _skill(float(skills.median())) if skills.notna().any() else "-"},
        {"label": "beats / loses", "value": f"{counts['beats']} / {counts['loses to']}"},
    ]  # fmt: skip
    return {
        "title": f"League {directory.name}",
        "kind": "league of backtests",
        "subtitle": f"{len(table)} series",
        "directory": str(directory),
        "verdict": sentence,
        "mood": mood,
        "tiles": tiles,
        "notes": [],
        "sections": sections,
    }
