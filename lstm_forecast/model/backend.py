"""Import Keras (and TensorFlow under it) quietly, only when a command needs it; and the cores
this process may use, dealt out to worker processes (tune --jobs, a league's series)."""

from __future__ import annotations

import logging
import os
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager

RETRACING_WARNING = "triggered tf.function retracing"


def import_keras():
    """Return the keras module, hiding the C++ log lines TensorFlow prints while it loads.

    TensorFlow's native start-up messages (oneDNN, CUDA probing) are written to file descriptor 2
    before its log level applies, so stderr is pointed at /dev/null for the import alone. Python
    errors raised by the import are still shown: they are printed after stderr is restored.
    """
    if "keras" in sys.modules:
        _quiet_retracing()
        return sys.modules["keras"]
    sys.stderr.flush()
    saved_stderr = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        import keras
        import tensorflow  # noqa: F401  (loaded here so its start-up chatter is hidden)
    finally:
        os.dup2(saved_stderr, 2)
        os.close(saved_stderr)
        os.close(devnull)
    _quiet_retracing()
    return keras


class _NotRetracing(logging.Filter):
    """Drops TensorFlow's "N out of the last N calls to <function> triggered tf.function
    retracing" warning.

    Its heuristic counts traces per Python function, across tf.function objects. A backtest
    builds a new model per fold, and each model needs its own trace of the same code (the fast
    trainer's epoch, the compiled forecast loop, Keras's predict step): a new trace per new
    model is expected, not a shape or Python-value mistake, so the warning only alarms users.
    Every other TensorFlow message passes.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return RETRACING_WARNING not in record.getMessage()


def _quiet_retracing() -> None:
    logger = logging.getLogger("tensorflow")
    if not any(isinstance(f, _NotRetracing) for f in logger.filters):
        logger.addFilter(_NotRetracing())


def import_tensorflow():
    """Return the tensorflow module, loaded as quietly as import_keras() loads it."""
    import_keras()
    return sys.modules["tensorflow"]


def available_cores() -> int:
    """The cores this process may run on: its CPU affinity (taskset, a tune worker's share,
    a container's cpuset), which os.cpu_count() ignores, and no more than a cgroup CPU quota
    (`docker --cpus 2`) allows; at least 1."""
    cores = len(affinity())
    return max(1, min(cores, _cpu_quota() or cores))


def _cpu_quota() -> int:
    """The cgroup v2 CPU quota in whole cores, rounded up (0 = none, or no cgroup v2)."""
    try:
        with open("/sys/fs/cgroup/cpu.max") as limits:  # closed: no ResourceWarning
            quota, period = limits.read().split()[:2]
    except (OSError, ValueError):
        return 0
    return 0 if quota == "max" else max(1, -(-int(quota) // int(period)))


def affinity() -> set[int]:
    """The cores this process may run on (every core where there is no affinity API)."""
    try:
        return set(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return set(range(os.cpu_count() or 1))


def core_shares(jobs: int) -> list[set[int]]:
    """The process's cores dealt out to `jobs` worker processes: disjoint shares while there are
    enough cores, one core each (in turn) beyond."""
    cores = sorted(affinity())
    if jobs >= len(cores):
        return [{cores[index % len(cores)]} for index in range(jobs)]
    return [set(cores[index::jobs]) for index in range(jobs)]


def pin(cores: set[int]) -> None:
    """Run this process's calling thread, and the threads it starts later (TensorFlow's pools
    among them), on `cores` only; best effort: without the affinity API, nothing."""
    try:
        os.sched_setaffinity(0, cores)
    except (AttributeError, OSError):
        pass


@contextmanager
def sigint_ignored() -> Iterator[None]:
    """SIGINT ignored in this process meanwhile, and so in the processes it starts (Python
    keeps an inherited SIG_IGN): their Ctrl-C is the first worker's to handle."""
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
