"""Exceptions for problems a user can fix. The CLI prints them as one line and exits with status 2."""


class ForecastError(Exception):
    """Base class: the message says what is wrong, where, and how to fix it."""


class DataError(ForecastError):
    """A CSV that cannot be used: missing, unreadable, wrong columns, bad values, too short."""


class ConfigError(ForecastError):
    """A config file or option with an unknown key or an invalid value."""


class BundleError(ForecastError):
    """A run directory that is missing files or cannot be loaded."""
