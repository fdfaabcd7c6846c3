"""A directory written whole or not at all: a run, a backtest, a league (staged_directory).

The output is built in a hidden folder beside `--out` and moved into place only when it is
complete, and never over the output of another command that finished first.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from lstm_forecast.errors import OutputError
from lstm_forecast.files.names import as_flag, as_path
from lstm_forecast.files.write import check_new_directory, current_umask, writing


@contextmanager
def staged_directory(directory: Path, overwrite: bool) -> Iterator[Path]:
    """A temporary directory beside `directory`, moved into place only if the block succeeds.

    Nothing is left behind when the block raises (bad data, Ctrl-C, a crash, SIGTERM turned into
    an exception by the CLI). An existing directory of ours is replaced only at the very end.
    """
    directory = as_path(directory, "the directory")
    found = _identity(directory)  # the folder checked below (None: none yet)
    check_new_directory(directory, as_flag(overwrite, "overwrite"))
    with writing(directory):
        directory.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{directory.name}.", dir=directory.parent))
    try:
        with writing(directory):
            # mkdtemp makes it 0700; use the user's umask
            os.chmod(staging, 0o777 & ~current_umask())
        try:
            yield staging
        except OutputError as e:  # a full disk: name --out, not the hidden folder
            if str(staging) not in str(e):
                raise
            raise OutputError(str(e).replace(str(staging), str(directory))) from e
        # two commands writing one --out: the check and the swap under one lock, and the
        # second to finish refuses rather than silently replace the first one's output
        with writing(directory), _locked(directory.parent):
            check_new_directory(directory, overwrite)  # nothing else appeared meanwhile
            if _replaced(directory, found):
                raise OutputError(
                    f"{directory}: written by another command while this one ran; kept that "
                    "one and wrote nothing: run this again, or give another --out"
                )
            if directory.exists():
                parent = directory.parent
                retired = Path(tempfile.mkdtemp(prefix=f".{directory.name}.old.", dir=parent))
                os.replace(directory, retired / directory.name)
                os.replace(staging, directory)
                shutil.rmtree(retired, ignore_errors=True)
            else:
                os.replace(staging, directory)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _replaced(directory: Path, found: tuple[int, int] | None) -> bool:
    """Whether another folder with files now stands where `found` stood (a folder removed
    meanwhile, or an empty one made, is no other command's output: this one is written)."""
    now = _identity(directory)
    return now is not None and now != found and any(directory.iterdir())


def _identity(directory: Path) -> tuple[int, int] | None:
    """The folder's device and inode: a folder put in its place by another writer differs
    (files written inside it, such as predict's forecast.csv, do not change it)."""
    try:
        status = directory.stat()
    except FileNotFoundError:
        return None
    return status.st_dev, status.st_ino


@contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """An exclusive lock on `folder` itself (flock on its descriptor: no lock file is left
    in a user's folder). Where there is none to take (Windows, a file system without locks, a
    folder we may write but not read), the identity check still runs, unlocked."""
    try:
        import fcntl

        descriptor = os.open(folder, os.O_RDONLY)
    except (ImportError, OSError):
        yield
        return
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX)
        except OSError:  # ENOLCK, EOPNOTSUPP: no locks on this file system
            pass
        yield
    finally:
        os.close(descriptor)  # releases the lock
