"""Which band holds through change? Every 20-row fold after a warm-up, on many daily series
(stocks, indices, FX, commodities), each band method scored at step 1 and step 20.

The point forecasts are the ones the default ends up close to (its shrinkage keeps only what the
model showed, and on daily prices that is the strongest naive baseline: benchmarks/results/
backtests.md), so nothing is trained here and every series can be scored over all its folds:
one step ahead, the base the prediction builds on (the previous price, or the previous Close for
the bundled S&P 500's Open); a recursive path from each fold's origin, the last price held.
`--model` scores the tool's own walk-forward backtest instead (the LSTM, refitted coarsely).

Bands (nominal 90 %), each from the rows up to its origin only:
- `naive`: price × exp(± z σ √h), σ of every log return so far (intervals.scores.naive_band);
- `target-ewma`: the conformal band before issue 28: scores divided by the EWMA volatility of
  the target's returns at every step;
- `ewma`, `garch`, `ewma-garch`: the spread models of intervals.spread (step 1 scaled by the
  naive one-step error's own volatility; GARCH(1,1) refitted every 250 rows; `ewma-garch` step 1
  by the EWMA and the path by GARCH; `ewma` is the default; `model`: the spread network of
  intervals.spread_net, refitted every 250 rows as GARCH is; its first fit, on 499 moves, is
  short of spread_net.MIN_MOVES, so the EWMA scales the first 750 rows; `ewma-model` step 1 by
  the EWMA and the path by the network) around static conformal quantiles;
- `+aci g`: adaptive conformal inference on the step-1 level (gamma g; the default's online
  one-step band, gamma 0.005), the path static;
- `+track lr`: the quantile tracker of conformal PID control (intervals.tracking), step h fed
  back h rows late;
- `garch-normal`: GARCH(1,1)'s own Gaussian band, ± z √(sum of its variance forecasts);
- `statsforecast`: Naive with `ConformalIntervals(h=20, n_windows=5)` (the benchmark extra),
  at fold origins only.

Calibration per fold as the tool makes it: step 1 from the newest 10 % of the history (the
held-out windows), steps 2.. from every origin of it (calibrate.random_walk_errors).

Scores: coverage of the one-step rows (step 1) and of step 20 of each fold's path; mean width and
Winkler score of the one-step rows and of the path (steps 1..20, each fold's mean); the worst
coverage over any 60 consecutive one-step rows; QLIKE of each spread model's step-1 variance.
Winkler `/ naive`: the pooled mean Winkler over the naive band's.

Usage (from the repository root). statsforecast pins pandas < 3, so it lives in a venv of its
own beside the project's (the benchmark runs without it, and says so):
    python3 -m venv ../sfvenv && ../sfvenv/bin/pip install -e ".[bench-peers]"
    ../sfvenv/bin/python benchmarks/bands.py > benchmarks/results/bands.md
    .venv/bin/python benchmarks/bands.py --model > benchmarks/results/bands_model.md
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from statistics import NormalDist

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

LEVEL = 0.9
HORIZON = 20
WARMUP = 500  # rows before the first fold
MAX_ROWS = 3000  # each series' newest rows: about twelve trading years
TAIL = 0.1  # the held-out share of the default config (step 1's calibration)
GARCH_REFIT = 250
ROLLING = 60
LRS = (0.003, 0.01, 0.03)
GAMMAS = (0.005, 0.02)  # ACI's step: Gibbs & Candes' 0.005, and faster
KINDS = ("target-ewma", "ewma", "garch", "ewma-garch", "model", "ewma-model")
Z = NormalDist().inv_cdf((1 + LEVEL) / 2)


COMMAND = ["python benchmarks/bands.py"]  # as run, for the results' first line


def series(rows: int | None = None) -> dict[str, tuple[np.ndarray, np.ndarray | None]]:
    """{name: (target, base or None)}: strategy_league's ten series, the bundled S&P 500 as the
    quick start reads it (Open over the previous Close) in place of its Close."""
    import strategy_league

    rows = rows or MAX_ROWS
    out = {}
    sp500 = pd.read_csv(ROOT / "data" / "sp500.csv", thousands=",")
    out["S&P 500 open over close (bundled)"] = (
        sp500["Open"].to_numpy(float)[-rows:],
        sp500["Close"].to_numpy(float)[-rows:],
    )
    for name in strategy_league.SERIES:
        if name.startswith("S&P 500"):
            continue
        try:
            prices = strategy_league.SERIES[name][1]().astype(float)
        except (ImportError, FileNotFoundError) as e:
            print(f"skipped {name}: {e}", file=sys.stderr)
            continue
        prices = prices[~prices.index.duplicated(keep="last")].sort_index()
        prices = prices[np.isfinite(prices) & (prices > 0)].to_numpy()[-rows:]
        out[name] = (prices, None)
    return out


def _quantile(scores: np.ndarray) -> float:
    from lstm_forecast.intervals.conformal import conformal_quantile

    return conformal_quantile(scores, LEVEL)


class Bench:
    """One series: its errors, spreads and folds."""

    def __init__(self, target: np.ndarray, base: np.ndarray | None):
        from lstm_forecast.intervals.spread import Spread, log_moves

        self.target, self.base = target, base
        n = target.size
        log_target = np.log(target)
        self.first = log_moves(target, base)  # (n,) naive one-step error of row t
        # path errors from origin t: step 1 around the base, steps 2.. around the last price
        self.errors = np.full((n, HORIZON), np.nan)
        self.errors[:-1, 0] = self.first[1:]
        for h in range(2, HORIZON + 1):
            self.errors[: n - h, h - 1] = log_target[h:] - log_target[:-h]
        self.forecast_first = target if base is None else base  # one-step forecast of t+1
        self.origins = np.arange(WARMUP - 1, n - HORIZON, HORIZON)  # fold origins
        self.scales = {}
        self.scales["ewma"] = Spread("ewma").scale(target, base, np.arange(n), HORIZON)
        self.scales["target-ewma"] = np.repeat(
            Spread("ewma").scale(target, None, np.arange(n), 2)[:, 1:2], HORIZON, axis=1
        )
        garch, mixed, net, mixed_net = (np.empty((n, HORIZON)) for _ in range(4))
        self.garch_variance = np.empty(n)
        self.garch_paths = np.empty((n, HORIZON))  # sum of variances over 1..h
        for start in range(WARMUP - 1, n, GARCH_REFIT):
            model = Spread.fit("garch", target, base, start + 1)
            # the first fit also scales the warm-up rows (the first folds' calibration)
            rows = np.arange(0 if start == WARMUP - 1 else start, min(start + GARCH_REFIT, n))
            garch[rows] = model.scale(target, base, rows, HORIZON)
            both = Spread.fit("ewma-garch", target, base, start + 1)  # the default
            mixed[rows] = both.scale(target, base, rows, HORIZON)
            learned = Spread.fit("model", target, base, start + 1)  # the spread network
            net[rows] = learned.scale(target, base, rows, HORIZON)
            mixed_net[rows] = Spread("ewma-model", None, learned.path).scale(
                target, base, rows, HORIZON
            )
            path = Spread("garch", model.path, model.path).scale(target, None, rows, HORIZON)
            self.garch_paths[rows] = path**2 * np.arange(1, HORIZON + 1)
            self.garch_variance[rows] = garch[rows, 0] ** 2
        self.scales["garch"] = garch
        self.scales["ewma-garch"] = mixed
        self.scales["model"] = net
        self.scales["ewma-model"] = mixed_net
        self.log_std = pd.Series(np.diff(log_target)).expanding(2).std().to_numpy()

    def static(self, origin: int, kind: str) -> np.ndarray:
        """(HORIZON,) the conformal quantile of each step's |score| at fold `origin`."""
        scale = self.scales[kind]
        quantiles = np.empty(HORIZON)
        held_out = int(origin * (1 - TAIL))
        for h in range(1, HORIZON + 1):
            start = held_out if h == 1 else 59
            rows = np.arange(start, origin - h + 1)
            scores = np.abs(self.errors[rows, h - 1]) / scale[rows, h - 1]
            quantiles[h - 1] = _quantile(scores)
        return quantiles


def score(bench: Bench, methods: dict) -> dict[str, dict]:
    """{method: scores} over every fold of one series."""
    from lstm_forecast.intervals.adaptive import adaptive_alphas
    from lstm_forecast.intervals.scores import winkler_score
    from lstm_forecast.intervals.tracking import track

    t = bench.target
    rows = np.arange(bench.origins[0] + 1, bench.origins[-1] + HORIZON + 1)  # one-step rows
    actual = t[rows]
    forecast = bench.forecast_first[rows - 1]
    fold_of = (rows - rows[0]) // HORIZON
    out = {}
    statics = {kind: np.array([bench.static(o, kind) for o in bench.origins])
               for kind in KINDS}  # fmt: skip

    def record(name, one_low, one_high, path_low, path_high):
        covered = (one_low <= actual) & (actual <= one_high)
        rolling = pd.Series(covered.astype(float)).rolling(ROLLING).mean().min()
        path_actual = np.array([t[o + 1 : o + 1 + HORIZON] for o in bench.origins])
        path_cover = (path_low <= path_actual) & (path_actual <= path_high)
        out[name] = {
            "step1": covered.mean(),
            "step20": path_cover[:, -1].mean(),
            "path": path_cover.mean(),
            "width1": np.mean(one_high - one_low),
            "winkler1": winkler_score(actual, one_low, one_high, 1 - LEVEL),
            "winkler": np.mean(
                [
                    winkler_score(a, lo, hi, 1 - LEVEL)
                    for a, lo, hi in zip(path_actual, path_low, path_high, strict=True)
                ]
            ),  # fmt: skip
            "width": np.mean(path_high - path_low),
            "worst60": rolling,
        }

    paths_flat = np.array(
        [
            np.concatenate([[bench.forecast_first[o]], np.full(HORIZON - 1, t[o])])
            for o in bench.origins
        ]
    )

    def symmetric(name, one_radius, path_radius):  # log half-widths (rows,), (folds, HORIZON)
        record(name, forecast * np.exp(-one_radius), forecast * np.exp(one_radius),
               paths_flat * np.exp(-path_radius), paths_flat * np.exp(path_radius))  # fmt: skip

    steps = np.sqrt(np.arange(1, HORIZON + 1))
    sigma = bench.log_std  # the naive band: sigma of every log return so far, times sqrt(h)
    symmetric("naive", Z * sigma[rows - 2], Z * sigma[bench.origins - 1][:, None] * steps)
    # GARCH's own Gaussian band
    symmetric("garch-normal", Z * np.sqrt(bench.garch_variance[rows - 1]),
              Z * np.sqrt(bench.garch_paths[bench.origins]))  # fmt: skip
    for kind in KINDS:
        scale = bench.scales[kind]
        q_static = statics[kind]  # (folds, HORIZON)
        one_q = q_static[fold_of, 0] * scale[rows - 1, 0]
        path_q = q_static * scale[bench.origins]
        symmetric(kind, one_q, path_q)
        if kind == "target-ewma":
            continue
        if methods.get("aci", True):
            first_cal = bench.errors[int(bench.origins[0] * (1 - TAIL)) : bench.origins[0], 0]
            first_cal = first_cal / scale[int(bench.origins[0] * (1 - TAIL)) : bench.origins[0], 0]
            normalized = np.exp((np.log(actual) - np.log(forecast)) / scale[rows - 1, 0])
            for gamma in GAMMAS:
                result = adaptive_alphas(normalized, np.ones_like(normalized), first_cal, LEVEL,
                                         gamma)  # fmt: skip
                low = forecast * np.exp(np.log(result.lower) * scale[rows - 1, 0])
                high = forecast * np.exp(np.log(result.upper) * scale[rows - 1, 0])
                record(
                    f"{kind} +aci {gamma}",
                    low,
                    high,
                    paths_flat * np.exp(-path_q),
                    paths_flat * np.exp(path_q),
                )
        for lr in LRS:
            # every daily origin's scores feed the tracker of each step, h rows late
            daily = np.arange(bench.origins[0], bench.origins[-1] + HORIZON)
            fold_index = np.minimum((daily - bench.origins[0]) // HORIZON, len(bench.origins) - 1)
            tracked = np.empty((daily.size, HORIZON))
            for h in range(1, HORIZON + 1):
                s = np.abs(bench.errors[daily, h - 1]) / scale[daily, h - 1]
                tracked[:, h - 1], _ = track(s, q_static[fold_index, h - 1], LEVEL, lr, delay=h)
            one = tracked[rows - 1 - daily[0], 0] * scale[rows - 1, 0]
            at_origin = tracked[bench.origins - daily[0]] * scale[bench.origins]
            record(
                f"{kind} +track {lr}",
                forecast * np.exp(-one),
                forecast * np.exp(one),
                paths_flat * np.exp(-at_origin),
                paths_flat * np.exp(at_origin),
            )
    if methods.get("statsforecast", True):
        bands = statsforecast_bands(bench)
        if bands is not None:
            low, high = bands
            nan1 = np.full(actual.shape, np.nan)
            record("statsforecast", nan1, nan1, low, high)
            path_actual = np.array([t[o + 1 : o + 1 + HORIZON] for o in bench.origins])
            cover1 = (low[:, 0] <= path_actual[:, 0]) & (path_actual[:, 0] <= high[:, 0])
            out["statsforecast"]["step1"] = cover1.mean()  # path step 1, fold origins only
            out["statsforecast"]["worst60"] = np.nan
            out["statsforecast"]["winkler1"] = np.nan
            out["statsforecast"]["width1"] = np.nan
    return out


def statsforecast_bands(bench: Bench):
    """(folds, HORIZON) lower and upper of statsforecast's Naive with ConformalIntervals(h=20,
    n_windows=5), fitted on the rows up to each fold origin; None without statsforecast."""
    try:
        from statsforecast import StatsForecast
        from statsforecast.models import Naive
        from statsforecast.utils import ConformalIntervals
    except ImportError as e:
        print(f"statsforecast left out ({e})", file=sys.stderr)
        return None
    low, high = [], []
    for origin in bench.origins:
        history = bench.target[: origin + 1]
        frame = pd.DataFrame({"unique_id": 0, "ds": np.arange(history.size),
                              "y": np.log(history)})  # fmt: skip
        model = StatsForecast(
            models=[Naive(prediction_intervals=ConformalIntervals(h=HORIZON, n_windows=5))],
            freq=1,
        )
        fc = model.forecast(df=frame, h=HORIZON, level=[int(LEVEL * 100)])
        low.append(np.exp(fc[f"Naive-lo-{int(LEVEL * 100)}"].to_numpy()))
        high.append(np.exp(fc[f"Naive-hi-{int(LEVEL * 100)}"].to_numpy()))
    return np.array(low), np.array(high)


def qlike_table(benches: dict) -> list[str]:
    from lstm_forecast.intervals.spread import log_moves, qlike

    lines = [
        "",
        "## Step-1 variance forecasts (QLIKE, lower is better)",
        "",
        "| series | EWMA of the target's returns | EWMA | GARCH(1,1) | spread network |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, bench in benches.items():
        rows = np.arange(WARMUP, bench.target.size)
        moves = bench.first[rows]
        cells = [qlike(bench.scales[k][rows - 1, 0] ** 2, moves)
                 for k in ("target-ewma", "ewma", "garch", "model")]  # fmt: skip
        lines.append(f"| {name} | " + " | ".join(f"{c:.3f}" for c in cells) + " |")
    lines += [
        "",
        "## Step-20 variance forecasts (QLIKE of the variance of the 20th move after the origin,",
        "from each scale: 20 s_20^2 - 19 s_19^2; lower is better)",
        "",
        "| series | EWMA | GARCH(1,1) | spread network |",
        "|---|---:|---:|---:|",
    ]
    for name, bench in benches.items():
        origins = np.arange(WARMUP, bench.target.size - HORIZON)
        later = log_moves(bench.target)[origins + HORIZON]  # the 20th move after each origin
        cells = []
        for kind in ("ewma", "garch", "model"):
            scale = bench.scales[kind][origins]
            step = HORIZON * scale[:, -1] ** 2 - (HORIZON - 1) * scale[:, -2] ** 2
            cells.append(qlike(step, later))
        lines.append(f"| {name} | " + " | ".join(f"{c:.3f}" for c in cells) + " |")
    return lines


MODEL_ROWS = 1500  # --model: each series' newest rows (strategy_league's span)
MODEL_REFIT = 25  # --model: a new model every 25 folds (500 rows), as strategy_league


def model_bands(data: dict, config_overrides: dict) -> None:
    """--model: the tool's own walk-forward backtest (the default config, a new model every
    MODEL_REFIT folds) on each series' newest MODEL_ROWS rows, every 20-row fold after WARMUP,
    rescored from the bands it writes (predictions' lower/upper: the one-step rows, adapted
    online; paths' lower/upper: each fold's recursive forecast; naive_lower/upper beside)."""
    from lstm_forecast.backtest.walk import walk_forward
    from lstm_forecast.config.load import with_overrides
    from lstm_forecast.config.schema import Config
    from lstm_forecast.intervals.scores import band_scores, winkler_score

    lines = ["| series | folds | step 1 | step 20 | steps 1-20 | worst 60-row | naive steps 1-20 "
             "| Winkler 1-20 / naive | Winkler 1-20 below naive in folds | seconds |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]  # fmt: skip
    pooled = []
    for name, (target, base) in data.items():
        column = "Price" if base is None else "Open"  # an Open beside a Close: the quick start
        dates = pd.bdate_range("2000-01-03", periods=min(MODEL_ROWS, target.size))
        frame = pd.DataFrame({column: target[-MODEL_ROWS:]}, index=dates)
        overrides = {"data__target": column, "backtest__refit": MODEL_REFIT,
                     "forecast__samples": 0, **config_overrides}  # fmt: skip
        if base is not None:
            frame["Close"] = base[-MODEL_ROWS:]
        config = with_overrides(Config(), **overrides)
        folds = (len(frame) - WARMUP) // HORIZON
        began = time.perf_counter()
        result = walk_forward(config, frame, folds, HORIZON, name, strategies=False)
        seconds = time.perf_counter() - began
        rows, paths = result.predictions, result.paths
        covered = (rows["lower"] <= rows["actual"]) & (rows["actual"] <= rows["upper"])
        worst = covered.astype(float).rolling(ROLLING).mean().min()
        last = paths[paths["step"] == HORIZON]
        step20 = ((last["lower"] <= last["actual"]) & (last["actual"] <= last["upper"])).mean()
        path_scores = band_scores(paths["actual"], paths["lower"], paths["upper"], LEVEL)
        naive = band_scores(paths["actual"], paths["naive_lower"], paths["naive_upper"], LEVEL)
        by_fold = paths.groupby("fold").apply(
            lambda g: (
                winkler_score(g["actual"], g["lower"], g["upper"], 1 - LEVEL)
                < winkler_score(g["actual"], g["naive_lower"], g["naive_upper"], 1 - LEVEL)
            ),
            include_groups=False,
        )
        ratio = path_scores["winkler"] / naive["winkler"]
        pooled.append((covered.mean(), step20, ratio))
        lines.append(f"| {name} | {folds} | {100 * covered.mean():.1f} % | {100 * step20:.1f} % "
                     f"| {100 * path_scores['coverage']:.1f} % | {100 * worst:.0f} % "
                     f"| {100 * naive['coverage']:.1f} % | {ratio:.3f} "
                     f"| {100 * by_fold.mean():.0f} % | {seconds:.0f} |")  # fmt: skip
        print(lines[-1], file=sys.stderr, flush=True)
    step1, step20, ratio = np.array(pooled).mean(axis=0)
    lines.append(f"| **mean** | | {100 * step1:.1f} % | {100 * step20:.1f} % | | | | {ratio:.3f} "
                 "| | |")  # fmt: skip
    print("# The default's own bands: the tool's walk-forward backtest on", len(data), "series")
    print()
    print(f"Command: `{COMMAND[0]}`; each series' newest {MODEL_ROWS} rows, "
          f"the first {WARMUP} train only, then every {HORIZON}-row fold; a new model every "
          f"{MODEL_REFIT} folds; the default config (overrides: {config_overrides or 'none'}). "
          "Scored from the bands the backtest writes (predictions.csv: each one-step row's band, "
          "adapted online; paths.csv: each fold's recursive forecast with its band and the naive "
          "band).")  # fmt: skip
    print()
    print("\n".join(lines))


def main() -> None:
    global MAX_ROWS, MODEL_ROWS  # noqa: PLW0603  (one setting for the whole script)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", nargs="*", help="names containing these words only")
    parser.add_argument("--no-statsforecast", action="store_true")
    parser.add_argument("--model", action="store_true", help="score the tool's own backtest")
    parser.add_argument("--max-rows", type=int, help="each series' newest rows (3000; "
                        "--model: 1500)")  # fmt: skip
    parser.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE",
                        help="--model: a config override")  # fmt: skip
    arguments = parser.parse_args()
    if arguments.max_rows:
        MAX_ROWS = MODEL_ROWS = arguments.max_rows
    begin = time.perf_counter()
    data = series() if not arguments.model else series(rows=max(MAX_ROWS, MODEL_ROWS))
    COMMAND[0] = " ".join(["python benchmarks/bands.py", *sys.argv[1:]])
    if arguments.series:
        data = {k: v for k, v in data.items() if any(w in k for w in arguments.series)}
    if arguments.model:
        import tomllib

        overrides = {}
        for item in arguments.set:
            key, _, value = item.partition("=")
            overrides[key.replace(".", "__")] = tomllib.loads(f"v = {value}")["v"]
        model_bands(data, overrides)
        return
    benches = {name: Bench(*values) for name, values in data.items()}
    results = {name: score(b, {"statsforecast": not arguments.no_statsforecast})
               for name, b in benches.items()}  # fmt: skip
    print_tables(results, benches, time.perf_counter() - begin)


def print_tables(results: dict, benches: dict, seconds: float) -> None:
    print("# Bands through change: every 20-row fold of", len(results), "daily series")
    print()
    print(f"Command: `{COMMAND[0]}`; nominal 90 %.",
          f"Each series' newest {MAX_ROWS} rows, the first {WARMUP} warm-up;",
          f"{sum(len(b.origins) for b in benches.values())} folds in all;",
          f"{seconds / 60:.1f} minutes.")  # fmt: skip
    methods = list(next(iter(results.values())))
    print("\n## Pooled over the series (mean of the per-series figures)\n")
    print(
        "| method | step 1 | step 20 | steps 1-20 | worst 60-row (min) | Winkler 1 / naive "
        "| Winkler 1-20 / naive | series 85-95 % (step 1, step 20) | series Winkler 1-20 < naive "
        "| series worst 60-row above / at least target-ewma's |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for method in methods:
        per = [r[method] for r in results.values() if method in r]
        naive = [r["naive"] for r in results.values() if method in r]
        ok1 = sum(0.85 <= p["step1"] <= 0.95 for p in per)
        ok20 = sum(0.85 <= p["step20"] <= 0.95 for p in per)
        better = sum(p["winkler"] < q["winkler"] for p, q in zip(per, naive, strict=True))
        static = [r["target-ewma"]["worst60"] for r in results.values() if method in r]
        above = sum(p["worst60"] > q for p, q in zip(per, static, strict=True))
        level = sum(p["worst60"] >= q for p, q in zip(per, static, strict=True))
        w1 = np.mean([p["winkler1"] / q["winkler1"] for p, q in zip(per, naive, strict=True)])
        w = np.mean([p["winkler"] / q["winkler"] for p, q in zip(per, naive, strict=True)])
        print(
            f"| {method} | {100 * np.mean([p['step1'] for p in per]):.1f} % "
            f"| {100 * np.mean([p['step20'] for p in per]):.1f} % "
            f"| {100 * np.mean([p['path'] for p in per]):.1f} % "
            f"| {100 * np.nanmin([p['worst60'] for p in per]):.0f} % "
            f"| {w1:.3f} | {w:.3f} | {ok1}, {ok20} of {len(per)} | {better} of {len(per)} "
            f"| {above} / {level} of {len(per)} |"
        )
    print("\n## Per series\n")
    print(
        "| series | folds | method | step 1 | step 20 | steps 1-20 | worst 60-row | width 1-20 "
        "| Winkler 1 | Winkler 1-20 |"
    )
    print("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, result in results.items():
        for method, r in result.items():
            print(
                f"| {name} | {len(benches[name].origins)} | {method} | {100 * r['step1']:.1f} % "
                f"| {100 * r['step20']:.1f} % | {100 * r['path']:.1f} % "
                f"| {100 * r['worst60']:.0f} % | {r['width']:.4g} | {r['winkler1']:.4g} "
                f"| {r['winkler']:.4g} |"
            )
    print("\n".join(qlike_table(benches)))


if __name__ == "__main__":
    main()
