"""Where a `tune` study lives: its output directory (new, empty, or one of ours to resume) and its
Optuna storage (a journal file in that directory, or a database shared by workers on several
machines, with heartbeats so a killed worker's trial is retried)."""

from __future__ import annotations

import json
import re
import time
import warnings
from pathlib import Path

from lstm_forecast.errors import ConfigError, OutputError
from lstm_forecast.files.names import JOURNAL_FILE, MARKER_FILE, STUDY_FILE, TRIALS_FILE, is_marker
from lstm_forecast.files.read import read_bytes, read_json
from lstm_forecast.files.write import check_parent

KIND = "tune"
# RDB storages: a worker's heartbeat; a trial without one for GRACE_SECONDS is failed and, up to
# MAX_RETRY times, enqueued again with the same parameters (a killed worker loses only that trial)
HEARTBEAT_SECONDS = 30
GRACE_SECONDS = 120
MAX_RETRY = 2
CREATE_ATTEMPTS = 3  # opening a new database: workers may race to create its tables
# what a tune directory may hold: our files, Optuna's journal and its lock, the lock of a worker's
# next trial (trials.NextTrialLock), atomic-write temporaries
TUNE_FILE = re.compile(
    r"^(run\.json|trials\.csv|best\.toml|study\.json|history\.png|importances\.png"
    r"|journal\.log(\.lock)?|journal\.log\.damaged-\d{8}T\d{6}|next-trial\.lock|report\.html"
    r"|\..+\.tmp)$"
)


def check_tune_directory(out_dir: Path) -> None:
    """A new or empty directory, or one of our tune directories (resumed); else OutputError."""
    check_parent(out_dir, "tune directory")
    if not out_dir.exists():
        return
    if not out_dir.is_dir():
        raise OutputError(f"{out_dir}: is a file, not a directory; choose another --out")
    marker = out_dir / MARKER_FILE
    if marker.exists():
        content = read_json(marker, object, remedy="choose another --out")
        if not is_marker(content, KIND):
            raise OutputError(
                f"{out_dir}: holds a {_kind(content)} directory, not a tune "
                "study; choose another --out"
            )
    strangers = [entry.name for entry in out_dir.iterdir() if not TUNE_FILE.match(entry.name)]
    if strangers:
        raise OutputError(
            f"{out_dir}: holds {strangers[0]!r}, not a file of `lstm-forecast tune`; "
            "choose another --out"
        )


def check_same_storage(out_dir: Path, study_name: str, shown: str) -> None:
    """A tune directory resumes with the study and storage it was started with (run.json names
    them): another --study or --storage would start a new study whose tables replace the old
    one's. And a directory holding results whose journal is gone or empty (deleted, emptied) would
    start afresh over them: refused, so what is left of the study is never overwritten."""
    marker = out_dir / MARKER_FILE
    if not marker.exists():
        return
    content = read_json(marker, object, remedy="choose another --out")
    study, storage = content.get("study"), content.get("storage")
    if isinstance(study, str) and study != study_name:
        raise OutputError(
            f"{out_dir}: holds study {study!r}, not {study_name!r}; resume it with --study "
            f"{study}, or choose another --out for a new study"
        )
    if isinstance(storage, str) and storage != shown:
        how = "without --storage" if storage == JOURNAL_FILE else f"with --storage {storage}"
        raise OutputError(
            f"{out_dir}: its study is stored in {storage}, not {shown}; resume it {how}, or "
            "choose another --out for a new study"
        )
    journal = out_dir / JOURNAL_FILE
    results = [name for name in (TRIALS_FILE, STUDY_FILE) if (out_dir / name).exists()]
    if shown == JOURNAL_FILE and results and not _has_records(journal):
        state = "is empty" if journal.exists() else "is missing"
        raise OutputError(
            f"{journal}: {state}, yet {out_dir} holds the study's {results[0]}: resuming would "
            "start a new study over its results; restore journal.log from a copy (a "
            "journal.log.damaged-* beside it, if any), or choose another --out"
        )


def _has_records(journal: Path) -> bool:
    return journal.exists() and bool(read_bytes(journal).strip())


def open_storage(out_dir: Path, storage_url: str | None, report=lambda line: None):
    """The database at `storage_url`, or the journal file in `out_dir`, checked first (and its
    cut last line repaired, a copy kept) under the lock Optuna appends with."""
    import optuna

    if storage_url:
        return rdb_storage(storage_url)
    from optuna.storages.journal import JournalFileBackend, JournalFileSymlinkLock

    path = out_dir / JOURNAL_FILE
    lock = JournalFileSymlinkLock(str(path))
    if path.exists():
        lock.acquire()  # no worker of this study appends while the journal is checked
        try:
            check_journal(path, report)
        finally:
            lock.release()
    try:  # Optuna replays every record here
        return optuna.storages.JournalStorage(JournalFileBackend(str(path), lock))
    except Exception as e:  # an unknown operation is an AssertionError, a missing field a KeyError
        raise OutputError(
            f"{path}: Optuna cannot replay its records ({type(e).__name__}: {e}); restore "
            "journal.log from a copy, or start another study (--out or --study)"
        ) from e


def check_journal(path: Path, report=lambda line: None) -> None:
    """A study's journal as Optuna reads it: one JSON record per line. A last line cut short (a
    crash or a full disk mid-write) would have the next record appended onto it, and the study
    would no longer read: it is dropped, after a copy of the whole file is kept beside it. Any
    other damage is refused in one line, and nothing is written."""
    data = read_bytes(path)
    remedy = "restore journal.log from a copy, or start another study (--out or --study)"
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise OutputError(
            f"{path}: not an Optuna journal (not UTF-8 text at byte {e.start}); {remedy}"
        ) from None
    *complete, tail = text.split("\n")
    for number, line in enumerate(complete, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError as e:
            raise OutputError(f"{path}: line {number} is damaged ({e}); {remedy}") from None
        if not isinstance(record, dict) or "op_code" not in record:
            raise OutputError(f"{path}: line {number} is not an Optuna journal record; {remedy}")
    if tail:  # the last record was cut before its newline
        from datetime import datetime

        from lstm_forecast.files.write import write_bytes

        copy = path.with_name(f"{path.name}.damaged-{datetime.now():%Y%m%dT%H%M%S}")
        write_bytes(copy, data)
        write_bytes(path, data[: len(data) - len(tail.encode("utf-8"))])
        report(
            f"{path}: its last record was cut short (a crash or a full disk); dropped it and "
            f"resumed from the {len(complete)} complete records (the whole file is kept in "
            f"{copy.name})"
        )


def rdb_storage(url: str):
    """A database storage with heartbeats: a killed worker's trial is failed, then retried."""
    import inspect

    import optuna

    retry = getattr(optuna.storages, "RetryHeartbeatStaleTrialCallback", None)
    retry = retry or optuna.storages.RetryFailedTrialCallback  # Optuna < 4.9
    callback = (
        "heartbeat_stale_trial_callback"
        if "heartbeat_stale_trial_callback"
        in inspect.signature(optuna.storages.RDBStorage).parameters
        else "failed_trial_callback"
    )
    for attempt in range(CREATE_ATTEMPTS):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                return optuna.storages.RDBStorage(
                    url,
                    heartbeat_interval=HEARTBEAT_SECONDS,
                    grace_period=GRACE_SECONDS,
                    **{callback: retry(max_retry=MAX_RETRY)},
                )
        except (ImportError, ModuleNotFoundError) as e:
            raise ConfigError(
                f"--storage {hide_password(url)}: {e}; install the database driver, e.g. "
                'pip install -e ".[tune-postgres]"'
            ) from e
        except Exception as e:  # SQLAlchemy's connection, URL and schema errors
            # workers started together on a new database race to create Optuna's tables: the
            # loser's CREATE fails on what the winner just made; the next attempt finds them
            if attempt + 1 == CREATE_ATTEMPTS or "already exists" not in str(e):
                raise ConfigError(
                    f"--storage {hide_password(url)}: cannot open the database "
                    f"({first_line(getattr(e, 'orig', None) or e)}); check the URL, that the "
                    "server runs, and that the user may connect"
                ) from e
            time.sleep(1 + attempt)


def first_line(error: BaseException) -> str:
    """A database driver's message without its detail lines and SQLAlchemy's background link."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[0] if lines else type(error).__name__


def hide_password(url: str) -> str:
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not a URL SQLAlchemy reads: show nothing after the scheme
        return url.split("://")[0] + "://..."


def _kind(content) -> str:
    kind = content.get("kind") if isinstance(content, dict) else None
    return kind if isinstance(kind, str) else "foreign"
