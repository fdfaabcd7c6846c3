"""Finding the columns a price file's header names: the target, the dates and the features'
columns (any case; Nasdaq.com's "Close/Last" for Close), and refusing a header that names
one of them twice."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from lstm_forecast.errors import DataError

UNNAMED_FIRST_COLUMN = "Unnamed: 0"  # pandas' name for an empty first header (to_csv's index)


def refuse_repeated_names(
    header: str, sep: str, path: Path, preamble: int, used: list[str]
) -> None:
    """A column the loader uses that the header names twice (pandas would read the second as
    "Open.1" and the loader take the first without a word): which one is meant is unknowable."""
    import csv

    fields = [field.strip() for field in next(csv.reader([header], delimiter=sep))]
    for name in used:
        positions = [i for i, field in enumerate(fields, 1) if field.lower() == name.lower()]
        if len(positions) > 1:
            first = fields[positions[0] - 1]
            raise DataError(
                f"{path}: line {preamble + 1}: the header names column {first!r} twice (fields "
                f"{positions[0]} and {positions[1]}); rename one so the file says which is which"
            )


def find_column(columns: pd.Index, path: Path, name: str, role: str) -> str:
    wanted = name.strip().lower()
    by_lower = {column.lower(): column for column in columns}
    if wanted in by_lower:
        return by_lower[wanted]
    # Nasdaq.com names its close "Close/Last": accept a unique column with `name` as one part
    parts = [column for column in columns if wanted in column.lower().split("/")]
    if len(parts) == 1:
        return parts[0]
    option = {
        "target": "--target / [data] target",
        "date": "[data] date_column",
        "feature": "[data] features; a trained run needs every column its features read",
    }[role]
    raise DataError(
        f"{path}: no {role} column {name!r}; columns are {', '.join(map(repr, columns))} "
        f"(choose one with {option})"
    )


def find_date_column(columns: pd.Index, path: Path, date_column: str) -> str:
    if date_column:
        return find_column(columns, path, date_column, "date")
    # a column named like a date first: in "Time,Date,Open" the Time column holds times of day
    for matches in (lambda name: "date" in name, lambda name: name in ("time", "timestamp")):
        for column in columns:
            if matches(column.lower()):
                return column
    if columns[0] == UNNAMED_FIRST_COLUMN:  # DataFrame.to_csv() with a DatetimeIndex
        return columns[0]
    raise DataError(
        f"{path}: no date column found among {', '.join(map(repr, columns))}; "
        "name it with [data] date_column"
    )
