"""What the commands print: the metrics table beside the baselines, verdicts, backtest summaries."""

from __future__ import annotations

import shlex
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import typer

from lstm_forecast.files.write import csv_text


def stopped_early(metrics: dict) -> str:
    """A line when early stopping ended training before the epochs asked for; '' otherwise."""
    run, asked = metrics.get("epochs_run"), metrics.get("epochs_asked")
    if metrics.get("interrupted") or not run or not asked or run >= asked:
        return ""
    return (
        f"early stopping ended training at epoch {run} of {asked}: the held-out loss stopped "
        "improving ([train] early_stopping_patience); the best epoch's weights are kept"
    )


def report_command(directory: str | Path) -> str:
    """The line `train`, `backtest` and `tune` print: how to see their output as one page (the
    CLI's own: importing the report would load numpy and Jinja2 for `--help`)."""
    return f"see it as one page: lstm-forecast report {shlex.quote(str(directory))}"


def print_metrics(metrics: dict) -> None:
    """The model beside every baseline on the same rows, then the verdict against the strongest
    (with its Diebold-Mariano p-value) and the lag diagnosis."""
    from rich import box
    from rich.console import Console
    from rich.table import Table

    from lstm_forecast.evaluate.metrics import lag_verdict, verdict_sentence
    from lstm_forecast.numbers import format_skill, price_format

    money = price_format(metrics.get("price_scale", float("nan")))
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    for heading in ("", "RMSE", "MAE", "MAPE %", "direction", "skill"):
        table.add_column(heading, justify="left" if not heading else "right", no_wrap=True)

    def percent(share) -> str:
        return "-" if share is None or share != share else f"{100 * share:.1f} %"  # NaN-safe

    table.add_row(
        "model",
        money(metrics["rmse"]),
        money(metrics["mae"]),
        f"{metrics['mape']:.2f}",
        percent(metrics["directional_accuracy"]),
        "",
    )
    for name, scores in metrics["baselines"].items():
        strongest = "* " if name == metrics["baseline"] else "  "
        table.add_row(
            f"{strongest}{scores['label']}",
            money(scores["rmse"]),
            money(scores["mae"]),
            f"{scores['mape']:.2f}",
            percent(scores["directional_accuracy"]) if name != "persistence" else "-",
            format_skill(metrics["skill_vs"][name]),
        )
    # at least 100 columns: the table must not be cut when stdout is a file or a pipe
    width = max(100, shutil.get_terminal_size().columns)
    Console(highlight=False, soft_wrap=True, width=width).print(table)
    typer.echo(
        f"*: the strongest baseline on the training span; skill = 1 - RMSE / its RMSE "
        f"({metrics['rows']} rows, {metrics['test_start']} .. {metrics['test_end']})"
    )
    typer.echo(
        f"verdict: {verdict_sentence(metrics)}, skill {format_skill(metrics['skill'])} (one test span of "
        "one seed: `lstm-forecast backtest` is the fairer judge)"
    )
    typer.echo(lag_verdict(metrics))
    if metrics.get("shrinkage") == 0:  # forecaster.calibrate.fit_shrinkage
        typer.echo(
            "note: the model's predictions added nothing over the baseline on its held-out rows, "
            "so it predicts the baseline itself (shrinkage 0): train it longer or on more data"
        )


def print_prediction_notes(metrics: dict) -> None:
    if metrics["in_sample"]:
        typer.echo("warning: the model was trained on every one of these rows: in-sample metrics")
    elif metrics["in_sample_rows_left_out"]:
        typer.echo(
            f"metrics leave out the {metrics['in_sample_rows_left_out']} rows the model was trained "
            "on (in_sample = True in the CSV)"
        )


def print_forecast(result, info: dict) -> None:
    """What was forecast (rows counted in the data's own step), and its first and last rows,
    with as many decimals as the price scale needs."""
    from lstm_forecast.numbers import price_format, reference_price

    future = result.table.dropna(subset=["predicted"])
    kind = info["interval"]
    if kind == "dropout":
        kind = f"{info['samples']} dropout samples" if info["samples"] else "dropout off"
    shown = "no interval" if kind == "none" else f"{kind} interval"
    if info.get("calibration") == "random walk":
        shown += " (the random walk's errors: the run was too short to calibrate its model's)"
    elif info.get("calibration") == "none":
        shown = "no interval (the run has no calibration: its train said why)"
    frequency = getattr(result, "frequency", None)
    if frequency is None:
        rows = f"{len(future)} rows"
    elif frequency.kind == "business_day" and info.get("calendar"):
        rows = f"{len(future)} {info['calendar']} session{'' if len(future) == 1 else 's'}"
    elif frequency.kind == "business_day":
        rows = f"{len(future)} business day{'' if len(future) == 1 else 's'}"
    else:
        rows = frequency.count(len(future))
    typer.echo(f"forecast of {rows} after {info['origin']} from {info['source']}, {shown}")
    price = price_format(reference_price(result.table["actual"]))
    steps = [1, len(future)] if len(future) > 1 else [1]  # every step is in the table
    for step in steps:
        row = future.iloc[step - 1]
        interval = (
            f" ({result.level:.0%} interval {price(row['lower'])} .. {price(row['upper'])})"
            if row["lower"] == row["lower"]  # not NaN
            else ""
        )
        typer.echo(f"  step {step}, {row['date']}: {price(row['predicted'])}{interval}")
    if frequency is not None and frequency.kind == "business_day" and not info.get("calendar"):
        # say where the dates may be wrong: Monday to Friday, holidays included
        typer.echo(
            "dates are Monday to Friday, holidays not skipped: --calendar XNYS (or another "
            "exchange's code) skips an exchange's holidays"
        )


def show_predictions(table, source: str, metrics: dict, written: Path | None) -> None:
    """What `predict` prints: the table itself with --out - (nothing `written`), else how many
    predictions, the notes on in-sample rows, the metrics and the files written."""
    if written is None:  # --out -
        typer.echo(csv_text(table, index=False, float_format="%.6f"), nl=False)
        return
    typer.echo(f"{int(table['predicted'].notna().sum())} predictions for {source}")
    print_prediction_notes(metrics)
    print_metrics(metrics)
    typer.echo(f"wrote {written} and {written.with_suffix('.metrics.json')}")


def show_forecast(result, info: dict, written: Path | None, run_dir: Path) -> None:
    """What `predict --steps` prints: the table itself with --out - (nothing `written`), else
    the forecast's summary and the files written."""
    if written is None:  # --out -
        typer.echo(csv_text(result.table, index=False, float_format="%.6f"), nl=False)
        return
    print_forecast(result, info)
    typer.echo(
        f"wrote {written} and {written.with_suffix('.json')}; draw it with: "
        f"lstm-forecast plot {shlex.quote(str(run_dir))} --forecast {shlex.quote(str(written))}"
    )


def coverage_warning(coverage: float, level: float, rows: int) -> str:
    """A line when a band held for significantly fewer rows than its level promises
    (intervals.scores.held_short), else "": errors out of sample larger than those it was
    calibrated on, which a static band cannot follow."""
    from lstm_forecast.intervals.scores import held_short

    if not held_short(coverage, level, rows):
        return ""
    return (
        f"warning: {100 * coverage:.1f} % is significantly below {100 * level:g} % (binomial "
        f"test, {rows} rows): the test rows' errors outgrew the held-out rows' the band was "
        'calibrated on, faster than its online level followed ([forecast] online = "track" '
        "moves the quantile itself)"
    )


def print_run(result) -> None:
    """What `train` prints: the metrics, whether it was interrupted, where the run is."""
    metrics = result.metrics
    print_metrics(metrics)
    if "coverage" in metrics:
        typer.echo(
            f"{100 * metrics['level']:g} % conformal interval, one step ahead"
            + (
                f" (adapted online: {metrics['online']})"
                if metrics.get("online", "none") != "none"
                else ""
            )
            + ": held for "
            f"{100 * metrics['coverage']:.1f} % of the test rows (mean width "
            f"{metrics['mean_width']:.4g}, Winkler {metrics['winkler']:.4g})"
        )
        warning = coverage_warning(metrics["coverage"], metrics["level"], metrics.get("rows", 0))
        if warning:
            typer.echo(warning)
    stopped = stopped_early(metrics)
    if stopped:
        typer.echo(stopped)
    print_strategies(metrics.get("strategy"))
    if metrics.get("interrupted"):
        typer.echo(
            f"interrupted after {result.metrics['epochs_run']} epochs: saved the best so far"
        )
    typer.echo(f"run saved to {result.run_dir}/")


def _price(value: float, reference: float | None = None) -> str:
    """An error in price units with 4 significant digits of `reference` (default: itself), at
    least 2 decimals: 12.21, 0.004120."""
    from lstm_forecast.numbers import MISSING, decimals_for

    if value != value:
        return MISSING
    return f"{value:.{decimals_for(value if reference is None else reference, 4)}f}"


def fold_line(fold: int, metrics: dict) -> str:
    from lstm_forecast.numbers import format_skill  # numpy: not on --help's path

    coverage = metrics["coverage"]
    return (
        f"fold {fold}: {metrics['test_start']} .. {metrics['test_end']}  "
        f"RMSE {_price(metrics['rmse'])} (strongest baseline, {metrics['baseline']}: "
        f"{_price(metrics['baseline_rmse'], metrics['rmse'])})  "
        f"skill {format_skill(metrics['skill'])}  direction {100 * metrics['directional_accuracy']:.0f} %  "
        f"lag {metrics['lag']}"
        + (f"  coverage {100 * coverage:.0f} %" if coverage == coverage else "")  # not NaN
    )


@contextmanager
def fold_progress(folds: int) -> Iterator[Callable[[int, dict], None]]:
    """A transient progress bar over a backtest's folds; yields the `on_fold` callback that
    advances it and prints the finished fold's line."""
    from rich.progress import Progress

    with Progress(transient=True) as progress:
        task = progress.add_task(f"backtest, {folds} folds", total=folds)

        def fold_done(fold: int, metrics: dict) -> None:
            progress.advance(task)
            progress.console.print(fold_line(fold, metrics), soft_wrap=True, highlight=False)

        yield fold_done


def print_backtest(summary: dict) -> None:
    from lstm_forecast.evaluate.metrics import verdict_verb
    from lstm_forecast.numbers import format_skill  # numpy: not on --help's path

    folds, length = summary["folds"], summary["fold_length"]
    trained = summary.get("models_trained", folds)
    models = (
        "a new model each"
        if trained == folds
        else f"{trained} model{'s' * (trained > 1)} trained, refit {summary.get('refit')}"
    )
    typer.echo(f"{folds} folds of {length} rows ({models}), mean ± std across folds:")
    for name in ("rmse", "naive_rmse", "baseline_rmse", "skill", "directional_accuracy", "lag"):
        mean, std = summary[name]["mean"], summary[name]["std"]
        if name == "skill":
            shown = f"{mean:+.4f} ± {std:.4f}"
        elif name == "directional_accuracy":
            shown = f"{100 * mean:.1f} % ± {100 * std:.1f}"
        elif name == "lag":
            shown = f"{mean:.1f} ± {std:.1f}"
        else:  # prices: mean and std with the same decimals
            shown = f"{_price(mean, mean)} ± {_price(std, mean)}"
        typer.echo(f"  {name:<22}{shown:>22}")
    chosen = ", ".join(
        f"{name} ({count} folds)" for name, count in summary["baselines_chosen"].items()
    )
    typer.echo(f"strongest baseline per fold: {chosen}")
    pvalue = summary["dm_pvalue"]
    shown = "p < 0.001" if pvalue < 0.001 else f"p = {pvalue:.3f}"
    typer.echo(
        f"pooled over {folds * length} rows: skill {format_skill(summary['pooled_skill'])} against the "
        f"strongest baseline ({format_skill(summary['pooled_skill_persistence'])} against persistence); "
        f"the model {verdict_verb(summary['verdict'])} it (Diebold-Mariano {shown})"
    )
    typer.echo(
        f"recursive {length}-row forecast from each fold's origin: RMSE "
        f"{summary['forecast_rmse']['mean']:.4g} vs {summary['forecast_naive_rmse']['mean']:.4g} "
        "for the last price held flat"
    )
    level = 100 * summary["interval_level"]
    for kind, scores in (
        ("one-step", summary["one_step_intervals"]),
        (f"{length}-step", summary["recursive_intervals"]),
    ):
        for method, values in scores.items():
            typer.echo(
                f"{level:g} % {method} interval, {kind}: covered {100 * values['coverage']:.0f} % "
                f"of actuals, mean width {values['width']:.4g}, Winkler {values['winkler']:.4g}"
                + _against_naive(values.get("against_naive"))
            )
    print_strategies(summary.get("strategy"))


def print_strategies(strategy: dict | None) -> None:
    """Each strategy's Sharpe ratio, drawdown, turnover and SPA p beside buy-and-hold, and the
    verdict (backtest.trading's summary)."""
    if not strategy:
        return
    typer.echo(
        f"trading on the predictions, {strategy['cost_bps']:g} bps per side "
        f"({strategy['rows']} rows; not investment advice):"
    )
    for values in strategy["strategies"].values():
        pvalue = values.get("spa_pvalue", float("nan"))
        spa = "" if pvalue != pvalue else f", SPA p {pvalue:.2f}"
        typer.echo(
            f"  {values['label']:<20} Sharpe {values['sharpe']:+.2f}, return "
            f"{100 * values['annual_return']:+.1f} % a year, max drawdown "
            f"{100 * values['max_drawdown']:.1f} %, turnover {values['turnover']:.1f} a year{spa}"
        )
    typer.echo(strategy["verdict"])


def _against_naive(against: dict | None) -> str:
    """'(lower than the naive band's in 6 of 10 folds, Wilcoxon p = 0.43)' for a recursive band."""
    if not against:
        return ""
    shown = (
        "no p-value"
        if against["pvalue"] != against["pvalue"]
        else (f"Wilcoxon p = {against['pvalue']:.2g}")
    )
    return f" (lower than the naive band's in {against['folds_better']} of {against['folds']} folds, {shown})"
