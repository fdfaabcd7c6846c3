"""The backtest page's "Trading on the forecasts" section: each strategy beside buy-and-hold after
costs (summary.json's "strategy"), the verdict of the SPA test and the equity curves."""

from __future__ import annotations

from pathlib import Path

from lstm_forecast.files.names import EQUITY_FIGURE
from lstm_forecast.report.parts import _number, _section, _table, png_figures

ASSUMPTIONS = (
    "Each row's position is taken at the last price its forecast knew (the previous close, or "
    "the previous value of the target) and held to the next decision; costs are charged per "
    "side on every change of position; cash earns nothing, shorts pay no fee, and exposure is "
    "capped at [strategy] leverage_cap. Hansen's SPA test (arch, stationary bootstrap) asks "
    "whether any strategy beats buy-and-hold at all, paying for every strategy tried. "
    "Not investment advice."
)
HEADERS = ["strategy", "Sharpe", "return / year", "volatility", "max drawdown", "turnover / year",
           "hit rate", "cost paid", "Sharpe − buy-and-hold (interval)", "SPA p"]  # fmt: skip


def strategy_section(summary: dict, directory: Path) -> dict | None:
    strategy = summary.get("strategy")
    if not isinstance(strategy, dict) or not isinstance(strategy.get("strategies"), dict):
        return None
    rows = [_row(values) for values in strategy["strategies"].values()]
    caption = (
        f"after {_number(strategy.get('cost_bps')) or 0:g} bps per side, over "
        f"{strategy.get('rows', '?')} out-of-sample rows"
    )
    paragraphs = [str(strategy.get("verdict", "")), ASSUMPTIONS]
    figures = [f for f in png_figures(directory) if f["caption"] == EQUITY_FIGURE]
    return _section("strategy", "Trading on the forecasts", paragraphs,
                    [_table(caption, HEADERS, rows)], figures)  # fmt: skip


def _row(values: dict) -> list[str]:
    def number(key: str, shown: str) -> str:
        value = _number(values.get(key))
        return "–" if value is None else shown.format(value)

    low, high = _number(values.get("sharpe_low")), _number(values.get("sharpe_high"))
    interval = "–"
    if _number(values.get("sharpe_difference")) is not None and low is not None:
        interval = f"{values['sharpe_difference']:+.2f} ({low:+.2f} to {high:+.2f})"
    return [
        str(values.get("label", "")),
        number("sharpe", "{:+.2f}"),
        number("annual_return", "{:+.1%}"),
        number("annual_volatility", "{:.1%}"),
        number("max_drawdown", "{:.1%}"),
        number("turnover", "{:.1f}"),
        number("hit_rate", "{:.0%}"),
        number("cost_paid", "{:.2%}"),
        interval,
        number("spa_pvalue", "{:.2f}"),
    ]
