"""How good can a 20-step conformal band get against the naive random-walk band? No model needed.

The model's recursive forecast is close to the last price held flat (folds.csv: forecast_rmse
against forecast_naive_rmse), so this scores bands around the flat forecast, where nothing is
trained and every error is out of sample, over as many folds as a series has:

- calibration errors from the newest 10 % of the history (`tail`: what the model's held-out
  windows alone give, `[forecast] calibration_origins = "held-out"`) or from every origin of it
  (`all`: the default's pooling of the random walk's errors, calibrate.random_walk_errors);
- scores divided by the EWMA volatility at their origin (`ewma`: RiskMetrics 0.94, the default's
  `interval_scale = "volatility"`), the same with the variance over steps 1..h pulled toward the
  history's by a GARCH-like persistence 0.97 (`pull`), or raw log errors (`raw`);
- beside the naive band, price × exp(± z·σ·√h) with σ of every log return before the fold.

Folds: the newest N × fold_length rows (`--folds N`), or every fold with at least 500 rows of
history before it (`--folds all`). Series: the reference Google file and the bundled S&P 500,
plus any `--data NAME=PATH[@COLUMN]` (the target column, default Open).

The other series measured in benchmarks/results/interval_variants.md come with Python packages
(`pip download arch pmdarima`, then unzip): the NASDAQ Composite 1999-2018 and WTI crude oil
1986-2019 are `arch`'s arch/data/nasdaq/nasdaq.csv.gz and arch/data/wti/wti.csv.gz (the WTI
file's "." holidays dropped, its column renamed Price), Microsoft 1986-2017 is pmdarima's
pmdarima/datasets/data/msft.tar.gz.

Usage (from the repository root):
    python benchmarks/interval_variants.py [--folds 10 all] [--fold-length 20] \
        [--data NASDAQ=nasdaq.csv ...] [--write]
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
TAIL = 0.1  # the held-out share of the default config (validation_fraction)
PULL = 0.97  # persistence of today's variance per step in the `pull` variants
MIN_HISTORY = 500  # rows before the first fold with --folds all
SCALINGS = ("ewma", "pull", "raw")


def _quantile(scores: np.ndarray) -> float:
    from lstm_forecast.intervals.conformal import conformal_quantile

    return conformal_quantile(scores, LEVEL)


class Series:
    """One price series with everything the bands need, computed once."""

    def __init__(self, prices: np.ndarray, horizon: int):
        import pandas as pd

        from lstm_forecast.intervals.spread import volatility

        self.prices, self.horizon = prices, horizon
        log_prices = np.log(prices)
        self.steps = np.arange(1, horizon + 1)
        self.ewma = volatility(prices)  # (rows,) up to each row
        returns = pd.Series(log_prices).diff()
        self.long_run = returns.expanding(min_periods=2).std().bfill().to_numpy()  # (rows,)
        n = prices.size
        self.errors = np.full((n, horizon), np.nan)  # [t, h - 1]: log p[t + h] - log p[t]
        for h in self.steps:
            self.errors[: n - h, h - 1] = log_prices[h:] - log_prices[:-h]

    def scale(self, rows: np.ndarray, kind: str, long_run: float) -> np.ndarray:
        """(rows, horizon) the scale each origin's scores are divided by."""
        if kind == "raw":
            return np.ones((rows.size, self.horizon))
        today = self.ewma[rows][:, None] ** 2
        if kind == "ewma":
            return np.sqrt(np.repeat(today, self.horizon, axis=1))
        weight = np.cumsum(PULL ** (self.steps - 1)) / self.steps  # today's share over 1..h
        return np.sqrt(weight * today + (1 - weight) * long_run**2)

    def conformal(self, origin: int, calibration: str, kind: str) -> np.ndarray:
        """(horizon,) log half-widths of the band from `origin` (its last known row)."""
        start = 60 if calibration == "all" else int(origin * (1 - TAIL))
        long_run = self.long_run[origin]
        at_origin = self.scale(np.array([origin]), kind, long_run)[0]
        half = np.empty(self.horizon)
        for h in self.steps:
            rows = np.arange(start, origin - h + 1)  # actual known by the origin
            scores = np.abs(self.errors[rows, h - 1]) / self.scale(rows, kind, long_run)[:, h - 1]
            half[h - 1] = _quantile(scores) * at_origin[h - 1]
        return half

    def naive(self, origin: int) -> np.ndarray:
        from statistics import NormalDist

        from lstm_forecast.intervals.scores import log_return_std

        z = NormalDist().inv_cdf((1 + LEVEL) / 2)
        return z * log_return_std(self.prices[: origin + 1]) * np.sqrt(self.steps)


def fold_scores(prices: np.ndarray, folds: int | None, horizon: int) -> dict[str, np.ndarray]:
    """{variant: (folds, 3) coverage, mean width, Winkler} over the folds, oldest first."""
    from lstm_forecast.intervals.scores import coverage, mean_width, winkler_score

    series = Series(prices, horizon)
    last = prices.size - 1 - horizon  # the newest fold's origin
    count = (last - MIN_HISTORY) // horizon + 1 if folds is None else folds
    origins = [last - k * horizon for k in range(count)][::-1]
    names = [f"{c}, {k}" for c in ("tail", "all") for k in SCALINGS] + ["naive band"]
    scores = {name: [] for name in names}
    for origin in origins:
        actual = prices[origin + 1 : origin + 1 + horizon]
        halves = {f"{c}, {k}": series.conformal(origin, c, k) for c in ("tail", "all")
                  for k in SCALINGS}  # fmt: skip
        halves["naive band"] = series.naive(origin)
        for name, half in halves.items():
            lower, upper = prices[origin] * np.exp(-half), prices[origin] * np.exp(half)
            scores[name].append((coverage(actual, lower, upper), mean_width(lower, upper),
                                 winkler_score(actual, lower, upper, 1 - LEVEL)))  # fmt: skip
    return {name: np.array(rows) for name, rows in scores.items()}


def windows_won(winkler: np.ndarray, naive: np.ndarray, size: int = 10) -> float:
    """Share of every `size` consecutive folds whose mean Winkler score is <= the naive band's."""
    if winkler.size < size:
        return float("nan")
    kernel = np.ones(size) / size
    return float(
        np.mean(np.convolve(winkler, kernel, "valid") <= np.convolve(naive, kernel, "valid"))
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", nargs="+", default=["10", "all"])
    parser.add_argument("--fold-length", type=int, default=20)
    parser.add_argument("--data", action="append", default=[], metavar="NAME=PATH[@COLUMN]")
    parser.add_argument("--write", action="store_true")
    arguments = parser.parse_args()

    from lstm_forecast import load_config, read_prices
    from lstm_forecast.config.load import with_overrides

    datasets = [("S&P 500 (bundled)", ROOT / "data" / "sp500.csv", "Open")]
    if REFERENCE_TRAIN.exists():
        datasets.insert(0, ("Google 2012-16", REFERENCE_TRAIN, "Open"))
    for item in arguments.data:
        name, _, rest = item.partition("=")
        path, _, column = rest.partition("@")
        datasets.append((name, Path(path), column or "Open"))
    prices = {
        name: read_prices(path, with_overrides(load_config(), data__target=column))
        .iloc[:, 0].to_numpy(float)
        for name, path, column in datasets
    }  # fmt: skip
    extra = "".join(f" --data {item}" for item in arguments.data)
    lines = [
        "# 20-step bands of the flat forecast: conformal variants against the naive band",
        "",
        f"Command: `python benchmarks/interval_variants.py --folds {' '.join(arguments.folds)} "
        f"--fold-length {arguments.fold_length}{extra}`",
        "",
        "Nominal 90 %, bands around the last price held flat. `tail`: calibration errors from the "
        "newest 10 % of the history (the held-out windows alone); `all`: from every origin of it "
        "(the default's pooling); `ewma`: scores divided by the volatility at their origin (the "
        "default's scaling); `pull`: the same with the variance over the steps pulled toward the "
        f"history's (persistence {PULL}); `raw`: unscaled log errors. Winkler score: lower is "
        "better; `/ naive`: the mean Winkler score over the naive band's; `10-fold windows won`: "
        "share of every 10 consecutive folds in which the variant's mean Winkler score is at or "
        "below the naive band's.",
    ]
    for folds in arguments.folds:
        count = None if folds == "all" else int(folds)
        results = {name: fold_scores(p, count, arguments.fold_length) for name, p in prices.items()}
        title = "every fold after 500 rows" if count is None else f"the newest {count} folds"
        lines += ["", f"## {title} × {arguments.fold_length} rows", ""]
        lines += ["| series | folds | variant | coverage | width | Winkler | / naive | "
                  "10-fold windows won |", "|---|---:|---|---:|---:|---:|---:|---:|"]  # fmt: skip
        for name, scores in results.items():
            naive = scores["naive band"][:, 2]
            for variant, rows in scores.items():
                coverage, width, winkler = rows.mean(axis=0)
                lines.append(
                    f"| {name} | {len(rows)} | {variant} | {100 * coverage:.1f} % | {width:.1f} "
                    f"| {winkler:.1f} | {winkler / naive.mean():.3f} "
                    f"| {100 * windows_won(rows[:, 2], naive):.0f} % |"
                )
        lines += ["", "Mean of `/ naive` over the series:", ""]
        lines += ["| variant | mean / naive |", "|---|---:|"]
        for variant in next(iter(results.values())):
            ratios = [
                s[variant][:, 2].mean() / s["naive band"][:, 2].mean() for s in results.values()
            ]
            lines.append(f"| {variant} | {np.mean(ratios):.3f} |")
    print("\n".join(lines))
    if arguments.write:
        out = ROOT / "benchmarks" / "results" / "interval_variants.md"
        out.write_text("\n".join(lines) + "\n")
        print(f"wrote {out}")


if __name__ == "__main__":
    main()
