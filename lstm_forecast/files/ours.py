"""Recognising what lstm-forecast wrote: a directory of ours (our marker and nothing but our
files), a single file of ours (the mark its content carries), the files a directory of ours is made
of. What `--overwrite` may replace, and what no other output may."""

from __future__ import annotations

import json
from pathlib import Path

from lstm_forecast.files.names import (
    GATES_COLUMNS,
    HTML_GENERATOR,
    MARKER_FILE,
    OUR_FILE,
    PNG_SOFTWARE,
    SIDECAR_KEYS,
    STUDY_FILES,
    TABLE_COLUMNS,
    is_marker,
)


def is_ours(directory: Path) -> bool:
    """A directory we wrote: our marker, and nothing in it but files we write."""
    try:
        marker = json.loads((directory / MARKER_FILE).read_text())
        entries = list(directory.iterdir())
    except (OSError, ValueError):
        return False
    if not is_marker(marker):
        return False
    return all(
        entry.is_file() and (entry.name == MARKER_FILE or OUR_FILE.match(entry.name))
        for entry in entries
    )


def carries_our_mark(path: Path) -> bool:
    """A file lstm-forecast wrote: one in a directory of ours, or one whose content says so (a
    predictions or forecast table's header, their JSON beside them, our report's generator tag,
    our figures' PNG Software text). What `--overwrite` may replace."""
    path = Path(path)
    if is_ours(path.parent):
        return True
    try:
        if path.suffix == ".png":
            from PIL import Image  # matplotlib's own dependency

            with Image.open(path) as image:
                return str(image.info.get("Software", "")).startswith(PNG_SOFTWARE)
        if path.suffix == ".json":
            keys = json.loads(path.read_text(encoding="utf-8")).keys()
            return any(marks <= keys for marks in SIDECAR_KEYS)
        with path.open("rb") as handle:
            head = handle.read(4096)
        if path.suffix == ".html":
            return HTML_GENERATOR in head
        header = head.decode("utf-8").splitlines()[0].split(",")
        if header == GATES_COLUMNS:  # the gates command's traces (gates.py)
            return True
        return header[0] == "date" and TABLE_COLUMNS <= set(header)
    except (OSError, ValueError, AttributeError, IndexError):  # unreadable, no PNG, JSON, text
        return False


def own_files(directory: Path) -> frozenset[str]:
    """The names of the files that make up a directory we wrote (none for any other folder):
    no output of another command may replace them."""
    try:
        marker = json.loads((directory / MARKER_FILE).read_text())
    except (OSError, ValueError):
        return frozenset()
    if not is_marker(marker):
        return frozenset()
    checksums = marker.get("checksums")
    names = set(checksums) if isinstance(checksums, dict) else set()
    return frozenset({MARKER_FILE, *names, *(STUDY_FILES if marker.get("kind") != "run" else ())})
