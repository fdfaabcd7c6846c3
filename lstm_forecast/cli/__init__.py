"""The `lstm-forecast` command line (Typer). `lstm_forecast.cli:main` is the console script.

Importing the package registers every command on `app`, in the order `--help` lists them: the
training loop (commands.py), then inspect, fetch, report, tune (tools.py), then gates (gates.py).
"""

import importlib

from lstm_forecast.cli.base import app, main

for _module in ("commands", "tools", "gates"):  # registration order is `--help`'s order
    importlib.import_module(f"lstm_forecast.cli.{_module}")

__all__ = ["app", "main"]
