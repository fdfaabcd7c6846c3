"""Exceptions for problems a user can fix. The CLI prints them as one line and exits with status 2."""


class LstmForecastError(Exception):
    """Base class: the message says what is wrong, where, and how to fix it."""


# The base class's former name, kept so that code written against 0.1 still catches everything.
ForecastError = LstmForecastError


class DataError(LstmForecastError):
    """A CSV that cannot be used: missing, unreadable, wrong columns, bad values, too short."""


class ConfigError(LstmForecastError):
    """A config file or option with an unknown key or an invalid value."""


class BundleError(LstmForecastError):
    """A run directory that is missing files, is damaged, or cannot be loaded."""


class OutputError(LstmForecastError):
    """An output location that cannot or must not be written (exists, is an input, read-only)."""
