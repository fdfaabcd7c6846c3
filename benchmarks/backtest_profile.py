"""Where a walk-forward backtest's time goes, fold by fold: data, build, fit, predict, forecast.

A search (`lstm-forecast tune`) is many backtests, so a fold should cost about its training.
This times each stage of every fold of `lstm-forecast backtest` (default config, bundled data,
10 folds of 20 rows unless told otherwise) by wrapping the functions walk_forward calls. The
folds share one model per shape (model.ModelPool); --fresh-models gives every fold a new model
and new traced graphs, as before the pool, to compare in one sitting.

Usage (from the repository root):
    python benchmarks/backtest_profile.py --folds 10 --horizon 20 [--config configs/x.toml]
        [--fresh-models] [--write]
Writes benchmarks/results/backtest_profile.md (backtest_profile_fresh.md with --fresh-models).
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

STAGES = ("data", "build", "shrinkage", "calibrate", "predict", "forecast", "evaluate")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default=None)
    parser.add_argument("--folds", type=int, default=10)
    parser.add_argument("--horizon", type=int, default=20)
    parser.add_argument(
        "--fresh-models",
        action="store_true",
        help="a new model (and new traced graphs) every fold, as before the model pool",
    )
    parser.add_argument("--write", action="store_true")
    arguments = parser.parse_args()

    from lstm_forecast.backtest import walk as backtest
    from lstm_forecast.config.load import load_config
    from lstm_forecast.forecaster import calibrate as calibration
    from lstm_forecast.forecaster import forecaster
    from lstm_forecast.model import build as model
    from lstm_forecast.model import train
    from lstm_forecast.prep.inputs import load_split, resolve_paths

    config = resolve_paths(load_config(arguments.config))
    started = time.perf_counter()
    split, sources = load_split(config)
    read_seconds = time.perf_counter() - started

    timings: list[dict] = []  # one dict of stage -> seconds per fold
    current: dict = defaultdict(float)
    extras: dict = {}

    def timed(stage, function):
        def wrapper(*args, **kwargs):
            begin = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                current[stage] += time.perf_counter() - begin

        return wrapper

    # stages: the windows and scaler, the Keras model (built or lent by the pool), training,
    # the shrinkage and conformal calibration on the held-out windows, one-step predictions,
    # the recursive forecasts with their intervals, the metrics
    train.training_windows = timed("data", train.training_windows)
    model.ModelPool.model = timed("build", model.ModelPool.model)
    original_fit = train.fit

    def fit(*args, **kwargs):
        begin = time.perf_counter()
        result = original_fit(*args, **kwargs)
        current["fit_total"] += time.perf_counter() - begin
        seconds = result.history["seconds"].to_numpy()
        current["first_epoch"] += float(seconds[0])
        current["later_epochs"] += float(seconds[1:].sum())
        current["epochs"] += len(seconds)
        return result

    train.fit = fit
    # calibrate.held_out looks these up in its module: the paths (one compiled pass, whose
    # first step the shrinkage is fitted on) count as the calibration's
    calibration.fit_shrinkage = timed("shrinkage", calibration.fit_shrinkage)
    calibration.held_out_paths = timed("calibrate", calibration.held_out_paths)
    calibration.calibrate = timed("calibrate", calibration.calibrate)
    original_full_fit = forecaster.Forecaster.fit

    def full_fit(cls, *args, **kwargs):
        extras["last"] = original_full_fit.__func__(cls, *args, **kwargs)
        return extras["last"]

    forecaster.Forecaster.fit = classmethod(full_fit)
    forecaster.Forecaster.predict = timed("predict", forecaster.Forecaster.predict)
    forecaster.Forecaster.forecast = timed("forecast", forecaster.Forecaster.forecast)
    forecaster.Forecaster.evaluate = timed("evaluate", forecaster.Forecaster.evaluate)

    fold_started = [time.perf_counter()]

    def on_fold(fold: int, metrics: dict) -> None:
        now = time.perf_counter()
        current["total"] = now - fold_started[0]
        fold_started[0] = now
        timings.append(dict(current))
        current.clear()
        print(fold_line(fold, timings[-1]), flush=True)

    models = model.ModelPool()
    if arguments.fresh_models:
        from lstm_forecast.model import fast_graph

        class FreshModels(model.ModelPool):
            def model(self, *args, **kwargs):
                self._models.clear()
                fast_graph.network.cache_clear()
                return super().model(*args, **kwargs)

        models = FreshModels()
    backtest.walk_forward(
        config, split.frame, arguments.folds, arguments.horizon, sources[0].source, on_fold, models
    )
    total = time.perf_counter() - started
    peak_megabytes = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    # the same calls again on the last fold's model: what they cost without tracing/compiling
    last = extras["last"]
    history = split.frame.iloc[: last.train_rows + arguments.horizon]
    warm = {}
    for stage, call in (
        ("predict", lambda: last.with_data(history).predict(history.iloc[-arguments.horizon :])),
        (
            "forecast",
            lambda: last.with_data(history).forecast(
                arguments.horizon, origin=history.index[-arguments.horizon - 1]
            ),
        ),
    ):
        begin = time.perf_counter()
        call()
        warm[stage] = time.perf_counter() - begin

    lines = report(timings, warm, read_seconds, total, peak_megabytes, arguments, config)
    print("\n".join(lines))
    if arguments.write:
        name = "backtest_profile_fresh.md" if arguments.fresh_models else "backtest_profile.md"
        out = ROOT / "benchmarks" / "results" / name
        out.write_text("\n".join(lines) + "\n")
        print(f"wrote {out}")


def fold_line(fold: int, seconds: dict) -> str:
    parts = "  ".join(f"{stage} {seconds.get(stage, 0):.2f}" for stage in STAGES)
    return (
        f"fold {fold}: total {seconds['total']:.2f} s  {parts}  (fit = build + data + first epoch "
        f"{seconds.get('first_epoch', 0):.2f} + {int(seconds.get('epochs', 0)) - 1} more epochs "
        f"{seconds.get('later_epochs', 0):.2f})"
    )


def report(timings, warm, read_seconds, total, peak_megabytes, arguments, config) -> list[str]:
    import numpy as np

    def mean(key: str) -> float:
        return float(np.mean([fold.get(key, 0.0) for fold in timings]))

    fit_other = mean("fit_total") - mean("data") - mean("build") - mean("first_epoch")
    fit_other -= mean("later_epochs")
    rows = [
        ("whole fold", mean("total")),
        ("windows + scaler (data)", mean("data")),
        ("Keras model (built, or lent by the pool)", mean("build")),
        ("first epoch (graph tracing + first pass)", mean("first_epoch")),
        (f"later epochs ({mean('epochs') - 1:.1f} on average)", mean("later_epochs")),
        ("rest of train.fit (engine setup, weights copy)", fit_other),
        ("shrinkage (fitted on the first step of the calibration's paths)", mean("shrinkage")),
        ("conformal calibration (recursive paths from every held-out origin)", mean("calibrate")),
        ("one-step predictions of the fold", mean("predict")),
        ("recursive forecasts + intervals of the fold", mean("forecast")),
        ("metrics (Forecaster.evaluate)", mean("evaluate")),
    ]
    accounted = sum(
        mean(key)
        for key in ("fit_total", "shrinkage", "calibrate", "predict", "forecast", "evaluate")
    )
    rows.append(
        (
            "the rest (baseline choice, interval scores, walk_forward's own work)",
            mean("total") - accounted,
        )
    )
    lines = [
        f"# Backtest profile: {arguments.folds} folds of {arguments.horizon} rows, "
        f"{arguments.config or 'default config'}, {config.data.path}",
        "",
        f"Command: `python benchmarks/backtest_profile.py --folds {arguments.folds} "
        f"--horizon {arguments.horizon}"
        + (f" --config {arguments.config}" if arguments.config else "")
        + (" --fresh-models" if arguments.fresh_models else "")
        + "`",
        "",
        f"Total {total:.1f} s (reading the CSV {read_seconds:.2f} s), peak RSS "
        f"{peak_megabytes:.0f} MB, engine {config.train.engine}, epochs <= {config.train.epochs}, "
        f"forecast samples {config.forecast.samples}.",
        "",
        "| per fold, mean over folds | seconds | share |",
        "|---|---:|---:|",
    ]
    for name, seconds in rows:
        lines.append(f"| {name} | {seconds:.2f} | {100 * seconds / mean('total'):.0f} % |")
    lines += [
        "",
        "The same calls again on the last fold's model: "
        f"predict {warm['predict']:.2f} s, forecast {warm['forecast']:.2f} s"
        + (
            " — the rest of the numbers above is tracing and compiling for each fold's new model."
            if arguments.fresh_models
            else "."
        ),
        "",
        "| fold | total | data | build | first epoch | later epochs | epochs | shrinkage | "
        "calibrate | predict | forecast |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for number, fold in enumerate(timings, start=1):
        lines.append(
            f"| {number} | {fold['total']:.2f} | {fold.get('data', 0):.2f} | "
            f"{fold.get('build', 0):.2f} | {fold.get('first_epoch', 0):.2f} | "
            f"{fold.get('later_epochs', 0):.2f} | {int(fold.get('epochs', 0))} | "
            f"{fold.get('shrinkage', 0):.2f} | {fold.get('calibrate', 0):.2f} | "
            f"{fold.get('predict', 0):.2f} | {fold.get('forecast', 0):.2f} |"
        )
    return lines


if __name__ == "__main__":
    main()
