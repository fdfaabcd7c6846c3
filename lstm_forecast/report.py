"""One self-contained HTML page for a run, a backtest or a tuning study, to look at instead of
eight files and a PNG.

Like runs.py, this module reads the directory and writes the page (checked first, written
atomically through lstm_forecast.outputs); what it shows is decided here, how it looks in
templates/report.html.j2 (Jinja2, autoescaped). Figures are embedded as base64 PNG data URIs, so
the page needs no other file and no network. Everything is optional: a section whose files or
metrics are missing is left out (an old run, a metric added later), NaN and None print as "-".
"""

from __future__ import annotations

import base64
import io
import json
import math
import re
from datetime import UTC, datetime
from pathlib import Path

from lstm_forecast.errors import BundleError, LstmForecastError
from lstm_forecast.numbers import MISSING, format_percent, price_format, reference_price
from lstm_forecast.outputs import MARKER_FILE, check_new_file, write_text

REPORT_FILE = "report.html"  # the default output, inside the directory reported on
TEMPLATE = "report.html.j2"
BEST_TRIALS_SHOWN = 10
FIGURE_DPI = 100  # 11 x 8 in figures -> 1100 x 800 px, sharp on a phone, ~100 KB
GAPS_SHOWN = 10
# metric names by how they print: price-scaled, share as percent, signed skill
PRICE_NAME = re.compile(r"(^|_)(rmse|mae|drift|mean_width|winkler|width)$")
SHARE_NAME = re.compile(r"(directional_accuracy|coverage|level)$")
SKILL_NAME = re.compile(r"(^|_)skill")
# objective columns a trials.csv may have, in the order we look for them
OBJECTIVE_COLUMNS = ("objective", "value", "score", "skill", "val_rmse", "rmse", "val_loss", "loss")


def report_command(directory: str | Path) -> str:
    """The line `train`, `backtest` and `tune` print: how to see their output as one page."""
    return f"see it as one page: lstm-forecast report {directory}"


def write_report(directory: str | Path, out: Path | None = None, overwrite: bool = False) -> Path:
    """Render the report of a run, backtest or tuning study directory to one HTML file.

    The default, DIRECTORY/report.html, is replaced; any other existing --out only with
    `overwrite`. Returns the path written.
    """
    directory = Path(directory)
    page = read_page(directory)
    out = Path(out) if out else directory / REPORT_FILE
    inputs = [path for path in directory.iterdir() if path.is_file() and path.name != REPORT_FILE]
    check_new_file(out, overwrite or out == directory / REPORT_FILE, inputs)
    return write_text(out, render(page))


def read_page(directory: Path) -> dict:
    """What the page shows, read from `directory`: a run, a backtest or a tuning study."""
    if not directory.is_dir():
        raise BundleError(f"{directory}: no such directory; give a run, backtest or tune directory")
    marker = _read_json(directory / MARKER_FILE) if (directory / MARKER_FILE).is_file() else {}
    kind = marker.get("kind") if isinstance(marker, dict) else None
    if kind == "run":
        from lstm_forecast.bundle import read_run

        return run_page(read_run(directory))
    if kind == "backtest":
        return backtest_page(directory)
    if kind == "tune" or (directory / "trials.csv").is_file():
        return tune_page(directory)
    raise BundleError(
        f"{directory}: not a run, backtest or tuning study (no {MARKER_FILE} of kind run or "
        "backtest, no trials.csv); give a directory written by train, backtest or tune"
    )


def render(page: dict) -> str:
    """The page as HTML (autoescaped: a value can never inject markup)."""
    import jinja2

    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("lstm_forecast", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,  # a misspelt key fails the tests, not the page
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return environment.get_template(TEMPLATE).render(
        **page, generated=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    )


# ---- a run --------------------------------------------------------------------------------------


def run_page(run) -> dict:
    """The page of a run (bundle.RunFiles): verdict, metrics beside the baselines, figure, lag,
    interval, data quality, training, config and versions."""
    from lstm_forecast.bundle import PREDICTIONS_FILE
    from lstm_forecast.evaluate import lag_verdict

    metrics, config = run.metrics, run.config
    fmt = price_format(reference_price(run.series.iloc[:, 0]))
    sections, notes = [], []
    if metrics.get("interrupted"):
        notes.append(f"training was interrupted after {metrics.get('epochs_run')} epochs")
    if metrics:
        sections.append(
            _section("metrics", "Metrics beside the baselines", [], [_metrics_table(metrics, fmt)])
        )
    predictions = run.directory / PREDICTIONS_FILE
    if predictions.is_file():
        figure = _run_figure(run, predictions, metrics)
        sections.append(
            _section("figure", "Predicted over real prices, and the loss", figures=[figure])
        )
    if "lag" in metrics:
        lag_rows = [
            [str(k), fmt(value), "best" if k == metrics["lag"] else ""]
            for k, value in enumerate(metrics.get("lag_rmse") or [])
        ]
        table = _table(
            "RMSE of predicted[t] against actual[t - k]", ["shift k (days)", "RMSE", ""], lag_rows
        )
        sections.append(
            _section(
                "lag",
                "Lag diagnosis",
                [_sentence(lag_verdict(metrics).removeprefix("lag diagnosis: "))],
                [table] if lag_rows else [],
            )
        )
    interval = _interval_rows(metrics, fmt)
    if interval:
        sections.append(
            _section("interval", "Interval coverage", [], [_table("", ["", ""], interval)])
        )
    sections.append(data_quality_section([config.data.path, config.data.test_path], config.data))
    training = _key_values(metrics, ("train_rows", "train_windows", "parameters", "engine", "epochs_run",
                                     "seconds_per_epoch", "fit_seconds", "interrupted"), fmt)  # fmt: skip
    if training:
        sections.append(_section("training", "Training", [], [_table("", ["", ""], training)]))
    shown = {"baselines", "skill_vs", "lag_rmse"}
    everything = _key_values(metrics, [k for k in metrics if k not in shown], fmt)
    if everything:
        sections.append(_section("all-metrics", "Every number in metrics.json", [],
                                 [_table("", ["metric", "value"], everything)]))  # fmt: skip
    sections.append(_config_section(run.directory / "config.toml", run.manifest))
    span = f"{metrics.get('test_start', '?')} .. {metrics.get('test_end', '?')}" if metrics else ""
    return {
        "title": f"Run {run.directory.name}",
        "kind": "run",
        "subtitle": f"{config.data.target} of {Path(config.data.test_path or config.data.path).name}"
        + (f", test {span} ({metrics.get('rows', '?')} rows)" if span else ""),
        "directory": str(run.directory),
        **_verdict(metrics, fmt),
        "tiles": _tiles(metrics, fmt),
        "notes": notes,
        "sections": [section for section in sections if section],
    }


def _metrics_table(metrics: dict, fmt) -> dict:
    """The model and every baseline on the same rows; the strongest baseline marked."""
    baselines = metrics.get("baselines")
    if not isinstance(baselines, dict):  # a run from before baselines{}: persistence and drift
        baselines = {
            "persistence": {"label": "tomorrow = today", "rmse": metrics.get("naive_rmse"),
                            "mae": metrics.get("naive_mae"), "mape": metrics.get("naive_mape")},
            "drift": {"label": "today + mean change", "rmse": metrics.get("drift_rmse"),
                      "mae": metrics.get("drift_mae"),
                      "directional_accuracy": metrics.get("drift_directional_accuracy")},
        }  # fmt: skip
    skill_vs = metrics.get("skill_vs") or {"persistence": metrics.get("skill")}
    strongest = metrics.get("baseline", "persistence")

    def row(name: str, shown: str, scores: dict, skill: str) -> list[str]:
        direction = scores.get("directional_accuracy")
        if name == "persistence":  # predicts no change: it has no direction to be right about
            direction = None
        return [shown, fmt(scores.get("rmse")), fmt(scores.get("mae")),
                _percent(scores.get("mape")), _share(direction), skill]  # fmt: skip

    rows, highlight = [row("model", "model", metrics, "")], []
    for name, scores in baselines.items():
        scores = scores if isinstance(scores, dict) else {}
        shown = f"{name}: {scores['label']}" if scores.get("label") else name
        if name == strongest:
            highlight.append(len(rows))
            shown += " (strongest)"
        rows.append(row(name, shown, scores, _skill(skill_vs.get(name))))
    headers = ["", "RMSE", "MAE", "MAPE", "direction", "model's skill vs it"]
    table = _table("the same test rows; skill = 1 - RMSE / baseline RMSE", headers, rows)
    return {**table, "highlight": highlight}


def _verdict(metrics: dict, fmt) -> dict:
    """The verdict line: skill against the strongest baseline and its significance."""
    if {"verdict", "baseline_label"} <= metrics.keys():
        from lstm_forecast.evaluate import verdict_sentence

        pvalue = metrics.get("dm_pvalue")
        sentence = verdict_sentence(
            {**metrics, "dm_pvalue": math.nan if pvalue is None else pvalue}
        )
        # evaluate's neutral verdict reads "the model no significant difference from": add a verb
        sentence = sentence.replace("model no significant", "model shows no significant")
        sentence += f": skill {_skill(metrics.get('skill'))} against it"
        if "baseline_rmse" in metrics:
            sentence += f" (RMSE {fmt(metrics.get('rmse'))} vs {fmt(metrics['baseline_rmse'])})"
        mood = {"beats": "good", "loses to": "bad"}.get(metrics["verdict"], "neutral")
        return {"verdict": _sentence(sentence), "mood": mood}
    if _number(metrics.get("skill")) is not None:  # a run from before the significance test
        beats = metrics["skill"] > 0
        return {
            "verdict": f"Skill vs 'tomorrow = today' {_skill(metrics['skill'])}: the model "
            f"{'beats' if beats else 'does not beat'} it (no significance test in this run)",
            "mood": "good" if beats else "bad",
        }
    return {"verdict": "", "mood": "neutral"}


def _tiles(metrics: dict, fmt) -> list[dict]:
    tiles = [
        ("RMSE", fmt(metrics["rmse"]) if "rmse" in metrics else None),
        ("strongest baseline RMSE", fmt(metrics.get("baseline_rmse", metrics.get("naive_rmse")))
         if "baseline_rmse" in metrics or "naive_rmse" in metrics else None),
        ("skill", _skill(metrics["skill"]) if "skill" in metrics else None),
        ("direction", _share(metrics["directional_accuracy"]) if "directional_accuracy" in metrics else None),
        ("interval coverage", _share(metrics["coverage"]) if "coverage" in metrics else None),
        ("lag (days)", str(metrics["lag"]) if "lag" in metrics else None),
    ]  # fmt: skip
    return [{"label": label, "value": value} for label, value in tiles if value is not None]


def _interval_rows(metrics: dict, fmt) -> list[list[str]]:
    names = ("interval", "level", "coverage", "mean_width", "winkler")
    rows = _key_values(metrics, names, fmt)
    if "coverage" in metrics and "level" in metrics and _number(metrics["level"]) is not None:
        rows.append(["nominal vs actual", f"{_share(metrics['level'])} interval held for "
                     f"{_share(metrics['coverage'])} of the actual prices"])  # fmt: skip
    return rows


def _run_figure(run, predictions: Path, metrics: dict) -> dict:
    """plot.run_figure, with the prediction interval shaded when predictions.csv has one."""
    from lstm_forecast import plot
    from lstm_forecast.runs import read_table

    table = read_table(predictions, plot.PREDICTION_COLUMNS, "train")
    # run_figure's title calls the skill "vs persistence": true only when that is the baseline
    title_metrics = metrics if metrics.get("baseline", "persistence") == "persistence" else {}
    name = Path(run.config.data.test_path or run.config.data.path).stem
    figure = plot.run_figure(table, run.history, run.config.data.target, name, title_metrics)
    caption = "Real price (red), one-step-ahead prediction (blue); the loss per epoch below"
    if {"lower", "upper"} <= set(table.columns) and table["lower"].notna().any():
        import pandas as pd

        axes = figure.axes[0]
        level = _number(metrics.get("level"))
        label = f"{100 * level:g} % interval" if level else "prediction interval"
        axes.fill_between(pd.to_datetime(table["date"]), table["lower"], table["upper"],
                          color="blue", alpha=0.15, linewidth=0, label=label)  # fmt: skip
        axes.legend()
        caption += "; the shaded band is the prediction interval"
    return {"caption": caption, "uri": figure_uri(figure), "alt": "predicted over real prices"}


# ---- a backtest ---------------------------------------------------------------------------------


def backtest_page(directory: Path) -> dict:
    """The page of a backtest: verdict, mean and std across folds, the per-fold table and figure."""
    import pandas as pd

    summary = (
        _read_json(directory / "summary.json") if (directory / "summary.json").is_file() else {}
    )
    predictions = directory / "predictions.csv"
    actual = pd.read_csv(predictions)["actual"] if predictions.is_file() else []
    fmt = price_format(reference_price(actual))
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
    if (directory / "folds.csv").is_file():
        folds = pd.read_csv(directory / "folds.csv")
        # dict-valued metrics (baselines, skill_vs) reach folds.csv as Python reprs: not for people
        nested = [c for c in folds if folds[c].astype(str).str.startswith(("{", "[")).all()]
        folds = folds.drop(columns=nested)
        sections.append(_section("folds", "Per fold", [], [_frame_table("", folds, fmt)]))
    figures = png_figures(directory)
    if figures:
        sections.append(_section("figures", "Figures", figures=figures))
    config = _read_config(directory / "config.toml")
    if config is not None:
        sections.append(data_quality_section([config.data.path], config.data))
    marker = _read_json(directory / MARKER_FILE)
    sections.append(_config_section(directory / "config.toml", marker))
    verdict = _verdict(summary, fmt)
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
        + (f" of {Path(summary['source']).name}" if summary.get("source") else ""),
        "directory": str(directory),
        **verdict,
        "tiles": tiles,
        "notes": [],
        "sections": sections,
    }


# ---- a tuning study ------------------------------------------------------------------------------


def tune_page(directory: Path) -> dict:
    """The page of a tuning study: the best trials by the objective (with their DM test when the
    study's JSON has them), its summary, best.toml and every figure."""
    import pandas as pd

    trials_path = directory / "trials.csv"
    trials = pd.read_csv(trials_path) if trials_path.is_file() else pd.DataFrame()
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
    if (directory / "best.toml").is_file():
        text = (directory / "best.toml").read_text(encoding="utf-8")
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


# ---- parts every page may have ------------------------------------------------------------------


def data_quality_section(paths: list[str], data_config) -> dict:
    """`inspect`'s report of each data file, or why there is none (the file is gone)."""
    from lstm_forecast.data import csv_options, load_prices, quality_report, report_lines

    paragraphs, tables = [], []
    for path in [path for path in paths if path]:
        if not Path(path).is_file():
            paragraphs.append(
                f"{path}: the data file is no longer there, so no data-quality report"
            )
            continue
        try:
            report = quality_report(load_prices(path, **csv_options(data_config)))
        except (LstmForecastError, OSError) as e:
            paragraphs.append(f"{path}: cannot be read any more ({e})")
            continue
        paragraphs += report_lines(report)[:2]
        gaps = [[g["after"], g["until"], str(g["days"])] for g in report["long_gaps"][:GAPS_SHOWN]]
        more = len(report["long_gaps"]) - GAPS_SHOWN
        caption = (
            f"gaps longer than a long weekend in {Path(path).name}: {len(report['long_gaps'])}"
        )
        tables.append(_table(caption + (f" ({more} more not shown)" if more > 0 else ""),
                             ["after", "until", "days"], gaps))  # fmt: skip
        moves = [[m["date"], format_percent(m["change"]),
                  "looks like a stock split or a data error" if m["suspicious"] else ""]
                 for m in report["largest_moves"]]  # fmt: skip
        tables.append(
            _table(f"largest one-day moves in {Path(path).name}", ["date", "change", ""], moves)
        )
    return _section("data", "Data quality", paragraphs, tables)


def _config_section(config_path: Path, manifest: dict) -> dict:
    versions = manifest.get("versions") if isinstance(manifest.get("versions"), dict) else {}
    rows = [[name, str(version or MISSING)] for name, version in versions.items()]
    if manifest.get("python"):
        rows.insert(0, ["python", str(manifest["python"])])
    if manifest.get("created"):
        rows.insert(0, ["created", str(manifest["created"])])
    tables = (
        [_table("library versions the run was made with", ["", "version"], rows)] if rows else []
    )
    text = config_path.read_text(encoding="utf-8") if config_path.is_file() else ""
    return _section("config", "Config and versions", [], tables, preformatted=text)


def figure_uri(figure) -> str:
    """A matplotlib Figure as a data URI (base64 PNG); the figure is closed."""
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    try:
        figure.savefig(buffer, dpi=FIGURE_DPI, format="png")
    finally:
        plt.close(figure)
    return png_uri(buffer.getvalue())


def png_uri(data: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")


def png_figures(directory: Path, skip: tuple[str, ...] = ()) -> list[dict]:
    """Every PNG in `directory` (but `skip`), embedded, by name."""
    return [
        {"caption": path.name, "uri": png_uri(path.read_bytes()), "alt": path.stem}
        for path in sorted(directory.glob("*.png"))
        if path.name not in skip
    ]


def _section(id_: str, title: str, paragraphs=(), tables=(), figures=(), preformatted="") -> dict:
    return {"id": id_, "title": title, "paragraphs": list(paragraphs), "tables": list(tables),
            "figures": list(figures), "preformatted": preformatted}  # fmt: skip


def _table(caption: str, headers: list[str], rows: list[list[str]]) -> dict:
    return {"caption": caption, "headers": headers, "rows": rows, "highlight": []}


def _key_values(values: dict, names, fmt) -> list[list[str]]:
    """[name, formatted value] for the names present; nested dicts as name.key rows."""
    rows = []
    for name in names:
        if name not in values:
            continue
        value = values[name]
        if isinstance(value, dict):
            rows += _key_values(
                {f"{name}.{k}": v for k, v in value.items()}, [f"{name}.{k}" for k in value], fmt
            )
        else:
            rows.append([name, format_value(name, value, fmt)])
    return rows


def format_value(name: str, value, fmt) -> str:
    """A metric as the report prints it, by its name: prices with the series' decimals, shares
    and MAPE in percent, skills signed; NaN and None as "-"."""
    base = name.rsplit(".", 1)[-1]
    if hasattr(value, "item"):  # a NumPy scalar from a CSV column
        value = value.item()
    if value is None or isinstance(value, bool):
        return MISSING if value is None else ("yes" if value else "no")
    if isinstance(value, list | tuple):
        return ", ".join(format_value(name, item, fmt) for item in value)
    if isinstance(value, str) or isinstance(value, int):
        return str(value)
    number = _number(value)
    if number is None:
        return MISSING
    if base.endswith("pvalue"):
        return "< 0.001" if number < 0.001 else f"{number:.3f}"
    if base.endswith("mape"):
        return _percent(number)
    if SKILL_NAME.search(base):
        return _skill(number)
    if SHARE_NAME.search(base):
        return _share(number)
    if PRICE_NAME.search(base) or base == "mean" and PRICE_NAME.search(name.rsplit(".", 1)[0]):
        return fmt(number)
    return f"{number:.4g}"


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def _number(value) -> float | None:
    """A finite float, or None (None, NaN, text)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _share(value) -> str:
    number = _number(value)
    return MISSING if number is None else f"{100 * number:.1f} %"


def _percent(value) -> str:
    number = _number(value)
    return MISSING if number is None else f"{number:.2f} %"


def _skill(value) -> str:
    number = _number(value)
    return MISSING if number is None else f"{number:+.3f}"


def _read_json(path: Path):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as e:
        raise BundleError(f"{path}: damaged ({e}); write the directory again") from e


def _frame_table(caption: str, frame, fmt) -> dict:
    """A table of every column of `frame`, each value formatted by its column's name."""
    rows = [
        [format_value(str(column), value, fmt) for column, value in row.items()]
        for _, row in frame.iterrows()
    ]
    return _table(caption, [str(column) for column in frame.columns], rows)


def _read_config(path: Path):
    """The config.toml of a backtest or study, or None when it is missing or unreadable."""
    import tomllib

    from lstm_forecast.config import config_from_dict

    try:
        return config_from_dict(tomllib.loads(path.read_text(encoding="utf-8")), str(path))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, LstmForecastError):
        return None
