"""The report page of a training run: verdict, metrics beside the baselines, the figure, the lag
diagnosis, interval coverage, data quality, training, config and versions."""

from __future__ import annotations

from pathlib import Path

from lstm_forecast.files.names import CONFIG_FILE
from lstm_forecast.intervals.scores import held_short
from lstm_forecast.numbers import price_format, reference_price
from lstm_forecast.report.parts import (
    _config_section,
    _key_values,
    _number,
    _percent,
    _section,
    _sentence,
    _share,
    _skill,
    _table,
    _verdict,
    data_quality_section,
    figure_uri,
)
from lstm_forecast.report.strategy import strategy_section


def run_page(run) -> dict:
    """The page of a run (bundle.RunFiles): verdict, metrics beside the baselines, figure, lag,
    interval, data quality, training, config and versions."""
    from lstm_forecast.evaluate.metrics import lag_verdict
    from lstm_forecast.files.names import PREDICTIONS_FILE

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
    forecast = _forecast_figure(run, notes)
    if forecast is not None:
        sections.append(
            _section("forecast", "The forecast written into the run", figures=[forecast])
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
    trading = strategy_section(metrics, run.directory)
    if trading is not None:
        sections.append(trading)
    sections.append(data_quality_section([config.data.path, config.data.test_path], config.data))
    training = _key_values(metrics, ("train_rows", "train_windows", "parameters", "engine", "epochs_run",
                                     "seconds_per_epoch", "fit_seconds", "interrupted"), fmt)  # fmt: skip
    if training:
        sections.append(_section("training", "Training", [], [_table("", ["", ""], training)]))
    gates = _gates_section(run, notes)
    if gates is not None:
        sections.append(gates)
    shown = {"baselines", "skill_vs", "lag_rmse", "strategy"}
    everything = _key_values(metrics, [k for k in metrics if k not in shown], fmt)
    if everything:
        sections.append(_section("all-metrics", "Every number in metrics.json", [],
                                 [_table("", ["metric", "value"], everything)]))  # fmt: skip
    sections.append(_config_section(run.directory / CONFIG_FILE, run.manifest))
    span = f"{metrics.get('test_start', '?')} .. {metrics.get('test_end', '?')}" if metrics else ""
    return {
        "title": f"Run {run.directory.name}",
        "kind": "run",
        "subtitle": f"{config.data.target} of {Path(config.data.test_path or config.data.path).name}"
        + (f", test {span} ({metrics.get('rows', '?')} rows)" if span else ""),
        "directory": str(run.directory),
        **_one_span(_verdict(metrics, fmt)),
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
    shown = [{"label": label, "value": value} for label, value in tiles if value is not None]
    level, rows = _number(metrics.get("level")), int(metrics.get("rows") or 0)
    if "coverage" in metrics and level is not None and held_short(metrics["coverage"], level, rows):
        for tile in shown:  # a band that missed its level looks like a miss
            if tile["label"] == "interval coverage":
                tile["mood"] = "bad"
                tile["value"] += f" of {100 * level:g} %"
    return shown


def _interval_rows(metrics: dict, fmt) -> list[list[str]]:
    names = ("interval", "level", "scale", "online", "coverage", "coverage_static", "mean_width",
             "winkler")  # fmt: skip
    rows = _key_values(metrics, names, fmt)
    if "coverage" in metrics and "level" in metrics and _number(metrics["level"]) is not None:
        rows.append(["nominal vs actual", f"{_share(metrics['level'])} interval held for "
                     f"{_share(metrics['coverage'])} of the actual prices"])  # fmt: skip
    return rows


def _run_figure(run, predictions: Path, metrics: dict) -> dict:
    """plot.run_figure, with the prediction interval shaded when predictions.csv has one."""
    from lstm_forecast.report import plot
    from lstm_forecast.report.run_plots import read_table

    table = read_table(predictions, plot.PREDICTION_COLUMNS, "train")
    name = Path(run.config.data.test_path or run.config.data.path).stem
    figure = plot.run_figure(table, run.history, run.config.data.target, name, metrics)
    caption = "Real price (red), one-step-ahead prediction (blue); the loss per epoch below"
    if {"lower", "upper"} <= set(table.columns) and table["lower"].notna().any():
        caption += "; the shaded band is the prediction interval, × the prices outside it"
    return {"caption": caption, "uri": figure_uri(figure), "alt": "predicted over real prices"}


def _forecast_figure(run, notes: list) -> dict | None:
    """The fan chart of the forecast `predict --steps` wrote into the run (forecast.csv), if any."""
    from lstm_forecast.errors import LstmForecastError
    from lstm_forecast.files import read as ours
    from lstm_forecast.files.names import FORECAST_FILE
    from lstm_forecast.report import plot
    from lstm_forecast.report.run_plots import read_table

    path = run.directory / FORECAST_FILE
    if not path.is_file():
        return None
    try:
        # checked as `plot --forecast` checks it: the columns there, the numbers numeric
        table = read_table(path, plot.FORECAST_COLUMNS, "predict --steps N")
        info = ours.read_json(path.with_suffix(".json"), allow_nan=True)
        level = _number(info.get("level"))
        shown = f"{100 * level:g} %" if level else ""
        name = Path(run.config.data.test_path or run.config.data.path).stem
        figure = plot.forecast_figure(table, run.config.data.target, name, shown)
    except LstmForecastError as e:  # a forecast file damaged or edited: say so, draw nothing
        notes.append(f"{FORECAST_FILE} not drawn: {e}")
        return None
    steps = int(table["predicted"].notna().sum())
    caption = f"{FORECAST_FILE}: {steps} rows forecast from {info.get('origin', '?')}"
    return {"caption": caption, "uri": figure_uri(figure), "alt": "the run's forecast"}


def _gates_section(run, notes: list) -> dict | None:
    """Inside the cell (report_gates): the gates over the run's last window; a run whose model
    cannot be loaded gets a note instead."""
    from lstm_forecast.errors import LstmForecastError
    from lstm_forecast.forecaster.forecaster import Forecaster
    from lstm_forecast.report.gates import gates_section

    try:
        return gates_section(Forecaster.load(run.directory))
    except LstmForecastError as e:
        notes.append(f"the gates could not be traced: {e}")
        return None


ONE_SPAN = (
    " One test span of one seed: `lstm-forecast backtest` (many folds, one pooled test) is the "
    "fairer judge."
)


def _one_span(verdict: dict) -> dict:
    """A run's verdict with its caveat where the verdict is, and never in the colour of a win:
    one test span of one training seed cannot carry one."""
    if not verdict.get("verdict"):
        return verdict
    mood = "neutral" if verdict.get("mood") == "good" else verdict.get("mood", "neutral")
    return {**verdict, "verdict": verdict["verdict"] + ONE_SPAN, "mood": mood}
