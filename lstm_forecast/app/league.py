"""Backtests of many series at once, in parallel worker processes, summed up in a league table.

`lstm-forecast backtest --data A.csv --data B.csv` (or a folder of CSVs): every series is read and
checked here first, then each one's walk-forward backtest runs in a worker process (`--jobs`
of them, each pinned to its own share of the cores: two series took 0.86 of the time they took
when each worker's trainer spread over both cores, as in benchmarks/results/parallel_trials.md)
or on a Dask cluster (joblib's Dask backend, `--scheduler tcp://HOST:8786`; the workers get the
prices, not the file names, so they need no shared disk).
The table: one row per series with the pooled out-of-sample RMSE of the model and of the
baselines, the skill, the Diebold-Mariano p-value and the interval coverage.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from lstm_forecast.config.load import config_to_toml
from lstm_forecast.config.schema import Config
from lstm_forecast.errors import ConfigError, DataError, LstmForecastError
from lstm_forecast.evaluate.pooled import (
    DEFAULT_BASELINE,
    pooled_dm,
    pooled_errors,
    skill_from_errors,
)

KIND = "league"
COLUMNS = ("series", "rows", "rmse", "persistence_rmse", "baseline", "baseline_rmse", "skill",
           "dm_pvalue", "verdict", "coverage", "width", "winkler", "naive_winkler",
           "one_step_coverage", "one_step_width", "one_step_winkler", "seconds")  # fmt: skip
# the bands' columns: the configured band of each fold's recursive forecast (coverage, mean
# width, Winkler score over all its steps; the naive band's Winkler beside it), and of the
# one-step rows (predictions.csv's lower and upper)

BAND_DETAIL = ("width", "naive_winkler", "one_step_coverage", "one_step_width",
               "one_step_winkler")  # in league.csv, not in the printed table  # fmt: skip

Report = Callable[[str], object]


@dataclass(frozen=True)
class LeagueResult:
    table: pd.DataFrame  # one row per series, best skill first (COLUMNS)
    predictions: pd.DataFrame  # series, fold, date, actual, predicted, persistence, lower, ..
    paths: pd.DataFrame | None = None  # series, fold, step, date, actual, predicted, bands
    out_dir: Path | None = None


def series_files(paths: list[Path]) -> list[Path]:
    """The CSVs named, a folder standing for the *.csv files in it (sorted)."""
    files = []
    for path in map(Path, paths):
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.suffix.lower() == ".csv" and p.is_file())
            if not found:
                raise DataError(
                    f"{path}: no .csv file in this folder; pass CSVs or a folder of them"
                )
            files.extend(found)
        else:
            files.append(path)
    return files


def series_names(files: list[Path]) -> list[str]:
    """File stems, or the path when two files share a stem."""
    stems = [file.stem for file in files]
    return [
        stem if stems.count(stem) == 1 else str(file)
        for stem, file in zip(stems, files, strict=True)
    ]


def backtest_series(
    name: str,
    frame: pd.DataFrame,
    config: Config,
    folds: int,
    fold_length: int,
    source: str,
    baseline: str = DEFAULT_BASELINE,
) -> tuple[dict, pd.DataFrame, pd.DataFrame]:
    """One series' walk-forward backtest (runs in a worker): its league row, predictions and
    recursive paths."""
    from lstm_forecast.backtest.walk import walk_forward

    started = time.perf_counter()
    result = walk_forward(config, frame, folds, fold_length, source)
    predictions = result.predictions
    model_errors, baseline_errors = pooled_errors(predictions, baseline)
    persistence_errors = pooled_errors(predictions, "persistence")[1]
    test = pooled_dm(predictions, baseline)
    row = {
        "series": name,
        "rows": len(model_errors),
        "rmse": _rmse(model_errors),
        "persistence_rmse": _rmse(persistence_errors),
        "baseline": baseline,
        "baseline_rmse": _rmse(baseline_errors),
        "skill": skill_from_errors(model_errors, baseline_errors),
        "dm_pvalue": test.pvalue,
        "verdict": test.verdict,
        **_band_columns(result, config),
        "seconds": time.perf_counter() - started,
    }
    return row, predictions.assign(series=name), result.paths.assign(series=name)


def _band_columns(result, config: Config) -> dict:
    """The league row's band columns (COLUMNS) of one series' backtest."""
    from lstm_forecast.backtest.bands import configured_band
    from lstm_forecast.intervals.scores import band_scores

    folds, rows = result.folds, result.predictions
    one_step = band_scores(rows["actual"], rows["lower"], rows["upper"], config.forecast.level)
    configured = configured_band(config)
    configured = configured if f"{configured}_width" in folds else None
    nan = float("nan")
    return {
        "coverage": float(folds["coverage"].mean()),
        "width": float(folds[f"{configured}_width"].mean()) if configured else nan,
        "winkler": float(folds[f"{configured}_winkler"].mean()) if configured else nan,
        "naive_winkler": float(folds["naive_winkler"].mean()),
        "one_step_coverage": one_step["coverage"],
        "one_step_width": one_step["width"],
        "one_step_winkler": one_step["winkler"],
    }


def _rmse(errors: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(errors)))) if len(errors) else float("nan")


def league(
    config: Config,
    frames: dict[str, tuple[pd.DataFrame, str]],
    folds: int,
    fold_length: int,
    jobs: int | None = None,
    scheduler: str | None = None,
    report: Report = lambda line: None,
    baseline: str = DEFAULT_BASELINE,
) -> LeagueResult:
    """Backtest every series of `frames` ({name: (frame, source)}) in parallel; computing only.

    jobs: worker processes on this machine (default: the cores); scheduler: a Dask scheduler
    address, whose cluster runs the backtests instead (needs the `dask` extra).
    """
    from joblib import Parallel, delayed, parallel_config

    from lstm_forecast.model.backend import available_cores

    jobs = available_cores() if jobs is None else jobs
    if jobs < 1:
        raise ConfigError(f"--jobs must be at least 1, got {jobs}")
    calls = [
        (name, frame, config, folds, fold_length, source, baseline)
        for name, (frame, source) in frames.items()
    ]
    rows, tables, paths = [], [], []

    def collect(results) -> None:
        for row, predictions, path in results:
            rows.append(row)
            tables.append(predictions)
            paths.append(path)
            report(league_line(row))

    if scheduler:
        client = _dask_client(scheduler)
        try:
            with parallel_config(backend="dask", n_jobs=len(calls)):
                tasks = [delayed(backtest_series)(*call) for call in calls]
                collect(Parallel(return_as="generator_unordered")(tasks))
        finally:
            client.close()
    else:
        with closing(on_pinned_workers(backtest_series, calls, min(jobs, len(calls)))) as results:
            collect(results)
    table = pd.DataFrame(rows, columns=list(COLUMNS)).sort_values(
        ["skill", "series"], ascending=[False, True], na_position="last", ignore_index=True
    )
    order = {name: index for index, name in enumerate(frames)}
    predictions = pd.concat(tables, ignore_index=True).sort_values(
        ["series", "fold", "date"], key=lambda c: c.map(order) if c.name == "series" else c
    )
    columns = ["series", "fold", "date", "actual", "predicted", "persistence"]
    extra = [c for c in predictions.columns if c not in columns]
    path_table = pd.concat(paths, ignore_index=True).sort_values(
        ["series", "fold", "step"], key=lambda c: c.map(order) if c.name == "series" else c
    )
    path_table = path_table[["series", *(c for c in path_table if c != "series")]]
    return LeagueResult(
        table=table,
        predictions=predictions[columns + extra].reset_index(drop=True),
        paths=path_table.reset_index(drop=True),
    )


def on_pinned_workers(function: Callable, calls: list[tuple], jobs: int):
    """function(*call) for each call in `jobs` worker processes, each pinned to its own share of
    the cores (model.backend.core_shares); the results as they finish. A failure, Ctrl-C (the
    workers ignore it: it is this process's to handle) or closing the generator cancels the
    calls not started and ends the workers."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed
    from concurrent.futures.process import BrokenProcessPool

    from lstm_forecast.model.backend import core_shares, sigint_ignored

    context = multiprocessing.get_context("spawn")  # TensorFlow's threads do not survive a fork
    shares = context.SimpleQueue()
    for share in core_shares(jobs):
        shares.put(share)
    pool = ProcessPoolExecutor(jobs, context, initializer=_take_share, initargs=(shares,))
    try:
        with sigint_ignored():  # the workers start as the calls are submitted
            futures = [pool.submit(function, *call) for call in calls]
        for future in as_completed(futures):
            yield future.result()
    except BaseException as e:
        running = list((pool._processes or {}).values())  # noqa: SLF001 - no public way to end them
        pool.shutdown(wait=False, cancel_futures=True)
        for process in running:
            process.terminate()
        if isinstance(e, BrokenProcessPool):  # a worker killed (out of memory?), no error of ours
            raise LstmForecastError(
                f"a worker process ended abruptly ({e}); if the machine ran out of memory, run "
                f"again with fewer --jobs than {jobs} (each worker holds TensorFlow)"
            ) from None
        raise
    pool.shutdown()


def _take_share(shares) -> None:
    """A worker's initializer: the next share of the cores, for the rest of its life."""
    import signal

    from lstm_forecast.model.backend import pin

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    pin(shares.get())


def _dask_client(scheduler: str):
    try:
        from distributed import Client
    except ImportError as e:
        raise ConfigError(
            f'--scheduler needs Dask\'s distributed scheduler: pip install -e ".[dask]" ({e})'
        ) from e
    try:
        return Client(scheduler, timeout=30)
    except (OSError, TimeoutError) as e:
        raise ConfigError(f"--scheduler {scheduler}: cannot reach the Dask scheduler ({e})") from e


def league_line(row: dict) -> str:
    """One finished series, as printed while the league runs."""
    coverage = row["coverage"]
    return (
        f"{row['series']}: RMSE {row['rmse']:.4g}  {row['baseline']} {row['baseline_rmse']:.4g}  "
        f"skill {row['skill']:+.3f}  DM p {row['dm_pvalue']:.3f}  {row['verdict']} {row['baseline']}"
        + (f"  coverage {100 * coverage:.0f} %" if coverage == coverage else "")
        + f"  ({row['seconds']:.0f} s)"
    )


# ---- the application layer: read the series, write the league ----------------------------------


def run_league(
    config: Config,
    paths: list[Path],
    folds: int,
    fold_length: int,
    out_dir: str | Path,
    overwrite: bool = False,
    jobs: int | None = None,
    scheduler: str | None = None,
    report: Report = lambda line: None,
) -> LeagueResult:
    """Read and check every series, backtest them all, write league.csv, predictions.csv,
    paths.csv, config.toml and the marker into `out_dir` (atomically, at the end)."""
    import dataclasses

    from lstm_forecast.backtest.walk import fold_origins
    from lstm_forecast.files.names import CONFIG_FILE, LEAGUE_FILE, PATHS_FILE, PREDICTIONS_FILE
    from lstm_forecast.files.staging import staged_directory
    from lstm_forecast.files.write import (
        check_new_directory,
        write_csv,
        write_marker,
        write_text,
    )
    from lstm_forecast.prep.inputs import load_split, resolve_paths
    from lstm_forecast.prep.windows import Inputs

    out_dir = Path(out_dir)
    files = series_files(paths)
    check_new_directory(out_dir, overwrite, files)
    frames = {}
    for name, file in zip(series_names(files), files, strict=True):
        series_config = resolve_paths(
            dataclasses.replace(
                config, data=dataclasses.replace(config.data, path=str(file), test_path="")
            )
        )
        split, sources = load_split(series_config)
        history_rows = Inputs.from_config(config).history_rows + 1
        fold_origins(len(split.frame), folds, fold_length, history_rows, sources[0].source)
        frames[name] = (split.frame, sources[0].source)
    report(f"{len(frames)} series, {folds} folds of {fold_length} rows each")
    result = league(config, frames, folds, fold_length, jobs, scheduler, report)
    with staged_directory(out_dir, overwrite) as staging:
        write_csv(staging / LEAGUE_FILE, result.table, index=False, float_format="%.6g")
        predictions = result.predictions
        write_csv(staging / PREDICTIONS_FILE, predictions, index=False, float_format="%.6f")
        write_csv(staging / PATHS_FILE, result.paths, index=False, float_format="%.6f")
        write_text(staging / CONFIG_FILE, config_to_toml(config))
        series = {name: source for name, (_, source) in frames.items()}
        write_marker(staging, KIND, series=series)
    return dataclasses.replace(result, out_dir=out_dir)


def table_lines(table: pd.DataFrame) -> list[str]:
    """The league table as text, best skill first."""
    shown = table.assign(
        dm_pvalue=table["dm_pvalue"].map(lambda p: "n/a" if p != p else f"{p:.3f}"),
        coverage=table["coverage"].map(lambda c: "-" if c != c else f"{100 * c:.0f} %"),
        skill=table["skill"].map(lambda s: f"{s:+.3f}"),
    ).drop(columns=["seconds", "verdict", *BAND_DETAIL])
    return shown.to_string(index=False, float_format=lambda x: f"{x:.4g}").splitlines()
