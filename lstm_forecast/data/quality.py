"""The data-quality report of a price series (`inspect`, and the warnings `train` prints): rows used
and dropped, date and price range, gaps longer than the data's step allows, the largest moves from
one row to the next (one of 40 % or more looks like a stock split or a data error)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from lstm_forecast.errors import DataError

if TYPE_CHECKING:
    from lstm_forecast.data.read import PriceSeries


LONG_WEEKEND_DAYS = 4  # a gap of more calendar days than a Friday -> Tuesday is reported
SUSPICIOUS_MOVE = 0.40  # one-day moves this large look like a split or a data error
LARGEST_MOVES_SHOWN = 5


def quality_report(prices: PriceSeries) -> dict:
    """Rows used, date range, price range, what was dropped, gaps longer than the data's step
    allows, and the largest moves from one row to the next."""
    from lstm_forecast.data.frequency import infer_frequency
    from lstm_forecast.numbers import price_format, reference_price

    values = prices.values
    dates = values.index
    intraday = bool((dates != dates.normalize()).any())
    try:
        frequency = infer_frequency(dates, prices.source)
        step, step_days = frequency.label, frequency.step / pd.Timedelta(days=1)
    except DataError:  # no regular step (or one row): train refuses it, the report still runs
        step, step_days = "row", 1.0
    # daily or finer: a gap longer than a long weekend; weeks, months: more than two steps
    gap_limit = max(LONG_WEEKEND_DAYS, int(2 * step_days))

    def when(timestamp: pd.Timestamp) -> str:  # the date, or the bar's time for intraday data
        return str(timestamp) if intraday else str(timestamp.date())

    gap_days = np.diff(dates.to_numpy()).astype("timedelta64[D]").astype(int)
    long_gaps = [
        {"after": when(dates[i]), "until": when(dates[i + 1]), "days": int(days)}
        for i, days in enumerate(gap_days)
        if days > gap_limit
    ]
    moves = values.pct_change().dropna()
    largest = moves.abs().sort_values(ascending=False).index[:LARGEST_MOVES_SHOWN]
    price = price_format(reference_price(values.to_numpy()))
    return {
        "source": prices.source,
        "column": str(values.name),
        "rows_read": prices.rows_read,
        "rows_used": len(values),
        "rows_missing": prices.rows_missing,
        "rows_duplicate": prices.rows_duplicate,
        "newest_first": prices.newest_first,
        "unordered": prices.unordered,
        "first_date": when(dates[0]),
        "last_date": when(dates[-1]),
        "step_label": step,
        # as printed: as many decimals as the price scale needs (2,745.12 / 0.0000123400)
        "prices": {
            "min": price(float(values.min())),
            "max": price(float(values.max())),
            "last": price(float(values.iloc[-1])),
        },
        "gap_limit_days": gap_limit,
        "long_gaps": long_gaps,
        "largest_moves": [
            {
                "date": when(date),
                "change": float(moves[date]),
                "suspicious": bool(abs(moves[date]) >= SUSPICIOUS_MOVE),
            }
            for date in largest
        ],
    }


def report_lines(report: dict, short: bool = False) -> list[str]:
    """The quality report as text; `short` gives only the warnings (for `train`)."""
    lines = []
    limit = report.get("gap_limit_days", LONG_WEEKEND_DAYS)
    if not short:
        lines.append(
            f"{report['source']}, column {report['column']!r}: {report['rows_used']} rows used "
            f"of {report['rows_read']}, {report['first_date']} .. {report['last_date']}"
        )
        prices = report["prices"]
        lines.append(f"prices {prices['min']} .. {prices['max']}, last {prices['last']}")
        lines.append(
            f"dropped: {report['rows_missing']} with an empty date or value, "
            f"{report['rows_duplicate']} with a repeated date (last kept)"
            + ("; the file was newest first and was sorted" if report["newest_first"] else "")
            + (
                "; the rows were not in date order and were sorted"
                if report.get("unordered")
                else ""
            )
        )
        gaps = report["long_gaps"]
        lines.append(f"gaps longer than {limit} days: {len(gaps)}")
        lines += [f"  {g['after']} -> {g['until']} ({g['days']} days)" for g in gaps[:10]]
        if len(gaps) > 10:
            lines.append(f"  ... and {len(gaps) - 10} more")
        step = report.get("step_label", "day")
        lines.append(
            f"largest moves from one {step} to the next:"
            if step[0].isdigit()
            else f"largest one-{step} moves:"
        )
    for move in report["largest_moves"]:
        warning = "  <- looks like a stock split or a data error" if move["suspicious"] else ""
        if short and not warning:
            continue
        prefix = "warning: " if short else "  "
        lines.append(f"{prefix}{move['date']} {_move(move['change'])}{warning}")
    if short and report["long_gaps"]:
        lines.append(
            f"warning: {len(report['long_gaps'])} gaps longer than {limit} days "
            "(`lstm-forecast inspect` lists them)"
        )
    return lines


def _move(change: float) -> str:
    """A move as a percentage, or as a factor once it is a thousandfold (a typo in a price)."""
    if abs(change) < 1000:
        return f"{100 * change:+.1f} %"
    return f"x{1 + change:.3g}"
