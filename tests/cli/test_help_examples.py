"""Every `Example:` line of every command's --help runs as written, in a copy of a fresh clone.

The examples assume what the README's quick start leaves behind (`runs/quickstart`); the test
trains it with configs/quick.toml instead of the default config to keep the suite lean, then runs
every example in the README's order of commands (predict's forecast before plot draws it), each
in-process through the command line, from a folder holding only the clone's configs/ and data/.
`fetch` gets a fake Yahoo Finance download: the tests never use the network.
"""

import json
import shlex
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import typer.main
from conftest import ROOT
from typer.testing import CliRunner

from lstm_forecast.cli.base import app

ORDER = ("train", "predict", "plot", "report", "backtest", "tune", "gates", "inspect", "fetch")
QUICK_START = ["train", "--out", "runs/quickstart", "--config", "configs/quick.toml"]


def help_examples() -> dict[str, list[str]]:
    """{command: [example line, ...]} as --help prints them (the docstring's Example: lines)."""
    group = typer.main.get_command(app)
    return {
        name: [
            line.strip().removeprefix("Example:").strip()
            for line in (command.help or "").splitlines()
            if line.strip().startswith("Example:")
        ]
        for name, command in group.commands.items()
    }


def fake_download(ticker, start=None, end=None, interval="1d", **options):
    """yfinance.download's shape for one ticker: business days from `start`, seeded prices."""
    dates = pd.bdate_range(start or "2015-01-01", periods=300, name="Date")
    close = 100 * np.exp(np.cumsum(np.random.default_rng(0).normal(0, 0.01, len(dates))))
    return pd.DataFrame(
        {
            "Adj Close": close,
            "Close": close,
            "High": close * 1.01,
            "Low": close * 0.99,
            "Open": close,
            "Volume": 1_000_000,
        },
        index=dates,
    )


def outputs_named(arguments: list[str]) -> list[Path]:
    """What an example says it writes: its --out (gates: a prefix of a PNG and a CSV)."""
    if "--out" not in arguments:
        return []
    out = Path(arguments[arguments.index("--out") + 1])
    if arguments[0] == "gates":
        return [out.with_name(out.name + ".png"), out.with_name(out.name + ".csv")]
    return [out]


def test_every_command_has_an_example_in_the_order_run_here():
    examples = help_examples()
    assert set(examples) == set(ORDER)
    assert all(examples[name] for name in ORDER), examples


def test_every_help_example_runs_as_written_from_a_fresh_clone(tmp_path, monkeypatch):
    for folder in ("configs", "data"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("lstm_forecast.app.fetch._yfinance_download", lambda: fake_download)
    runner = CliRunner()
    quick_start = runner.invoke(app, QUICK_START)
    assert quick_start.exit_code == 0, quick_start.output
    shrinkage = json.loads((tmp_path / "runs/quickstart/metrics.json").read_text())["shrinkage"]
    said = "note: the model's predictions added nothing over the baseline" in quick_start.output
    assert said == (shrinkage == 0)  # a run that is its baseline says so

    examples = help_examples()
    for name in ORDER:
        for example in examples[name]:
            arguments = shlex.split(example)
            assert arguments[0] == "lstm-forecast", example
            result = runner.invoke(app, arguments[1:])
            assert result.exit_code == 0, f"{example}\n{result.output}"
            assert "Traceback" not in result.output, example
            for path in outputs_named(arguments[1:]):
                assert path.exists(), f"{example} did not write {path}"
