"""One self-contained HTML page for a run, a backtest or a tuning study, to look at instead of
eight files and a PNG.

Like runs.py, this module reads the directory and writes the page (checked first, written
atomically through lstm_forecast.files.write); what it shows is decided in report_run.py (a run)
and report_studies.py (a backtest, a tuning study) from the pieces in report_parts.py, how it
looks in templates/report.html.j2 (Jinja2, autoescaped). Figures are embedded as base64 PNG data URIs, so
the page needs no other file and no network. Everything is optional: a section whose files or
metrics are missing is left out (an old run, a metric added later), NaN and None print as "-".
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

from lstm_forecast.errors import BundleError, OutputError
from lstm_forecast.files.names import MARKER_FILE, REPORT_FILE, SUMMARY_FILE, TRIALS_FILE
from lstm_forecast.files.write import check_new_file, write_text
from lstm_forecast.report.parts import _read_json
from lstm_forecast.report.run import run_page
from lstm_forecast.report.studies import backtest_page, league_page, tune_page

TEMPLATE = "report.html.j2"


def write_report(
    directory: str | Path, out: Path | None = None, overwrite: bool = False
) -> Path | None:
    """Render the report of a run, backtest or tuning study directory to one HTML file.

    The default, DIRECTORY/report.html, is replaced; any other existing --out only with
    `overwrite`; out "-" writes the page to standard output. Returns the path written (None
    for "-").
    """
    directory = Path(directory)
    page = read_page(directory)
    if out is not None and str(out) == "-":  # the page on standard output, as predict --out -
        sys.stdout.write(render(page))
        return None
    out = Path(out) if out else directory / REPORT_FILE
    inputs = [path for path in directory.iterdir() if path.is_file() and path.name != REPORT_FILE]
    check_new_file(out, overwrite or out == directory / REPORT_FILE, inputs)
    if out.suffix.lower() not in (".html", ".htm"):
        raise OutputError(f"{out}: the report is an HTML page; give --out a .html name")
    return write_text(out, render(page))


def read_page(directory: Path) -> dict:
    """What the page shows, read from `directory`: a run, a backtest or a tuning study."""
    if not directory.is_dir():
        raise BundleError(f"{directory}: no such directory; give a run, backtest or tune directory")
    marker = _read_json(directory / MARKER_FILE) if (directory / MARKER_FILE).is_file() else {}
    kind = marker.get("kind") if isinstance(marker, dict) else None
    if kind == "run":
        from lstm_forecast.forecaster.bundle import read_run

        return run_page(read_run(directory))
    if kind == "backtest":
        if not (directory / SUMMARY_FILE).is_file():
            raise BundleError(
                f"{directory / 'summary.json'}: missing (the backtest did not finish, or the file "
                "was removed); run the backtest again"
            )
        return backtest_page(directory)
    if kind == "league":
        return league_page(directory)
    if kind == "tune" and not (directory / TRIALS_FILE).is_file():
        raise BundleError(
            f"{directory / 'trials.csv'}: missing: the study has no finished trial yet; run "
            "`lstm-forecast tune` on it again"
        )
    if kind == "tune" or (directory / TRIALS_FILE).is_file():
        return tune_page(directory)
    raise BundleError(
        f"{directory}: not a run, backtest or tuning study (no {MARKER_FILE} of kind run, "
        "backtest or league, no trials.csv); give a directory written by train, backtest or tune"
    )


def render(page: dict) -> str:
    """The page as HTML (autoescaped: a value can never inject markup)."""
    import jinja2

    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("lstm_forecast.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,  # a misspelt key fails the tests, not the page
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return environment.get_template(TEMPLATE).render(
        **page, generated=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    )
