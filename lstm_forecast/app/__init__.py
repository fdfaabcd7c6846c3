"""What each command does, on files: train, predict, forecast, plot, backtest, inspect (commands.py),
a league of many series (league.py), fetch (fetch.py), gates (gates.py). The layer the CLI calls,
once per command.
"""
