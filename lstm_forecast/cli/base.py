"""The Typer app every command registers on, and `main`, the `lstm-forecast` entry point.

The commands live in commands.py, tools.py and gates.py; lstm_forecast/cli/__init__.py imports them
in the order `--help` lists them.
"""

from __future__ import annotations

import sys

import typer

app = typer.Typer(
    help="Forecast stock prices with stacked LSTMs, measured against the strongest naive baseline.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # help texts are plain: "[tune]" and ".[fetch]" are TOML, not markup
)


def main() -> None:
    """The `lstm-forecast` command: the app, with a usage mistake (an unknown command or option,
    a value of the wrong type, a missing argument) as one line too, like every other error."""
    # Typer ships its own copy of click; its UsageError is reached through a public subclass
    usage_error = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "UsageError")
    command = typer.main.get_command(app)
    try:
        code = command.main(prog_name="lstm-forecast", standalone_mode=False)
    except usage_error as e:
        if type(e).__name__ == "NoArgsIsHelpError":  # no arguments: the help, as before
            e.show()
            sys.exit(e.exit_code)
        where = e.ctx.command_path if e.ctx else "lstm-forecast"
        typer.echo(f"error: {e.format_message()} (see {where} --help)", err=True)
        sys.exit(e.exit_code)
    except typer.Abort:
        typer.echo("interrupted", err=True)
        sys.exit(130)
    sys.exit(code if isinstance(code, int) else 0)
