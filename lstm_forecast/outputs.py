"""Writing outputs without ever losing a user's file.

Every output is checked before any work starts (its folder exists and is writable, it is not a
directory where a file is wanted, it is none of the command's inputs, it does not exist unless
--overwrite was given), then written atomically: into a temporary file or folder beside it, renamed
into place at the end. `--overwrite` replaces a directory only when it is one of ours (it holds our
marker and nothing but files we write) and never `.`, `/`, the home directory or a folder that holds
the current directory; it replaces a file only when we wrote it (carries_our_mark).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from lstm_forecast.errors import OutputError

MARKER_FILE = "run.json"  # every directory we write holds it; its "format" names us
MARKER_FORMAT = "lstm-forecast"
# files a directory of ours may hold besides the marker: the artefacts we write into it and the
# outputs `predict`, `plot` and `report` write there by default
OUR_FILE = re.compile(
    r"^(model\.keras|scaler\.json|config\.toml|metrics\.json|history\.csv|predictions\.csv"
    r"|series\.csv|calibration\.json|folds\.csv|summary\.json|trials\.csv|best\.toml|league\.csv"
    r"|predicted-.*\.(csv|metrics\.json)|forecast.*\.(csv|json|png)|.*\.png|report\.html|gates.*\.csv)$"
)


def is_ours(directory: Path) -> bool:
    """A directory we wrote: our marker, and nothing in it but files we write."""
    try:
        marker = json.loads((directory / MARKER_FILE).read_text())
        entries = list(directory.iterdir())
    except (OSError, ValueError):
        return False
    if not isinstance(marker, dict) or marker.get("format") != MARKER_FORMAT:
        return False
    return all(
        entry.is_file() and (entry.name == MARKER_FILE or OUR_FILE.match(entry.name))
        for entry in entries
    )


PNG_SOFTWARE = "lstm-forecast"  # the PNG "Software" text our figures carry (run_plots)
HTML_GENERATOR = b'<meta name="generator" content="lstm-forecast'  # report.html.j2's head
TABLE_COLUMNS = {"date", "predicted"}  # the columns every table of predict's carries
GATES_COLUMNS = ["layer", "cell", "step", "date", "unit", "gate", "value"]  # gates.csv's header
SIDECAR_KEYS = ({"rmse", "naive_rmse"}, {"horizon", "interval"})  # metrics, forecast JSON


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


# what a backtest, league or tune directory is made of (a run's files are in its checksums)
STUDY_FILES = frozenset({"summary.json", "folds.csv", "league.csv", "predictions.csv",
                         "config.toml", "trials.csv", "best.toml", "study.json", "journal.log"})  # fmt: skip


def own_files(directory: Path) -> frozenset[str]:
    """The names of the files that make up a directory we wrote (none for any other folder):
    no output of another command may replace them."""
    try:
        marker = json.loads((directory / MARKER_FILE).read_text())
    except (OSError, ValueError):
        return frozenset()
    if not isinstance(marker, dict) or marker.get("format") != MARKER_FORMAT:
        return frozenset()
    checksums = marker.get("checksums")
    names = set(checksums) if isinstance(checksums, dict) else set()
    return frozenset({MARKER_FILE, *names, *(STUDY_FILES if marker.get("kind") != "run" else ())})


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


def write_file(path: Path, write: Callable[[Path], object]) -> Path:
    """Call write(temporary path) beside `path`, then rename it into place (atomic)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(handle)
    try:
        write(Path(temporary))
        os.chmod(temporary, 0o666 & ~_umask())
        os.replace(temporary, path)
    finally:
        Path(temporary).unlink(missing_ok=True)
    return path


def write_text(path: Path, text: str) -> Path:
    return write_file(path, lambda temporary: temporary.write_text(text))


@contextmanager
def staged_directory(directory: Path, overwrite: bool) -> Iterator[Path]:
    """A temporary directory beside `directory`, moved into place only if the block succeeds.

    Nothing is left behind when the block raises (bad data, Ctrl-C, a crash, SIGTERM turned into
    an exception by the CLI). An existing directory of ours is replaced only at the very end.
    """
    directory = Path(directory)
    check_new_directory(directory, overwrite)
    directory.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{directory.name}.", dir=directory.parent))
    try:
        os.chmod(staging, 0o777 & ~_umask())  # mkdtemp makes it 0700; use the user's umask
        yield staging
        check_new_directory(directory, overwrite)  # nothing else appeared meanwhile
        if directory.exists():
            retired = Path(tempfile.mkdtemp(prefix=f".{directory.name}.old.", dir=directory.parent))
            os.replace(directory, retired / directory.name)
            os.replace(staging, directory)
            shutil.rmtree(retired, ignore_errors=True)
        else:
            os.replace(staging, directory)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
