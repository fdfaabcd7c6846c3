"""What the commands print: the metrics table beside the baselines, verdicts, backtest summaries."""

from __future__ import annotations

import typer


def print_metrics(metrics: dict) -> None:
    """The model beside persistence and drift on the same rows, then the verdicts."""
    from rich import box
    from rich.console import Console
    from rich.table import Table

    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    for heading in ("", "RMSE", "MAE", "MAPE %", "direction"):
        table.add_column(heading, justify="left" if not heading else "right")

    def percent(share) -> str:
        return "-" if share is None or share != share else f"{100 * share:.1f} %"  # NaN-safe

    table.add_row(
        "model",
        f"{metrics['rmse']:.3f}",
        f"{metrics['mae']:.3f}",
        f"{metrics['mape']:.2f}",
        percent(metrics["directional_accuracy"]),
    )
    table.add_row(
        "persistence (t-1)",
        f"{metrics['naive_rmse']:.3f}",
        f"{metrics['naive_mae']:.3f}",
        f"{metrics['naive_mape']:.2f}",
        "-",
    )
    table.add_row(
        f"drift ({metrics['drift']:+.3f}/day)",
        f"{metrics['drift_rmse']:.3f}",
        f"{metrics['drift_mae']:.3f}",
        "",
        percent(metrics["drift_directional_accuracy"]),
    )
    Console(highlight=False, soft_wrap=True).print(table)
    verdict = "beats" if metrics["skill"] > 0 else "does not beat"
    typer.echo(
        f"skill vs persistence {metrics['skill']:+.3f} ({metrics['rows']} rows, "
        f"{metrics['test_start']} .. {metrics['test_end']}): the model {verdict} 'tomorrow = today'"
    )
    from lstm_forecast.evaluate import lag_verdict

    typer.echo(lag_verdict(metrics))


def print_prediction_notes(metrics: dict) -> None:
    if metrics["in_sample"]:
        typer.echo("warning: the model was trained on every one of these rows: in-sample metrics")
    elif metrics["in_sample_rows_left_out"]:
        typer.echo(
            f"metrics leave out the {metrics['in_sample_rows_left_out']} rows the model was trained "
            "on (in_sample = True in the CSV)"
        )


def print_forecast(result, info: dict) -> None:
    """What was forecast (rows counted in the data's own step), and the last forecast row, with
    as many decimals as the price scale needs."""
    from lstm_forecast.numbers import price_format, reference_price

    future = result.table.dropna(subset=["predicted"])
    samples = info["samples"]
    frequency = getattr(result, "frequency", None)
    if frequency is None:
        rows = f"{len(future)} rows"
    elif frequency.kind == "business_day":
        rows = f"{len(future)} business day{'' if len(future) == 1 else 's'}"
    else:
        rows = frequency.count(len(future))
    typer.echo(
        f"forecast of {rows} after {info['origin']} from {info['source']}"
        + (f", {samples} dropout samples" if samples else ", dropout off")
    )
    price = price_format(reference_price(result.table["actual"]))
    last = future.iloc[-1]
    interval = (
        f" ({result.level:.0%} interval {price(last['lower'])} .. {price(last['upper'])})"
        if samples
        else ""
    )
    typer.echo(f"{last['date']}: {price(last['predicted'])}{interval}")


def fold_line(fold: int, metrics: dict) -> str:
    coverage = metrics["coverage"]
    return (
        f"fold {fold}: {metrics['test_start']} .. {metrics['test_end']}  "
        f"RMSE {metrics['rmse']:.3f}  persistence {metrics['naive_rmse']:.3f}  "
        f"skill {metrics['skill']:+.3f}  direction {100 * metrics['directional_accuracy']:.0f} %  "
        f"lag {metrics['lag']}"
        + (f"  coverage {100 * coverage:.0f} %" if coverage == coverage else "")  # not NaN
    )


def print_backtest(summary: dict) -> None:
    folds, length = summary["folds"], summary["fold_length"]
    typer.echo(f"{folds} folds of {length} rows, mean ± std across folds:")
    for name in ("rmse", "naive_rmse", "drift_rmse", "skill", "directional_accuracy", "lag"):
        typer.echo(f"  {name:<22}{summary[name]['mean']:>10.3f} ± {summary[name]['std']:.3f}")
    typer.echo(f"  {'pooled skill':<22}{summary['pooled_skill']:>10.3f}")
    typer.echo(
        f"recursive {length}-row forecast from each fold's origin: RMSE "
        f"{summary['forecast_rmse']['mean']:.3f} vs {summary['forecast_naive_rmse']['mean']:.3f} "
        "for the last price held flat"
    )
    if summary["samples"]:
        typer.echo(
            f"{100 * summary['interval_level']:g} % interval covered "
            f"{100 * summary['coverage']['mean']:.0f} % of actuals "
            f"({summary['samples']} dropout samples)"
        )
