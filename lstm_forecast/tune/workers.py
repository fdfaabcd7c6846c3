"""`tune --jobs N`: N worker processes on one machine run the trials of one study side by side.

A small LSTM leaves cores idle: the fast trainer cuts each batch into one shard per core, but
between its graph calls (Adam's update after the shards, the fold's calibration and forecasts,
Python) one core waits. Two workers, one per core, ran the same 12 trials in 0.72 of the time
one worker took on both cores (benchmarks/parallel_trials.py), so the helpers are processes,
each pinned to its share of the cores (its shards and forecast threads follow the share:
model.backend.available_cores). They share the study through its storage, as workers on
several machines do: the journal file's lock, or the database. This process is the first
worker; it writes the final tables once the helpers have ended.

Processes rather than threads: Keras models, the model pool and TensorFlow's tracing are not
made to be shared by threads, and a process that dies takes only its running trial with it
(a journal-file study marks it failed on the next start: study.free_dead_local_trials).
"""

from __future__ import annotations

import signal
import socket
import sys
from dataclasses import dataclass
from pathlib import Path

from lstm_forecast.config.schema import Config
from lstm_forecast.errors import ConfigError, LstmForecastError
from lstm_forecast.model.backend import (
    affinity,
    available_cores,
    core_shares,
    pin,
    sigint_ignored,
)
from lstm_forecast.tune.search import TuneSettings
from lstm_forecast.tune.trials import frame_reader, optimize, pruner, quiet, sampler

JOIN_POLL_S = 0.5  # how often the first worker looks whether its helpers have ended
MAX_DEFAULT_JOBS = 4  # --jobs by default: one per core, up to this (each holds TensorFlow)


def check_jobs(jobs: object) -> None:
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ConfigError(f"--jobs must be a whole number of at least 1, got {jobs!r}")
    if jobs > available_cores():
        raise ConfigError(
            f"--jobs {jobs}: this machine gives the process {available_cores()} core(s); "
            "a worker per core at most (more would only take turns on them)"
        )


@dataclass(frozen=True)
class StudyPlace:
    """Where a worker finds the study it joins, and what it runs: picklable, for a helper."""

    base: Config
    tune: TuneSettings
    out_dir: Path
    total: int
    storage_url: str | None
    study_name: str


class Helpers:
    """The jobs - 1 helper processes of a study, started on entry and waited for on exit. When
    this worker stops (Ctrl-C, an error), the helpers are asked to stop after their epoch."""

    def __init__(self, jobs: int, place: StudyPlace, stop, report=lambda line: None) -> None:
        self.jobs, self.place, self.stop, self.report = jobs, place, stop, report
        self.processes: list = []
        self.names: tuple[str, ...] = ()
        self._cores: set[int] = set()

    def __enter__(self) -> Helpers:
        if self.jobs <= 1:
            return self
        import multiprocessing

        # spawn, not fork: TensorFlow's threads do not survive a fork
        context = multiprocessing.get_context("spawn")
        self._cores = affinity()
        shares = core_shares(self.jobs)
        self._event = context.Event()
        self.processes = [
            context.Process(
                target=_helper,
                args=(share, self.place, self._event),
                name=f"tune-worker-{n}",
                daemon=True,  # ended with this process however it ends (a helper starts none)
            )
            for n, share in enumerate(shares[1:], start=2)
        ]
        with sigint_ignored():  # inherited: a Ctrl-C while a helper starts reaches only this one
            for process in self.processes:
                process.start()
        self.names = tuple(f"{socket.gethostname()}:{process.pid}" for process in self.processes)
        if "tensorflow" not in sys.modules:  # its thread pools start inside the share
            pin(shares[0])  # (pools started before would keep every core: then none is pinned)
        return self

    def __exit__(self, kind, error, traceback) -> bool:
        if not self.processes:
            return False
        if error is not None or self.stop():
            self._event.set()  # the helpers end their trial after its epoch, as this one did
        try:
            while any(process.is_alive() for process in self.processes):
                for process in self.processes:
                    process.join(JOIN_POLL_S)
                if self.stop():
                    self._event.set()
                if getattr(self.stop, "aborted", False):  # a second Ctrl-C caught in a __del__
                    raise KeyboardInterrupt
        except BaseException:  # a second Ctrl-C: abort the helpers too
            for process in self.processes:
                process.terminate()
            raise
        finally:
            pin(self._cores)
        if error is None and self._event.is_set():  # Ctrl-C while this worker waited for them
            raise KeyboardInterrupt
        for process in self.processes:
            if process.exitcode:
                self.report(
                    f"worker {socket.gethostname()}:{process.pid} ended with status "
                    f"{process.exitcode}; the trials it finished are in the study"
                )
        return False


def _helper(cores: set[int], place: StudyPlace, event) -> None:
    """A helper process: trials of the study until it holds its total, or `event` is set, or
    the first worker is gone (killed outright: a helper does not go on alone)."""
    import multiprocessing

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    pin(cores)
    parent = multiprocessing.parent_process()

    def report(line: str) -> None:
        print(line, flush=True)

    def stop() -> bool:
        return event.is_set() or (parent is not None and not parent.is_alive())

    try:
        run_helper(place, report, stop)
    except KeyboardInterrupt:  # asked to stop: its running trial ended after an epoch
        return
    except (LstmForecastError, OSError) as e:  # one line, as the CLI's user_errors prints them
        where = f"{e.filename}: " if isinstance(e, OSError) and e.filename else ""
        print(f"error: {where}{e}", file=sys.stderr, flush=True)
        sys.exit(2)


def run_helper(place: StudyPlace, report, stop) -> None:
    """Join the study the first worker opened and run its trials, as that worker does."""
    import optuna

    from lstm_forecast.tune.storage import open_storage

    quiet()
    if stop():
        return
    study = optuna.load_study(
        study_name=place.study_name,
        storage=open_storage(place.out_dir, place.storage_url, report),
        pruner=pruner(place.tune),
        sampler=sampler(place.tune),
    )
    optimize(study, place.base, place.tune, place.out_dir, place.total, place.storage_url,
             frame_reader(), report, stop)  # fmt: skip
