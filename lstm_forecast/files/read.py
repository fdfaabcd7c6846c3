"""Reading the files we and our users keep beside the prices: TOML configs and our own JSON and CSV
outputs. One reader per format, one error behaviour each: a config that cannot be read is a
ConfigError naming the file; an output of ours that cannot be read is a BundleError saying it is
damaged and what to do. (Price CSVs are read by lstm_forecast.data.read, run directories by
lstm_forecast.forecaster.bundle, both through these where they read TOML or our JSON.)
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lstm_forecast.errors import BundleError, ConfigError

if TYPE_CHECKING:
    import pandas as pd


def read_toml(path: Path) -> dict[str, Any]:
    """A TOML file as nested dicts; every read problem is one ConfigError naming the file."""
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8-sig")  # a BOM, as Notepad saves, is not TOML
        return tomllib.loads(text)
    except FileNotFoundError as e:
        raise ConfigError(f"{path}: config file not found; pass an existing TOML file") from e
    except IsADirectoryError as e:
        raise ConfigError(f"{path}: is a directory; pass a TOML config file") from e
    except PermissionError as e:
        raise ConfigError(f"{path}: not readable (permission denied)") from e
    except OSError as e:
        raise ConfigError(f"{path}: cannot read the config ({e.strerror})") from e
    except UnicodeDecodeError as e:
        raise ConfigError(
            f"{path}: not UTF-8 text (byte {e.start}); save the config as UTF-8"
        ) from e
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: not valid TOML ({e})") from e


def read_json(
    path: Path, kind: type = dict, remedy: str = "write it again", allow_nan: bool = False
) -> Any:
    """One of our JSON files, holding a `kind`. Strict by default (NaN and Infinity are not
    JSON; write_json writes a missing number as null); allow_nan also reads the summaries and
    sidecars of earlier versions, which wrote it as NaN, as Python's json module does."""
    path = Path(path)
    strict = {} if allow_nan else {"parse_constant": _no_constant}
    try:
        value = json.loads(path.read_text(encoding="utf-8"), **strict)
    except (OSError, UnicodeDecodeError, ValueError) as e:
        raise BundleError(f"{path}: damaged ({e}); {remedy}") from e
    if not isinstance(value, kind):
        raise BundleError(f"{path}: damaged (expected a JSON {kind.__name__}); {remedy}")
    return value


def _no_constant(name: str):
    raise ValueError(f"{name} is not a number JSON allows")


def read_table(path: Path, remedy: str = "write it again") -> pd.DataFrame:
    """One of our CSV tables (predictions, folds, trials, league, history)."""
    import pandas as pd

    try:
        return pd.read_csv(path)
    except (OSError, ValueError, UnicodeDecodeError) as e:
        raise BundleError(f"{path}: damaged ({e}); {remedy}") from e


def numeric_columns(table: pd.DataFrame, columns, path: Path, fix: str, error=BundleError) -> None:
    """`columns` of one of our tables made numbers in place; a cell that is not one (an edit)
    raises `error` naming the file's line, the column and the value, then `fix`."""
    import pandas as pd

    for column in columns:
        numbers = pd.to_numeric(table[column], errors="coerce")
        bad = numbers.isna() & table[column].notna()
        if bad.any():
            row = int(bad.to_numpy().argmax())
            raise error(
                f"{path}: line {row + 2}, column {column!r}: {table[column].iloc[row]!r} is not "
                f"a number; {fix}"
            )
        table[column] = numbers


def read_text(path: Path) -> str:
    """One of our text files (a config we wrote, shown as it is); '' when it is missing."""
    path = Path(path)
    try:
        return path.read_text(encoding="utf-8") if path.is_file() else ""
    except (OSError, UnicodeDecodeError) as e:
        raise BundleError(f"{path}: damaged ({e}); write it again") from e


def read_bytes(path: Path) -> bytes:
    """One of our binary files (a PNG figure), as it is."""
    try:
        return Path(path).read_bytes()
    except OSError as e:
        raise BundleError(f"{path}: unreadable ({e}); write it again") from e
