"""Writing outputs without ever losing a user's file.

Every output is checked before any work starts (its folder exists and is writable, it is not a
directory where a file is wanted, it is none of the command's inputs, it does not exist unless
--overwrite was given), then written atomically: into a temporary file or folder beside it, renamed
into place at the end. `--overwrite` replaces a directory only when it is one of ours (it holds our
marker and nothing but files we write) and never `.`, `/`, the home directory or a folder that holds
the current directory; it replaces a file only when we wrote it (carries_our_mark).
"""

from __future__ import annotations

import errno
import json
import math
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lstm_forecast.errors import OutputError

if TYPE_CHECKING:
    import pandas as pd
from lstm_forecast.files.names import MARKER_FILE, marker
from lstm_forecast.files.ours import carries_our_mark, is_ours, own_files


def _protected(directory: Path) -> bool:
    """`/`, the home directory, the current directory or any folder above it."""
    resolved = directory.resolve()
    cwd = Path.cwd().resolve()
    return (
        resolved == Path(resolved.anchor)
        or resolved == Path.home().resolve()
        or (resolved == cwd or resolved in cwd.parents)
    )


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve() or (a.exists() and b.exists() and a.samefile(b))
    except OSError:
        return False


def check_parent(path: Path, what: str) -> None:
    """The folder `path` goes into exists (or can be made) and is writable."""
    parent = path.parent if str(path.parent) else Path(".")
    existing = parent
    while not existing.exists():
        if existing == existing.parent:
            break
        existing = existing.parent
    if existing.exists() and not existing.is_dir():
        raise OutputError(f"{path}: cannot write the {what}: {existing} is a file, not a folder")
    if not os.access(existing, os.W_OK | os.X_OK) or not _can_create_in(existing):
        raise OutputError(
            f"{path}: cannot write the {what}: folder {existing} is not writable; choose another --out"
        )


def _can_create_in(folder: Path) -> bool:
    """Whether a file can be made in `folder`: os.access says yes to root on a read-only file
    system (/sys, a read-only mount), so try it, with a hidden name removed at once."""
    try:
        handle, probe = tempfile.mkstemp(prefix=".lstm-forecast-probe.", dir=folder)
    except OSError:
        return False
    os.close(handle)
    os.unlink(probe)
    return True


def _refuse_nesting_and_links(path: Path, in_ours: bool) -> None:
    """An output is no symbolic link (replacing one replaces the link, not what it points to),
    and goes into no folder of one of our directories (a run inside a run breaks both); a file
    goes into one of ours itself when `in_ours` (predicted-NAME.csv beside the run's files)."""
    if path.is_symlink():
        raise OutputError(f"{path}: is a symbolic link; give --out a plain path")
    parents = path.absolute().parents
    for parent in parents[1:] if in_ours else parents:
        if own_files(parent):
            raise OutputError(
                f"{path}: is inside the lstm-forecast directory {parent}; choose another --out"
            )


def check_new_directory(directory: Path, overwrite: bool, inputs: Iterable[Path] = ()) -> None:
    """Refuse an output directory we must not (re)place; see the module docstring."""
    directory = Path(directory)
    for source in inputs:
        source = Path(source)
        if _same_file(directory, source) or directory.resolve() in source.resolve().parents:
            raise OutputError(f"{directory}: is or holds the input {source}; choose another --out")
    check_parent(directory, "output directory")
    _refuse_nesting_and_links(directory, in_ours=False)
    if not directory.exists() and not directory.is_symlink():
        return
    if not directory.is_dir():
        raise OutputError(f"{directory}: is a file, not a directory; choose another --out")
    if not any(directory.iterdir()):
        return
    if not overwrite:
        raise OutputError(
            f"{directory}: already exists; choose another --out or pass --overwrite to replace it"
        )
    if _protected(directory):
        raise OutputError(
            f"{directory}: refusing to replace the current, home or root directory; "
            "give --out a new folder such as runs/NAME"
        )
    if not is_ours(directory):
        raise OutputError(
            f"{directory}: --overwrite replaces only a directory written by lstm-forecast, and this "
            "one holds other files; choose another --out"
        )


def check_new_file(path: Path, overwrite: bool, inputs: Iterable[Path] = ()) -> None:
    """Refuse an output file that is an input, a directory, exists without --overwrite, or
    exists and was not written by lstm-forecast (carries_our_mark)."""
    path = Path(path)
    for source in inputs:
        if _same_file(path, Path(source)):
            raise OutputError(f"{path}: is an input of this command; choose another --out")
    _refuse_nesting_and_links(path, in_ours=True)
    if path.name in own_files(path.parent):
        raise OutputError(
            f"{path}: is one of the files of the lstm-forecast directory {path.parent}, and "
            "replacing it would break that directory; choose another --out"
        )
    if path.is_dir():
        raise OutputError(f"{path}: is a directory; give --out a file name")
    check_parent(path, "output file")
    if path.exists() and not overwrite:
        raise OutputError(
            f"{path}: already exists; choose another --out or pass --overwrite to replace it"
        )
    if path.exists() and not carries_our_mark(path):
        raise OutputError(
            f"{path}: already exists and was not written by lstm-forecast; --overwrite replaces "
            "only our own outputs, so choose another --out"
        )


FIXES = {
    errno.ENOSPC: "the disk is full: free some space or choose --out on another disk",
    errno.EDQUOT: "the disk quota is used up: free some space or choose --out elsewhere",
    errno.EROFS: "the file system is read-only: choose --out on a writable disk",
    errno.EACCES: "no permission to write there: choose --out in a folder of yours",
    errno.EPERM: "no permission to write there: choose --out in a folder of yours",
}


@contextmanager
def writing(path: Path) -> Iterator[None]:
    """An operating-system error while writing `path` as one OutputError naming the file and
    what to do (a full disk says so, with the file it could not write)."""
    try:
        yield
    except OSError as e:
        if isinstance(e, FileExistsError):
            raise
        fix = FIXES.get(e.errno, "choose another --out")
        raise OutputError(f"{path}: cannot write it ({e.strerror or e}); {fix}") from e


def write_file(
    path: Path,
    write: Callable[[Path], object],
    check: Callable[[Path], None] | None = None,
    replace: bool = True,
) -> Path:
    """Call write(temporary path) beside `path`, then check(temporary) when given, then move it
    into place atomically. With replace=False an existing `path` is never replaced, not even one
    that appeared while we wrote (a hard link fails atomically where it exists)."""
    path = Path(path)
    with writing(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(
            prefix=f".{path.name}.", suffix=".tmp", dir=path.parent
        )
        os.close(handle)
    try:
        with writing(path):
            write(Path(temporary))
        if check is not None:
            check(Path(temporary))
        with writing(path):
            os.chmod(temporary, 0o666 & ~current_umask())
            if replace:
                os.replace(temporary, path)
            else:
                _move_new(Path(temporary), path)
    finally:
        Path(temporary).unlink(missing_ok=True)
    return path


def _move_new(temporary: Path, path: Path) -> None:
    exists = OutputError(f"{path}: already exists; choose another --out or pass --overwrite")
    try:
        os.link(temporary, path)  # fails, atomically, if `path` exists
    except FileExistsError:
        raise exists from None
    except OSError:  # a file system without hard links: check, then move
        if path.exists():
            raise exists from None
        os.replace(temporary, path)


def write_text(path: Path, text: str) -> Path:
    return write_file(path, lambda temporary: temporary.write_text(text))


def write_bytes(path: Path, data: bytes) -> Path:
    return write_file(path, lambda temporary: temporary.write_bytes(data))


def write_json(path: Path, value: Any, default: Callable[[Any], Any] | None = None) -> Path:
    """Indented, strict JSON: a NaN or an infinity (a metric with nothing to measure) is written
    as null, never as the bare NaN Python's json module writes and other readers refuse.
    `default` as for json.dumps (str: any other object as its text)."""
    text = json.dumps(json_safe(value), indent=2, allow_nan=False, default=default)
    return write_text(path, text + "\n")


def json_safe(value: Any) -> Any:
    """Tuples as lists, NaN and infinities as None (null), recursively: what TOML and JSON
    writers take. NumPy scalars and arrays become Python numbers and lists."""
    if hasattr(value, "dtype") and hasattr(value, "tolist"):  # np.int64(3), np.array([...])
        return json_safe(value.tolist())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(item) for item in value]
    return value


def write_csv(
    path: Path,
    table: pd.DataFrame,
    check: Callable[[Path], None] | None = None,
    replace: bool = True,
    **to_csv: Any,
) -> Path:
    """A table as CSV (pandas' to_csv options: index, float_format, date_format, ...); `check`
    and `replace` as for write_file."""
    return write_file(path, lambda temporary: table.to_csv(temporary, **to_csv), check, replace)


def csv_text(table: pd.DataFrame, **to_csv: Any) -> str:
    """A table as CSV text, for printing (nothing is written)."""
    return table.to_csv(None, **to_csv)


def write_figure(path: Path, figure: Any, **savefig: Any) -> Path:
    """A matplotlib figure as PNG, with our mark in its metadata (names.PNG_METADATA)."""
    from lstm_forecast.files.names import PNG_METADATA

    options = {"format": "png", "metadata": PNG_METADATA} | savefig
    return write_file(path, lambda temporary: figure.savefig(temporary, **options))


def figure_bytes(figure: Any, **savefig: Any) -> bytes:
    """A matplotlib figure as PNG bytes, for embedding (nothing is written)."""
    import io

    buffer = io.BytesIO()
    figure.savefig(buffer, **({"format": "png"} | savefig))
    return buffer.getvalue()


def write_model(path: Path, model: Any) -> Path:
    """A Keras model in its native format; inside a staged directory, which makes it atomic
    (Keras wants the .keras suffix, so it cannot be saved to a temporary name)."""
    with writing(path):
        model.save(path)
    return Path(path)


def make_directory(directory: Path) -> Path:
    """A long-lived directory of ours (a tune study, resumed in place), made if missing."""
    Path(directory).mkdir(parents=True, exist_ok=True)
    return Path(directory)


def write_marker(directory: Path, kind: str, **fields: Any) -> Path:
    """The marker that makes `directory` ours (names.marker)."""
    return write_json(Path(directory) / MARKER_FILE, marker(kind, **fields))


def current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
