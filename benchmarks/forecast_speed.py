"""Speed of a 30-day recursive forecast: the compiled horizon loop beside a model.predict loop.

For each config's model (random weights: the time does not depend on them), window 60, horizon 30:
- `predict loop`: model.predict once per day, 100 windows per call, dropout off;
- `compiled, dropout off`: lstm_forecast.forecaster.forecast.sample_paths, one deterministic path;
- `compiled, N samples`: the same loop with Monte-Carlo dropout, all samples in one go.
- `Forecaster.forecast(30)` of a trained run after `Forecaster.load` (1 epoch on the bundled data:
  the time does not depend on the weights), with each [forecast] interval: conformal (the
  default: one deterministic path and the calibrated band), adaptive, dropout (100 samples), none.
Times are medians of --repeats calls after one warm-up call; the first call (tracing and XLA
compilation) is reported on its own. Prints Markdown tables.

Usage (from the repository root):
    python benchmarks/forecast_speed.py
    python benchmarks/forecast_speed.py --configs default configs/quick.toml --samples 10 100
    python benchmarks/forecast_speed.py --configs default --scales ewma-model ewma
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent


def timed(function, repeats: int) -> tuple[float, float]:
    """(first call, median of the next `repeats` calls) in milliseconds."""
    start = time.perf_counter()
    function()
    first = time.perf_counter() - start
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return 1000 * first, 1000 * statistics.median(times)


def bench_config(name: str, horizon: int, sample_counts: list[int], repeats: int) -> list[tuple]:
    """Rows (config, model, method, paths, first call ms, median ms) for one config's model."""
    from lstm_forecast.config.load import load_config
    from lstm_forecast.forecaster.forecast import sample_paths

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
    from naive_loop import predict_loop_paths  # the reference loop the tests check against

    from lstm_forecast.model.build import build_model
    from lstm_forecast.prep.scaling import fit_scaler
    from lstm_forecast.prep.windows import Inputs

    config = load_config(None if name == "default" else ROOT / name)
    inputs = Inputs.from_config(config)
    columns = len(inputs.normalized)
    model = build_model(config.model, inputs.length, columns)
    window = np.random.default_rng(0).uniform(0.5, 1.5, (inputs.length, columns))
    scaler, normalized = fit_scaler(window), inputs.normalized
    layers = " + ".join(f"LSTM({layer.units})" for layer in config.model.layers)
    cases = [
        ("predict loop, dropout off", 100,
         lambda: predict_loop_paths(model, window, horizon, 100, scaler, normalized)),
        ("compiled, dropout off", 1,
         lambda: sample_paths(model, window, horizon, 0, scaler, normalized)),
    ] + [
        (f"compiled, {samples} samples", samples,
         lambda samples=samples: sample_paths(model, window, horizon, samples, scaler, normalized))
        for samples in sample_counts
    ]  # fmt: skip
    rows = []
    for label, paths, function in cases:
        first, median = timed(function, repeats)
        rows.append((name, layers, label, paths, first, median))
        print(f"{name} {label}: first {first:.0f} ms, then {median:.1f} ms", flush=True)
    return rows


def bench_run(name: str, horizon: int, repeats: int, scale: str = "") -> list[tuple]:
    """Rows (config, interval, first call ms, median ms) of a loaded run's forecast (trained
    with [forecast] scale = `scale`, "": the config's)."""
    import tempfile

    from lstm_forecast import Forecaster
    from lstm_forecast.app.commands import train
    from lstm_forecast.config.load import load_config, with_overrides

    config = load_config(None if name == "default" else ROOT / name)
    config = with_overrides(config, train__epochs=1, train__early_stopping_patience=0)
    if scale:
        config = with_overrides(config, forecast__scale=scale)
        name = f"{name}, scale {scale}"
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        train(config, Path(scratch) / "run", verbose=0)
        forecaster = Forecaster.load(Path(scratch) / "run")
        for interval in ("conformal", "adaptive", "dropout", "none"):
            first, median = timed(
                lambda interval=interval: forecaster.forecast(horizon, interval=interval), repeats
            )
            rows.append((name, interval, first, median))
            print(f"{name} run, {interval}: first {first:.0f} ms, then {median:.1f} ms", flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", nargs="+", default=["default", "configs/seed.toml"])
    parser.add_argument("--horizon", type=int, default=30)
    parser.add_argument("--samples", type=int, nargs="+", default=[10, 100])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--scales", nargs="+", default=[""], help="[forecast] scale of each "
                        "run timed (one run per config and scale); default: the config's")  # fmt: skip
    args = parser.parse_args()

    rows = []
    for name in args.configs:
        rows += bench_config(name, args.horizon, args.samples, args.repeats)

    print(f"\n{args.horizon}-day forecast, window 60; ms per forecast (median of {args.repeats})\n")
    print("| config | model | method | paths | first call ms | ms per forecast |")
    print("|---|---|---|---:|---:|---:|")
    for name, layers, label, paths, first, median in rows:
        print(f"| {name} | {layers} | {label} | {paths} | {first:.0f} | {median:.1f} |")

    runs = [
        row
        for name in args.configs
        for scale in args.scales
        for row in bench_run(name, args.horizon, args.repeats, scale)
    ]
    print(f"\nForecaster.forecast({args.horizon}) after Forecaster.load, with its interval; ms "
          f"(median of {args.repeats}); target: 20 ms\n")  # fmt: skip
    print("| config | interval | first call ms | ms per forecast | within 20 ms |")
    print("|---|---|---:|---:|---|")
    for name, interval, first, median in runs:
        within = "yes" if median <= 20 else "no"
        print(f"| {name} | {interval} | {first:.0f} | {median:.1f} | {within} |")


if __name__ == "__main__":
    main()
