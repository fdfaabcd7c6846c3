"""The HTML report: it parses with balanced tags, loads nothing from elsewhere, and shows the
numbers of the directory it reports on (run, backtest, tuning study), old runs included."""

import base64
import dataclasses
import json
import math
import re
import shutil
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest
from conftest import random_walk
from typer.testing import CliRunner

from lstm_forecast.cli.base import app
from lstm_forecast.config.load import load_config, with_overrides
from lstm_forecast.errors import BundleError
from lstm_forecast.evaluate.metrics import lag_verdict
from lstm_forecast.forecaster.bundle import read_run
from lstm_forecast.numbers import price_format, reference_price
from lstm_forecast.report.page import render, write_report
from lstm_forecast.report.parts import format_value
from lstm_forecast.report.run import run_page

VOID_ELEMENTS = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}  # fmt: skip
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


class Page(HTMLParser):
    """Parses a page, checking that every element is closed in order; collects the text, the
    tags, and every src/href."""

    def __init__(self, html: str):
        super().__init__()
        self.open, self.tags, self.links, self.text = [], [], [], []
        self.feed(html)
        self.close()
        assert self.open == [], f"unclosed elements: {self.open}"

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.links += [value or "" for name, value in attrs if name in ("src", "href")]
        if tag not in VOID_ELEMENTS:
            self.open.append(tag)

    def handle_endtag(self, tag):
        assert tag not in VOID_ELEMENTS, f"</{tag}> closes a void element"
        assert self.open and self.open[-1] == tag, f"</{tag}> closes <{self.open[-1:]}>"
        self.open.pop()

    def handle_data(self, data):
        self.text.append(data)

    @property
    def words(self) -> str:
        return " ".join(" ".join(self.text).split())


def parse_self_contained(html: str) -> Page:
    """The page parsed; it names no resource outside itself (only data: URIs and #anchors)."""
    assert html.startswith("<!DOCTYPE html>")
    page = Page(html)
    for link in page.links:
        assert link.startswith(("data:image/png;base64,", "#")), link
    assert not re.search(r"(src|href)\s*=\s*[\"']?\s*(https?:)?//", html, re.IGNORECASE)
    assert not re.search(r"@import|url\(", html, re.IGNORECASE)
    assert {"script", "iframe", "object", "link"}.isdisjoint(page.tags)
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    return page


def embedded_pngs(page: Page) -> list[bytes]:
    prefix = "data:image/png;base64,"
    return [base64.b64decode(link[len(prefix) :]) for link in page.links if link.startswith(prefix)]


@pytest.fixture
def run_copy(trained_run, tmp_path):
    """The session's run copied, so a test may write report.html into it."""
    return shutil.copytree(trained_run[0].run_dir, tmp_path / "run")


def test_run_report_parses_is_self_contained_and_shows_the_metrics(trained_run, tmp_path):
    run_dir = trained_run[0].run_dir
    out = write_report(run_dir, tmp_path / "report.html")
    page = parse_self_contained(out.read_text(encoding="utf-8"))
    run = read_run(run_dir)
    metrics = run.metrics
    fmt = price_format(reference_price(run.series.iloc[:, 0]))
    text = page.words
    for name in ("rmse", "mae", "naive_rmse", "drift_rmse", "baseline_rmse"):
        assert fmt(metrics[name]) in text, name
    for name, scores in metrics["baselines"].items():
        assert f"{name}: {scores['label']}" in text
        assert f"{metrics['skill_vs'][name]:+.3f}" in text
    assert f"{100 * metrics['directional_accuracy']:.1f} %" in text
    assert f"{metrics['mape']:.2f} %" in text
    # the verdict line: skill against the strongest baseline and its significance
    verdict = re.search(r'<p class="verdict (good|bad|neutral)">([^<]*)</p>', out.read_text())
    assert verdict, "no verdict line"
    assert metrics["verdict"] in verdict.group(2).replace("&#39;", "'")
    assert f"skill {metrics['skill']:+.3f} against it" in verdict.group(2)
    assert "DM" in verdict.group(2)
    # the lag diagnosis, every shift's RMSE
    assert lag_verdict(metrics).removeprefix("lag diagnosis: ")[1:] in text
    for value in metrics["lag_rmse"]:
        assert fmt(value) in text
    # the figure is a real PNG; the data-quality report, config and versions are there
    figure, gates = embedded_pngs(page)  # the run's figure, then the gates (issue 31)
    assert figure.startswith(PNG_SIGNATURE) and len(figure) > 10_000
    assert gates.startswith(PNG_SIGNATURE) and "Inside the cell" in text
    assert f"{run.config.data.path}, column 'Open': 140 rows used of 140" in text
    assert f"{run.config.data.test_path}, column 'Open': 20 rows used of 20" in text
    assert "units = 4" in text and "largest one-day moves" in text
    assert f"keras {run.manifest['versions']['keras']}" in text


def test_an_old_run_without_the_newer_metrics_renders_what_it_has(trained_run):
    """metrics.json of lstm-forecast 0.1: no baselines, no significance test, no interval; a
    NaN and a None shown as '-', never a KeyError."""
    run = read_run(trained_run[0].run_dir)
    old_keys = ("rmse", "mae", "mape", "naive_rmse", "naive_mae", "naive_mape", "drift",
                "drift_rmse", "drift_mae", "skill", "lag", "lag_rmse", "test_start", "test_end",
                "rows", "engine", "epochs_run", "seconds_per_epoch", "interrupted")  # fmt: skip
    old = {key: run.metrics[key] for key in old_keys} | {
        "directional_accuracy": None,
        "mae": math.nan,
    }
    html = render(run_page(dataclasses.replace(run, metrics=old)))
    page = parse_self_contained(html)
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", html)
    model_row = next(row for row in rows if row.startswith("<td>model</td>"))
    fmt = price_format(reference_price(run.series.iloc[:, 0]))
    assert re.findall(r"<td>([^<]*)</td>", model_row)[1:5] == [fmt(old["rmse"]), "-", f"{old['mape']:.2f} %", "-"]  # fmt: skip
    assert f"Skill vs 'tomorrow = today' {old['skill']:+.3f}" in page.words
    assert "no significance test" in page.words
    assert "Interval coverage" not in page.words
    # nothing at all: still a page
    parse_self_contained(render(run_page(dataclasses.replace(run, metrics={}))))


def test_interval_metrics_and_band_are_shown(run_copy):
    run = read_run(run_copy)
    predictions = pd.read_csv(run_copy / "predictions.csv")
    predictions["lower"], predictions["upper"] = predictions["predicted"] - 1, predictions["predicted"] + 1  # fmt: skip
    predictions.to_csv(run_copy / "predictions.csv", index=False)
    interval = {"interval": "conformal", "level": 0.9, "coverage": 0.85, "mean_width": 2.0, "winkler": 3.25}  # fmt: skip
    html = render(run_page(dataclasses.replace(run, metrics=run.metrics | interval)))
    text = parse_self_contained(html).words
    fmt = price_format(reference_price(run.series.iloc[:, 0]))
    assert "90.0 % interval held for 85.0 % of the actual prices" in text
    assert "interval conformal" in text and f"winkler {fmt(3.25)}" in text
    assert "the shaded band is the prediction interval" in text


def test_a_missing_data_file_is_said_not_fatal(trained_run, tmp_path):
    run = read_run(trained_run[0].run_dir)
    gone = str(tmp_path / "moved-away.csv")
    data = dataclasses.replace(run.config.data, path=gone, test_path="")
    html = render(run_page(dataclasses.replace(run, config=dataclasses.replace(run.config, data=data))))  # fmt: skip
    assert f"{gone}: the data file is no longer there" in parse_self_contained(html).words


def test_values_are_escaped_not_markup(trained_run):
    run = read_run(trained_run[0].run_dir)
    label = "<script>alert(1)</script> & co"
    html = render(run_page(dataclasses.replace(run, metrics=run.metrics | {"baseline_label": label})))  # fmt: skip
    page = parse_self_contained(html)
    assert "script" not in page.tags
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in html


def test_backtest_report_shows_every_fold_and_the_figure(tmp_path, tiny_config):
    from lstm_forecast.app.commands import backtest

    path = tmp_path / "prices.csv"
    random_walk(90, seed=3).to_csv(path, index=False)
    config = with_overrides(
        load_config(tiny_config), data__path=str(path), train__epochs=1, forecast__samples=10,
        forecast__interval="dropout",
    )  # fmt: skip
    result = backtest(config, 2, 5, tmp_path / "bt")
    out = write_report(result.out_dir)
    assert out == tmp_path / "bt" / "report.html"
    page = parse_self_contained(out.read_text(encoding="utf-8"))
    text = page.words
    folds = pd.read_csv(tmp_path / "bt" / "folds.csv")
    fmt = price_format(reference_price(pd.read_csv(tmp_path / "bt" / "predictions.csv")["actual"]))
    for row in folds.itertuples():
        assert f"{row.test_start} {row.test_end}" in text
        assert fmt(row.rmse) in text and f"{row.skill:+.3f}" in text
    summary = result.summary
    assert f"rmse {fmt(summary['rmse']['mean'])} {fmt(summary['rmse']['std'])}" in text
    verb = {"beats": "beats", "loses to": "loses to"}.get(
        summary["verdict"], "shows no significant difference from"
    )
    assert f"The model {verb} the strongest baseline (" in text
    pvalue = summary["dm_pvalue"]
    test = "DM p < 0.001" if pvalue < 0.001 else f"DM p = {pvalue:.3f}"
    assert f"over all 2 folds ({test}): pooled skill " in text
    assert f"pooled skill {summary['pooled_skill']:+.3f} against it" in text
    # the equity curves in the trading section, then the backtest's figure
    pngs = [(tmp_path / "bt" / name).read_bytes() for name in ("equity.png", "backtest.png")]
    assert embedded_pngs(page) == pngs
    assert "Trading on the forecasts" in text and "Not investment advice." in text
    assert "Data quality" in text and "Config and versions" in text
    assert "trained (refit" not in text  # a model per fold: nothing to say
    recursive = summary["recursive_intervals"]
    assert "dropout" in recursive and "naive" in recursive
    for method, values in recursive.items():
        assert f"5 steps {method} {100 * values['coverage']:.1f} %" in text
        if method != "naive":
            better = values["against_naive"]["folds_better"]
            assert f"lower in {better} of 2 folds" in text

    once = backtest(with_overrides(config, backtest__refit=0), 2, 5, tmp_path / "once")
    text = parse_self_contained(write_report(once.out_dir).read_text(encoding="utf-8")).words
    assert "1 model trained (refit 0)" in text

    # the folder has no checksums: a hand-edited summary.json or predictions.csv is one line
    from lstm_forecast.errors import DataError

    bt = tmp_path / "bt"
    original = json.loads((bt / "summary.json").read_text())
    for edit, message in [
        ({"baselines_chosen": ["previous_close"]}, "'baselines_chosen' is ['previous_close']"),
        ({"verdict": []}, "'verdict' is [], not text"),
        ({"models_trained": "x"}, "'models_trained' is 'x', not a whole number"),
        ({"dm_pvalue": 7}, "'dm_pvalue' is 7, not a share"),
        ({"rmse": {"mean": "x"}}, "'rmse' is {'mean': 'x'}, not a mean and a standard deviation"),
        ({"recursive_intervals": {"conformal": "x"}}, "'recursive_intervals.conformal' is 'x'"),
        ({"strategy": {"strategies": {"model": "x"}}}, "'strategy.strategies.model' is 'x'"),
    ]:
        (bt / "summary.json").write_text(json.dumps({**original, **edit}))
        with pytest.raises(DataError, match=re.escape(f"summary.json: {message}")):
            write_report(bt, overwrite=True)
    (bt / "summary.json").write_text(json.dumps(original))
    table = pd.read_csv(bt / "predictions.csv").rename(columns={"actual": "Actual"})
    table.to_csv(bt / "predictions.csv", index=False)
    with pytest.raises(DataError, match="predictions.csv: missing column\\(s\\) actual"):
        write_report(bt, overwrite=True)


def test_tuning_study_report_shows_the_best_ten_trials_and_every_figure(tmp_path):
    """A study as `tune` writes it: trials.csv (number, state, value, ...), study.json with the
    objective (maximized) and its best trials DM-tested, best.toml, history and importances."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    study = tmp_path / "study"
    study.mkdir()
    (study / "run.json").write_text(json.dumps({"format": "lstm-forecast", "kind": "tune"}))
    values = np.linspace(-0.2, 0.1, 12)  # trial 11 best (highest), trials 0 and 1 worst
    trials = pd.DataFrame(
        {"number": range(13), "state": ["complete"] * 12 + ["pruned"],
         "value": [*values, np.nan], "units": [8, 16, 32, 64] * 3 + [8]}
    )  # fmt: skip
    trials.sample(frac=1, random_state=0).to_csv(study / "trials.csv", index=False)
    best = [
        {"number": 11, "value": 0.1, "params": {"units": 64}, "rows": 100,
         "dm_statistic": -2.5, "dm_pvalue": 0.014, "verdict": "beats"},
        {"number": 10, "value": 0.0727, "params": {"units": 32}, "rows": 100,
         "dm_statistic": -1.1, "dm_pvalue": 0.27, "verdict": "no significant difference from"},
    ]  # fmt: skip
    summary = {"objective": "pooled skill over all folds (maximized)", "folds": 3, "best": best,
               "trials_by_state": {"complete": 12, "pruned": 1}}  # fmt: skip
    (study / "study.json").write_text(json.dumps(summary))
    (study / "best.toml").write_text("[[model.layers]]\nunits = 64\n")
    for name in ("importances.png", "history.png"):
        figure, axes = plt.subplots(figsize=(2, 1))
        axes.plot([1, 2, 3])
        figure.savefig(study / name)
        plt.close(figure)
    page = parse_self_contained(write_report(study).read_text(encoding="utf-8"))
    html = (study / "report.html").read_text()
    ranked = html[html.index('id="trials"') : html.index('id="tested"')]
    numbers = re.findall(r"<tr[^>]*><td>(\d+)</td><td>complete</td>", ranked)
    assert numbers == [str(trial) for trial in range(11, 1, -1)]  # the best 10, best first
    text = page.words
    assert "Best trial 11: objective 0.1; it beats the baseline (DM p = 0.014)" in text
    assert "10 0.0727 100 -1.1 0.270 no significant difference from 32" in text
    assert "Objective: pooled skill over all folds (maximized)" in text
    assert "trials_by_state.pruned 1" in text and "units = 64" in text
    pngs = embedded_pngs(page)
    assert pngs == [(study / name).read_bytes() for name in ("history.png", "importances.png")]


def test_a_bare_trials_csv_is_ranked_by_its_objective_column(tmp_path):
    """No JSON, no marker: an RMSE-like objective ranks lowest first."""
    pd.DataFrame({"trial": [0, 1, 2], "val_rmse": [3.0, 1.0, 2.0]}).to_csv(
        tmp_path / "trials.csv", index=False
    )
    html = write_report(tmp_path).read_text()
    parse_self_contained(html)
    assert re.findall(r"<tr[^>]*><td>(\d)</td>", html) == ["1", "2", "0"]
    assert "by val_rmse, lowest first, of 3 trials" in html


def test_a_directory_that_is_none_of_ours_is_refused(tmp_path):
    with pytest.raises(BundleError, match="not a run, backtest or tuning study"):
        write_report(tmp_path)
    with pytest.raises(BundleError, match="no such directory"):
        write_report(tmp_path / "nowhere")
    for kind, missing in (("backtest", "summary.json: missing"), ("tune", "trials.csv: missing")):
        folder = tmp_path / kind
        folder.mkdir()
        (folder / "run.json").write_text(json.dumps({"format": "lstm-forecast", "kind": kind}))
        with pytest.raises(BundleError, match=missing):
            write_report(folder)
        assert sorted(p.name for p in folder.iterdir()) == ["run.json"]


def test_cli_report_writes_the_default_and_guards_other_files(run_copy, tmp_path):
    runner = CliRunner()
    result = runner.invoke(app, ["report", str(run_copy)])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"wrote {run_copy / 'report.html'}"
    again = runner.invoke(app, ["report", str(run_copy)])  # the default is replaced
    assert again.exit_code == 0, again.output
    other = tmp_path / "mine.html"
    other.write_text("keep me")
    refused = runner.invoke(app, ["report", str(run_copy), "--out", str(other)])
    assert refused.exit_code == 2
    assert refused.stderr.strip() == f"error: {other}: already exists; choose another --out or pass --overwrite to replace it"  # fmt: skip
    assert other.read_text() == "keep me"
    onto_input = runner.invoke(app, ["report", str(run_copy), "--out", str(run_copy / "metrics.json")])  # fmt: skip
    assert onto_input.exit_code == 2 and "is an input of this command" in onto_input.stderr
    assert "Example: lstm-forecast report" in runner.invoke(app, ["report", "--help"]).stdout


@pytest.mark.parametrize(
    ("name", "value", "shown"),
    [
        ("rmse", 21.2215, "21.22"),  # on prices in the thousands: cents
        ("baselines.drift.mae", 0.0012345, "0.00123"),  # on prices near 1: 5 decimals
        ("directional_accuracy", 0.5458, "54.6 %"),
        ("coverage", np.float64(0.85), "85.0 %"),
        ("mape", 0.513, "0.51 %"),
        ("skill_persistence", -0.01618, "-0.016"),
        ("dm_pvalue", 0.0002, "< 0.001"),
        ("train_rows", np.int64(123456), "123456"),
        ("interrupted", np.bool_(False), "no"),
        ("rmse", math.nan, "-"),
        ("skill", None, "-"),
        ("verdict", "beats", "beats"),
    ],
)
def test_values_print_by_their_name(name, value, shown):
    fmt = price_format(2500.0 if name == "rmse" else 1.2)
    assert format_value(name, value, fmt) == shown


def test_a_runs_verdict_carries_its_caveat_and_a_missed_band_looks_missed():
    from lstm_forecast.report.run import _one_span, _tiles

    won = _one_span({"verdict": "The model beats it.", "mood": "good"})
    assert won["mood"] == "neutral" and "`lstm-forecast backtest`" in won["verdict"]
    assert _one_span({"verdict": "The model loses to it.", "mood": "bad"})["mood"] == "bad"
    missed = {"coverage": 0.495, "level": 0.9, "rows": 503, "rmse": 9.0}
    (tile,) = [t for t in _tiles(missed, str) if t["label"] == "interval coverage"]
    assert tile["mood"] == "bad" and tile["value"].endswith("of 90 %")
    held = {"coverage": 0.89, "level": 0.9, "rows": 503}
    (tile,) = [t for t in _tiles(held, str) if t["label"] == "interval coverage"]
    assert "mood" not in tile


def test_a_forecast_written_into_the_run_is_in_its_report(run_copy):
    runner = CliRunner()
    result = runner.invoke(app, ["predict", str(run_copy), "--steps", "5"])
    assert result.exit_code == 0, result.output
    page = parse_self_contained(render(run_page(read_run(run_copy))))
    text = page.words
    assert "The forecast written into the run" in text
    assert "forecast.csv: 5 rows forecast from" in text
    assert len(embedded_pngs(page)) == 3  # the run's figure, the forecast's fan, the gates
    info = (run_copy / "forecast.json").read_text()
    (run_copy / "forecast.json").write_text("{not json")  # damaged: said, not fatal
    page = parse_self_contained(render(run_page(read_run(run_copy))))
    assert "forecast.csv not drawn:" in page.words
    (run_copy / "forecast.json").write_text(info)
    forecast = run_copy / "forecast.csv"
    rows = forecast.read_text().splitlines()
    edited = [rows[0], *rows[1:-1], rows[-1].replace(rows[-1].split(",")[2], "oops", 1)]
    for text in ("\n".join(edited), "date,value\n2020-01-01,1\n"):  # a value, a column edited
        forecast.write_text(text)
        page = parse_self_contained(render(run_page(read_run(run_copy))))
        assert "forecast.csv not drawn:" in page.words


def test_the_league_page_shows_the_verdict_columns_first_and_says_what_coverage_is(tmp_path):
    from lstm_forecast.files.write import write_marker
    from lstm_forecast.report.studies import league_page

    columns = ["series", "rows", "rmse", "persistence_rmse", "baseline", "baseline_rmse",
               "skill", "dm_pvalue", "verdict", "coverage", "width", "winkler", "naive_winkler",
               "one_step_coverage", "one_step_width", "one_step_winkler", "seconds"]  # fmt: skip
    row = ["a", 100, 1.0, 1.1, "persistence", 1.1, 0.09, 0.2, "no significant difference from",
           0.85, 12.0, 20.0, 21.0, 0.9, 3.0, 4.0, 3.0]  # fmt: skip
    pd.DataFrame([row], columns=columns).to_csv(tmp_path / "league.csv", index=False)
    write_marker(tmp_path, "league", series={"a": "a.csv"})
    page = league_page(tmp_path)
    (league,) = [s for s in page["sections"] if s["id"] == "league"]
    assert league["tables"][0]["headers"][:5] == [
        "series",
        "skill",
        "dm_pvalue",
        "verdict",
        "coverage",
    ]
    assert "recursive forecast from its origin" in league["paragraphs"][0]
    # the bands' Winkler scores beside the naive band's; the detail stays in league.csv
    headers = league["tables"][0]["headers"]
    assert {"winkler", "naive_winkler", "one_step_coverage"} <= set(headers)
    assert not {"one_step_width", "persistence_rmse", "seconds"} & set(headers)
