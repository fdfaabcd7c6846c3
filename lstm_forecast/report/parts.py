"""The pieces every report page is made of: sections, tables, embedded figures, the data-quality
and config sections, and how each metric prints (prices with the series' decimals, shares in
percent, skills signed; NaN and None as "-")."""

from __future__ import annotations

import base64
import math
import re
from pathlib import Path

from lstm_forecast.errors import LstmForecastError
from lstm_forecast.files.read import read_bytes, read_json, read_text, read_toml
from lstm_forecast.files.write import figure_bytes
from lstm_forecast.numbers import MISSING, format_percent

FIGURE_DPI = 100  # 11 x 8 in figures -> 1100 x 800 px, sharp on a phone, ~100 KB
GAPS_SHOWN = 10
# metric names by how they print: price-scaled, share as percent, signed skill
PRICE_NAME = re.compile(r"(^|_)(rmse|mae|drift|mean_width|winkler|width)$")
SHARE_NAME = re.compile(r"(directional_accuracy|coverage|coverage_static|level)$")
SKILL_NAME = re.compile(r"(^|_)skill")


def _verdict(metrics: dict, fmt) -> dict:
    """The verdict line: skill against the strongest baseline and its significance."""
    if {"verdict", "baseline_label"} <= metrics.keys():
        from lstm_forecast.evaluate.metrics import verdict_sentence

        pvalue = metrics.get("dm_pvalue")
        sentence = verdict_sentence(
            {**metrics, "dm_pvalue": math.nan if pvalue is None else pvalue}
        )
        sentence += f": skill {_skill(metrics.get('skill'))} against it"
        if "baseline_rmse" in metrics:
            sentence += f" (RMSE {fmt(metrics.get('rmse'))} vs {fmt(metrics['baseline_rmse'])})"
        mood = {"beats": "good", "loses to": "bad"}.get(metrics["verdict"], "neutral")
        return {"verdict": _sentence(sentence), "mood": mood}
    if _number(metrics.get("skill")) is not None:  # a run from before the significance test
        beats = metrics["skill"] > 0
        return {
            "verdict": f"Skill vs 'tomorrow = today' {_skill(metrics['skill'])}: the model "
            f"{'beats' if beats else 'does not beat'} it (no significance test in this run)",
            "mood": "good" if beats else "bad",
        }
    return {"verdict": "", "mood": "neutral"}


def data_quality_section(paths: list[str], data_config) -> dict:
    """`inspect`'s report of each data file, or why there is none (the file is gone)."""
    from lstm_forecast.data.quality import quality_report, report_lines
    from lstm_forecast.data.read import csv_options, load_prices

    paragraphs, tables = [], []
    for path in [path for path in paths if path]:
        if not Path(path).is_file():
            paragraphs.append(
                f"{path}: the data file is no longer there, so no data-quality report"
            )
            continue
        try:
            report = quality_report(load_prices(path, **csv_options(data_config)))
        except (LstmForecastError, OSError) as e:
            paragraphs.append(f"{path}: cannot be read any more ({e})")
            continue
        paragraphs += report_lines(report)[:2]
        gaps = [[g["after"], g["until"], str(g["days"])] for g in report["long_gaps"][:GAPS_SHOWN]]
        more = len(report["long_gaps"]) - GAPS_SHOWN
        caption = (
            f"gaps longer than a long weekend in {Path(path).name}: {len(report['long_gaps'])}"
        )
        tables.append(_table(caption + (f" ({more} more not shown)" if more > 0 else ""),
                             ["after", "until", "days"], gaps))  # fmt: skip
        moves = [[m["date"], format_percent(m["change"]),
                  "looks like a stock split or a data error" if m["suspicious"] else ""]
                 for m in report["largest_moves"]]  # fmt: skip
        tables.append(
            _table(f"largest one-day moves in {Path(path).name}", ["date", "change", ""], moves)
        )
    return _section("data", "Data quality", paragraphs, tables)


def _config_section(config_path: Path, manifest: dict) -> dict:
    versions = manifest.get("versions") if isinstance(manifest.get("versions"), dict) else {}
    rows = [[name, str(version or MISSING)] for name, version in versions.items()]
    if manifest.get("python"):
        rows.insert(0, ["python", str(manifest["python"])])
    if manifest.get("created"):
        rows.insert(0, ["created", str(manifest["created"])])
    tables = (
        [_table("library versions the run was made with", ["", "version"], rows)] if rows else []
    )
    text = read_text(config_path)
    return _section("config", "Config and versions", [], tables, preformatted=text)


def figure_uri(figure) -> str:
    """A matplotlib Figure as a data URI (base64 PNG); the figure is closed."""
    import matplotlib.pyplot as plt

    try:
        png = figure_bytes(figure, dpi=FIGURE_DPI)
    finally:
        plt.close(figure)
    return png_uri(png)


def png_uri(data: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")


def png_figures(directory: Path, skip: tuple[str, ...] = ()) -> list[dict]:
    """Every PNG in `directory` (but `skip`), embedded, by name."""
    return [
        {"caption": path.name, "uri": png_uri(read_bytes(path)), "alt": path.stem}
        for path in sorted(directory.glob("*.png"))
        if path.name not in skip
    ]


def _section(id_: str, title: str, paragraphs=(), tables=(), figures=(), preformatted="") -> dict:
    return {"id": id_, "title": title, "paragraphs": list(paragraphs), "tables": list(tables),
            "figures": list(figures), "preformatted": preformatted}  # fmt: skip


def _table(caption: str, headers: list[str], rows: list[list[str]]) -> dict:
    return {"caption": caption, "headers": headers, "rows": rows, "highlight": []}


def _key_values(values: dict, names, fmt) -> list[list[str]]:
    """[name, formatted value] for the names present; nested dicts as name.key rows."""
    rows = []
    for name in names:
        if name not in values:
            continue
        value = values[name]
        if isinstance(value, dict):
            rows += _key_values(
                {f"{name}.{k}": v for k, v in value.items()}, [f"{name}.{k}" for k in value], fmt
            )
        else:
            rows.append([name, format_value(name, value, fmt)])
    return rows


def format_value(name: str, value, fmt) -> str:
    """A metric as the report prints it, by its name: prices with the series' decimals, shares
    and MAPE in percent, skills signed; NaN and None as "-"."""
    base = name.rsplit(".", 1)[-1]
    if hasattr(value, "item"):  # a NumPy scalar from a CSV column
        value = value.item()
    if value is None or isinstance(value, bool):
        return MISSING if value is None else ("yes" if value else "no")
    if isinstance(value, list | tuple):
        return ", ".join(format_value(name, item, fmt) for item in value)
    if isinstance(value, str) or isinstance(value, int):
        return str(value)
    number = _number(value)
    if number is None:
        return MISSING
    if base.endswith("pvalue"):
        return "< 0.001" if number < 0.001 else f"{number:.3f}"
    if base.endswith("mape"):
        return _percent(number)
    if SKILL_NAME.search(base):
        return _skill(number)
    if SHARE_NAME.search(base):
        return _share(number)
    if PRICE_NAME.search(base) or base == "mean" and PRICE_NAME.search(name.rsplit(".", 1)[0]):
        return fmt(number)
    return f"{number:.4g}"


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def _number(value) -> float | None:
    """A finite float, or None (None, NaN, text)."""
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):  # OverflowError: a JSON integer of 400 digits
        return None
    return number if math.isfinite(number) else None


def _share(value) -> str:
    number = _number(value)
    return MISSING if number is None else f"{100 * number:.1f} %"


def _percent(value) -> str:
    number = _number(value)
    return MISSING if number is None else f"{number:.2f} %"


def _skill(value) -> str:
    number = _number(value)
    return MISSING if number is None else f"{number:+.3f}"


def _read_json(path: Path):
    return read_json(path, object, remedy="write the directory again", allow_nan=True)


def _frame_table(caption: str, frame, fmt) -> dict:
    """A table of every column of `frame`, each value formatted by its column's name."""
    rows = [
        [format_value(str(column), value, fmt) for column, value in row.items()]
        for _, row in frame.iterrows()
    ]
    return _table(caption, [str(column) for column in frame.columns], rows)


def _read_config(path: Path):
    """The config.toml of a backtest or study, or None when it is missing or unreadable."""
    from lstm_forecast.config.load import config_from_dict

    try:
        return config_from_dict(read_toml(path), str(path))
    except LstmForecastError:
        return None
