"""`tune --jobs N`: N worker processes on one machine run the trials of one study side by side.

A small LSTM leaves cores idle: the fast trainer cuts each batch into one shard per core, but
between its graph calls (Adam's update after the shards, the fold's calibration and forecasts,
Python) one core waits. Two workers, one per core, ran the same 12 trials in 0.72 of the time
one worker took on both cores (benchmarks/parallel_trials.py), so the helpers are processes, each pinned to its share of the cores (its shards and forecast threads
follow the share: model.backend.available_cores). They share the study through its storage, as
workers on several machines do: the journal file's lock, or the database. This process is the
first worker; it writes the final tables once the helpers have ended.

Processes rather than threads: Keras models, the model pool and TensorFlow's tracing are not
made to be shared by threads, and a process that dies takes only its running trial with it
(a journal-file study marks it failed on the next start: study.free_dead_local_trials).
"""

from __future__ import annotations

import signal
import socket
import sys
from pathlib import Path

from lstm_forecast.config.schema import Config
from lstm_forecast.errors import ConfigError, LstmForecastError
from lstm_forecast.model.backend import affinity, available_cores, core_shares, pin
from lstm_forecast.tune.search import TuneSettings
from lstm_forecast.tune.trials import frame_reader, optimize, pruner, quiet, sampler

JOIN_POLL_S = 0.5  # how often the first worker looks whether its helpers have ended


def check_jobs(jobs: object) -> None:
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ConfigError(f"--jobs must be a whole number of at least 1, got {jobs!r}")
    if jobs > available_cores():
        raise ConfigError(
            f"--jobs {jobs}: this machine gives the process {available_cores()} core(s); "
            "a worker per core at most (more would only take turns on them)"
        )


class Helpers:
    """The jobs - 1 helper processes of a study, started on entry and waited for on exit. When
    this worker stops (Ctrl-C, an error), the helpers are asked to stop after their epoch."""

    def __init__(
        self,
        jobs: int,
        base: Config,
        tune: TuneSettings,
        out_dir: Path,
        total: int,
        storage_url: str | None,
        study_name: str,
        stop,
        report=lambda line: None,
    ) -> None:
        self.jobs, self.stop, self.report = jobs, stop, report
        self.arguments = dict(
            base=base,
            tune=tune,
            out_dir=out_dir,
            total=total,
            storage_url=storage_url,
            study_name=study_name,
        )
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
                args=(share, self.arguments, self._event),
                name=f"tune-worker-{n}",
                daemon=True,  # ended with this process however it ends (a helper starts none)
            )
            for n, share in enumerate(shares[1:], start=2)
        ]
        for process in self.processes:
            process.start()
        self.names = tuple(f"{socket.gethostname()}:{process.pid}" for process in self.processes)
        pin(shares[0])
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


def _helper(cores: set[int], arguments: dict, event) -> None:
    """A helper process: trials of the study until it holds its total, or `event` is set."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the first worker, which asks
    pin(cores)

    def report(line: str) -> None:
        print(line, flush=True)

    try:
        run_helper(**arguments, report=report, stop=event.is_set)
    except KeyboardInterrupt:  # asked to stop: its running trial ended after an epoch
        return
    except LstmForecastError as e:
        print(f"error: {e}", file=sys.stderr, flush=True)
        sys.exit(2)


def run_helper(
    base: Config,
    tune: TuneSettings,
    out_dir: Path,
    total: int,
    storage_url: str | None,
    study_name: str,
    report,
    stop,
) -> None:
    """Join the study the first worker opened and run its trials, as that worker does."""
    import optuna

    from lstm_forecast.tune.storage import open_storage

    quiet()
    study = optuna.load_study(
        study_name=study_name,
        storage=open_storage(out_dir, storage_url, report),
        pruner=pruner(tune),
        sampler=sampler(tune),
    )
    optimize(study, base, tune, out_dir, total, storage_url, frame_reader(), report, stop)
