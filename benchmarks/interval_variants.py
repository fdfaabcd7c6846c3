"""How good can a 20-step conformal band get against the naive random-walk band? No model needed.

The backtest's default recursive band (docs/intervals.md) loses to the naive band on the Winkler
score at 20 steps, and the model's recursive forecast is no better than the last price held flat
(folds.csv: forecast_rmse against forecast_naive_rmse). This asks whether any calibration could
fix that, with the flat forecast as the centre (what the model's forecast amounts to) so that
nothing is trained and every error is out of sample:

- calibration errors from the newest 10 % of the training span (`tail`, as the default takes its
  held-out windows) or from every origin of the span (`all`: what refits over the whole span could
  reach at best);
- scores divided by the EWMA volatility at their origin (RiskMetrics 0.94, as the default), with
  the variance over steps 1..h pulled toward the training span's by a GARCH-like persistence phi
  (phi = 1: no pull, the default's scaling), or not scaled at all (`raw`);
- beside the naive band, price × exp(± z·σ·√h) with the training span's σ.

Same folds as the backtest: the newest folds × fold_length rows, each band from the rows before.

Usage (from the repository root):
    python benchmarks/interval_variants.py [--folds 10 30] [--fold-length 20]
Writes benchmarks/results/interval_variants.md (with --write).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
REFERENCE_TRAIN = ROOT.parent / "shared" / "data" / "Google_Stock_Price_Train.csv"
LEVEL = 0.9
PHIS = (1.0, 0.99, 0.97, 0.95)


def conformal_band(history, horizon, phi, calibration):
    """Band of the flat forecast from the end of `history` for steps 1..horizon."""
    from lstm_forecast.intervals import volatility

    log_prices = np.log(history)
    steps = np.arange(1, horizon + 1)
    long_run = np.var(np.diff(log_prices))
    start = 60 if calibration == "all" else int(len(history) * 0.9)
    origins = np.arange(start, len(history) - horizon)
    errors = np.abs(log_prices[origins[:, None] + steps] - log_prices[origins][:, None])
    if phi is None:  # raw log errors
        scale_at = lambda rows: np.ones((np.size(rows), horizon))  # noqa: E731
    else:
        vol = volatility(history)
        weight = np.cumsum(phi ** (steps - 1)) / steps  # mean weight of today's variance, 1..h

        def scale_at(rows):
            variance = np.asarray(vol[rows]).reshape(-1, 1) ** 2
            return np.sqrt(weight * variance + (1 - weight) * long_run)

    scores = errors / scale_at(origins)
    rank = min(int(np.ceil((len(origins) + 1) * LEVEL)), len(origins))  # finite-sample
    quantile = np.sort(scores, axis=0)[rank - 1]
    half = quantile * scale_at(len(history) - 1)[0]
    return history[-1] * np.exp(-half), history[-1] * np.exp(half)


def evaluate(prices: np.ndarray, folds: int, horizon: int) -> dict:
    from lstm_forecast.interval_scores import (
        coverage,
        log_return_std,
        mean_width,
        naive_band,
        winkler_score,
    )

    variants = {f"{cal}, phi {phi}": (phi, cal) for cal in ("tail", "all") for phi in PHIS}
    variants.update({"tail, raw": (None, "tail"), "all, raw": (None, "all")})
    scores = {name: [] for name in [*variants, "naive band"]}
    for fold in range(folds):
        origin = len(prices) - (folds - fold) * horizon
        history, actual = prices[:origin], prices[origin : origin + horizon]
        bands = {name: conformal_band(history, horizon, *args) for name, args in variants.items()}
        bands["naive band"] = naive_band(history[-1], log_return_std(history), horizon, LEVEL)
        for name, (lower, upper) in bands.items():
            scores[name].append(
                (
                    coverage(actual, lower, upper),
                    mean_width(lower, upper),
                    winkler_score(actual, lower, upper, 1 - LEVEL),
                )
            )
    return {name: np.mean(rows, axis=0) for name, rows in scores.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, nargs="+", default=[10, 30])
    parser.add_argument("--fold-length", type=int, default=20)
    parser.add_argument("--write", action="store_true")
    arguments = parser.parse_args()

    from lstm_forecast import load_config, read_prices

    config = load_config()
    datasets = [("S&P 500 (bundled)", ROOT / "data" / "sp500.csv")]
    if REFERENCE_TRAIN.exists():
        datasets.insert(0, ("Google 2012-16", REFERENCE_TRAIN))
    lines = [
        "# 20-step bands of the flat forecast: conformal variants against the naive band",
        "",
        f"Command: `python benchmarks/interval_variants.py --folds "
        f"{' '.join(map(str, arguments.folds))} --fold-length {arguments.fold_length}`",
        "",
        "Nominal 90 %; coverage, mean width and Winkler score (lower is better) over all rows "
        "of all folds. `tail`: calibration errors from the newest 10 % of the training span; "
        "`all`: from every origin in it; `phi`: persistence of today's volatility over the steps "
        "(1 = the default's EWMA scaling); `raw`: unscaled log errors.",
    ]
    for folds in arguments.folds:
        results = {
            name: evaluate(read_prices(path, config).iloc[:, 0].to_numpy(float), folds,
                           arguments.fold_length)
            for name, path in datasets
        }  # fmt: skip
        header = " | ".join(f"{name}: coverage | width | Winkler" for name, _ in datasets)
        lines += ["", f"## {folds} folds × {arguments.fold_length} rows", ""]
        lines += [f"| variant | {header} |", "|---|" + "---:|" * (3 * len(datasets))]
        for variant in next(iter(results.values())):
            cells = " | ".join(
                f"{100 * r[variant][0]:.1f} % | {r[variant][1]:.1f} | {r[variant][2]:.1f}"
                for r in results.values()
            )
            lines.append(f"| {variant} | {cells} |")
    print("\n".join(lines))
    if arguments.write:
        out = ROOT / "benchmarks" / "results" / "interval_variants.md"
        out.write_text("\n".join(lines) + "\n")
        print(f"wrote {out}")


if __name__ == "__main__":
    main()
