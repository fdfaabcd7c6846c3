"""Any price series a user brings, through the command line: intraday bars with a time zone,
7-day crypto days, month ends, 30-minute bars, irregular data, another date column, a download,
and no stray warnings on the way."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from conftest import ROOT, random_walk
from test_cli import assert_user_error, invoke
from test_fetch import FakeDownload, yahoo_frame


def walk(rows: int, seed: int = 0, start: float = 100.0) -> np.ndarray:
    return np.round(start * np.exp(np.cumsum(np.random.default_rng(seed).normal(0, 0.01, rows))), 6)


def write(path: Path, dates: list[str], prices: np.ndarray, date_column: str = "Date") -> Path:
    pd.DataFrame({date_column: dates, "Close": prices}).to_csv(path, index=False)
    return path


def session_bars(days: int) -> pd.DatetimeIndex:
    """Hourly bars 09:30 .. 15:30 on `days` business days, New York winter time (fixed -05:00)."""
    return pd.DatetimeIndex(
        [
            pd.Timestamp(f"{day.date()} 09:30") + pd.Timedelta(hours=hour)
            for day in pd.bdate_range("2024-01-02", periods=days)
            for hour in range(7)
        ]
    ).tz_localize("UTC-05:00")


def train(tmp_path: Path, tiny_config: Path, data: Path, *options) -> Path:
    out = tmp_path / f"run-{data.stem}"
    result = invoke(
        "train", "--config", tiny_config, "--data", data, "--target", "Close", "--out", out,
        "--quiet", *options,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return out


def forecast(tmp_path: Path, run: Path, steps: int) -> pd.DataFrame:
    out = tmp_path / f"forecast-{run.name}.csv"
    result = invoke("predict", run, "--horizon", steps, "--samples", 3, "--out", out)
    assert result.exit_code == 0, result.output
    return pd.read_csv(out).dropna(subset=["predicted"])


def test_hourly_bars_with_an_offset_keep_their_times_and_forecast_within_sessions(
    tmp_path, tiny_config
):
    index = session_bars(30)
    data = write(tmp_path / "hourly.csv", [t.isoformat() for t in index], walk(len(index)))
    run = train(tmp_path, tiny_config, data)

    saved = pd.read_csv(run / "predictions.csv")
    assert saved["date"].iloc[-1] == "2024-02-12 15:30:00-05:00"  # time and offset kept
    series = pd.read_csv(run / "series.csv")
    assert series["date"].iloc[0] == "2024-01-02 09:30:00-05:00"
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["step_label"] == "1h bar"

    result = invoke("predict", run, "--out", tmp_path / "pred.csv")  # the run's own data
    assert result.exit_code == 0, result.output
    assert "bar before" in result.stdout or "unshifted" in result.stdout  # lag in bars, not days
    table = pd.read_csv(tmp_path / "pred.csv")
    assert table["date"].is_unique and len(table) == len(index)
    assert table["in_sample"].sum() == int(0.9 * len(index))  # the training bars, by timestamp

    future = forecast(tmp_path, run, 10)
    stamps = pd.to_datetime(future["date"], format="ISO8601")
    assert future["date"].str.endswith("-05:00").all()
    assert list(future["date"].iloc[:2]) == [
        "2024-02-13 09:30:00-05:00",
        "2024-02-13 10:30:00-05:00",
    ]
    assert stamps.dt.strftime("%H:%M").between("09:30", "15:30").all()
    assert (stamps.dt.day_of_week < 5).all()
    assert future["date"].iloc[-1] == "2024-02-14 11:30:00-05:00"  # 7 bars, then the next session


def test_seven_day_crypto_data_forecasts_weekends_too(tmp_path, tiny_config):
    dates = pd.date_range("2024-01-01", periods=120, freq="D")  # ends on Sunday 2024-04-29
    data = write(tmp_path / "btc.csv", list(dates.strftime("%Y-%m-%d")), walk(120, start=40_000))
    run = train(tmp_path, tiny_config, data)
    future = forecast(tmp_path, run, 7)
    assert list(future["date"]) == [str(d.date()) for d in pd.date_range("2024-04-30", periods=7)]
    result = invoke("predict", run, "--horizon", 3, "--samples", 0, "--out", tmp_path / "f.csv")
    assert "forecast of 3 days after 2024-04-29" in result.stdout


def test_month_end_data_forecasts_month_ends(tmp_path, tiny_config):
    dates = pd.date_range("2015-01-31", periods=80, freq="ME")
    data = write(tmp_path / "monthly.csv", list(dates.strftime("%Y-%m-%d")), walk(80))
    run = train(tmp_path, tiny_config, data)
    future = forecast(tmp_path, run, 3)
    assert list(future["date"]) == ["2021-09-30", "2021-10-31", "2021-11-30"]
    result = invoke("predict", run, "--horizon", 3, "--samples", 0, "--out", tmp_path / "f.csv")
    assert "forecast of 3 months after 2021-08-31" in result.stdout


def test_thirty_minute_bars_train_then_predict_the_run(tmp_path, tiny_config):
    index = pd.date_range("2024-01-01", periods=300, freq="30min")
    data = write(tmp_path / "m30.csv", list(index.strftime("%Y-%m-%d %H:%M")), walk(300, start=1.1))
    run = train(tmp_path, tiny_config, data)
    result = invoke("predict", run, "--out", tmp_path / "pred.csv")
    assert result.exit_code == 0, result.output
    table = pd.read_csv(tmp_path / "pred.csv")
    assert table["date"].iloc[1] == "2024-01-01 00:30:00" and table["date"].is_unique
    future = forecast(tmp_path, run, 2)
    assert list(future["date"]) == ["2024-01-07 06:00:00", "2024-01-07 06:30:00"]


def test_irregular_data_is_refused_with_the_resample_hint_and_trains_resampled(
    tmp_path, tiny_config
):
    gaps = np.random.default_rng(3).choice([1, 2, 3, 5, 6], size=200)  # no step dominates
    dates = pd.Timestamp("2020-01-01") + pd.to_timedelta(np.cumsum(gaps), unit="D")
    data = write(tmp_path / "odd.csv", list(dates.strftime("%Y-%m-%d")), walk(200))
    out = tmp_path / "run"
    result = invoke("train", "--config", tiny_config, "--data", data, "--target", "Close",
                    "--out", out)  # fmt: skip
    assert_user_error(result, str(data), "no regular step", '[data] resample = "1D"')
    assert not out.exists()

    run = train(tmp_path, tiny_config, data, "--set", 'data.resample="W-FRI"')
    assert "resampled to 'W-FRI'" in invoke(
        "train", "--config", tiny_config, "--data", data, "--target", "Close", "--out",
        tmp_path / "again", "--quiet", "--set", "data.resample=W-FRI",
    ).stdout  # fmt: skip
    future = forecast(tmp_path, run, 2)
    assert (pd.to_datetime(future["date"]).dt.day_name() == "Friday").all()


def test_predict_reads_another_date_column(tmp_path, tiny_config):
    dates = pd.bdate_range("2021-01-01", periods=120)
    prices = walk(120)
    data = write(tmp_path / "train.csv", list(dates.strftime("%Y-%m-%d")), prices)
    run = train(tmp_path, tiny_config, data)
    later = pd.bdate_range(dates[-1] + pd.offsets.BDay(1), periods=20)
    new = write(tmp_path / "new.csv", list(later.strftime("%Y-%m-%d")), walk(20, 1), "When")
    result = invoke("predict", run, "--data", new, "--out", tmp_path / "p.csv")
    assert_user_error(result, "no date column found", "date_column")
    result = invoke(
        "predict", run, "--data", new, "--date-column", "When", "--out", tmp_path / "p.csv"
    )
    assert result.exit_code == 0, result.output
    assert pd.read_csv(tmp_path / "p.csv")["predicted"].notna().all()  # history from the run
    result = invoke("predict", run, "--data", new, "--date-column", "When", "--horizon", 2,
                    "--samples", 0, "--out", tmp_path / "f.csv")  # fmt: skip
    assert result.exit_code == 0, result.output


def test_fetch_writes_the_download_and_says_what_it_holds(tmp_path, monkeypatch):
    from lstm_forecast.app import fetch

    index = pd.DatetimeIndex(pd.bdate_range("2024-01-02", periods=15), name="Date")
    download = FakeDownload(yahoo_frame(index))
    monkeypatch.setattr(fetch, "_yfinance_download", lambda: download)
    out = tmp_path / "aapl.csv"
    result = invoke("fetch", "AAPL", "--start", "2024-01-01", "--out", out)
    assert result.exit_code == 0, result.output
    assert f"wrote {out}: 15 rows of business days (Monday-Friday), 2024-01-02 .. 2024-01-22" in (
        result.stdout
    )
    assert download.calls[0][1]["start"] == "2024-01-01"
    assert_user_error(invoke("fetch", "AAPL", "--out", out), "already exists", "--overwrite")
    assert invoke("fetch", "AAPL", "--out", out, "--overwrite").exit_code == 0

    monkeypatch.setattr(fetch, "_yfinance_download", lambda: FakeDownload(log="delisted"))
    result = invoke("fetch", "NOPE", "--out", tmp_path / "nope.csv")
    assert_user_error(result, "NOPE: Yahoo Finance has no 1d prices")
    assert not (tmp_path / "nope.csv").exists()


def test_fetch_without_yfinance_says_how_to_install_it(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "yfinance", None)  # import fails
    result = invoke("fetch", "AAPL", "--out", tmp_path / "a.csv")
    assert_user_error(result, "needs the yfinance package", 'pip install -e ".[fetch]"')


def test_normal_use_prints_no_library_warnings(tmp_path, tiny_config, prices_csv):
    """Keras's optimizer-loading warning on predict, TensorFlow's retracing warnings in a
    backtest (a new model per fold): neither reaches the terminal. Two real processes, each
    running its commands one after another as the terminal would (a warning shows at its first
    time in a process): the ones that train, and the ones that load the run, whose process
    imports nothing that training imported first."""
    commands = [
        [("train", "--config", tiny_config, "--data", prices_csv, "--out", "run", "--quiet"),
         ("backtest", "--config", tiny_config, "--data", prices_csv, "--folds", 3,
          "--fold-length", 8, "--samples", 10, "--out", "bt")],
        [("predict", "run"), ("predict", "run", "--horizon", 5, "--samples", 60)],
    ]  # fmt: skip
    for process in commands:
        result = run_commands(tmp_path, process)
        assert result.returncode == 0, result.stderr[-2000:]
        # what importing the CLI printed, then each command's
        imports, *parts = result.stderr.split(COMMAND_MARK)
        assert len(parts) == len(process), result.stderr[-2000:]  # every command ran
        for command, stderr in zip([("import",), *process], [imports, *parts], strict=True):
            for word in ("warning", "Warning", "WARNING", "retracing"):
                assert word not in stderr, (command, stderr[-2000:])
    assert (tmp_path / "bt" / "summary.json").exists()


COMMAND_MARK = "\n=== next command ===\n"
# the lstm-forecast entry point once per command, in one process; stops at the first failure
COMMANDS_IN_ONE_PROCESS = f"""
import json, sys
from lstm_forecast.cli.base import main
for arguments in json.loads(sys.argv[1]):
    sys.argv = ["lstm-forecast", *arguments]
    print({COMMAND_MARK!r}, file=sys.stderr, end="", flush=True)
    try:
        main()
    except SystemExit as stop:
        if stop.code:
            raise
"""


def run_commands(tmp_path: Path, commands: list[tuple]) -> subprocess.CompletedProcess:
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    arguments = json.dumps([[str(a) for a in command] for command in commands])
    return subprocess.run(
        [sys.executable, "-c", COMMANDS_IN_ONE_PROCESS, arguments],
        cwd=tmp_path, env=environment, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def test_a_price_at_zero_is_one_line_naming_it_in_train_backtest_and_predict(
    tmp_path, tiny_config, prices_csv
):
    frame = pd.read_csv(prices_csv)
    frame.loc[100, "Close"] = 0.0  # an Open target whose residual base is the Close
    broken = tmp_path / "broken.csv"
    frame.to_csv(broken, index=False)
    config = tmp_path / "residual.toml"
    config.write_text(tiny_config.read_text().replace("log_return", "residual"))
    day = frame.loc[100, "Date"]
    run = tmp_path / "run"
    assert invoke("train", "--config", config, "--data", prices_csv, "--out", run).exit_code == 0
    for command in [
        ("train", "--config", config, "--data", broken, "--out", tmp_path / "new"),
        ("backtest", "--config", config, "--data", broken, "--folds", "2", "--out", tmp_path / "b"),
        ("predict", run, "--data", broken, "--out", tmp_path / "p.csv"),
    ]:
        result = invoke(*command)
        assert_user_error(
            result, f"{broken}: column 'Close' is 0 on {day}", "target_transform=diff"
        )
    assert not any((tmp_path / name).exists() for name in ("new", "b", "p.csv"))


def test_a_hole_between_the_training_and_test_files_is_warned_about(tmp_path, tiny_config):
    prices = random_walk(200, seed=5)
    train, test = tmp_path / "train.csv", tmp_path / "test.csv"
    prices.iloc[:120].to_csv(train, index=False, date_format="%Y-%m-%d")
    prices.iloc[170:].to_csv(test, index=False, date_format="%Y-%m-%d")  # 50 rows missing
    result = invoke("train", "--config", tiny_config, "--data", train, "--test", test,
                    "--out", tmp_path / "run")  # fmt: skip
    assert result.exit_code == 0, result.output
    last, first = prices["Date"].iloc[119], prices["Date"].iloc[170]
    days = (first - last).days
    assert (
        f"warning: {days} days between the training file's last row ({last:%Y-%m-%d}) and the "
        f"test file's first ({first:%Y-%m-%d})"
    ) in result.output


def test_predicting_weekly_rows_with_a_daily_run_is_refused(tmp_path, tiny_config, prices_csv):
    run = tmp_path / "run"
    assert (
        invoke("train", "--config", tiny_config, "--data", prices_csv, "--out", run).exit_code == 0
    )
    weekly = tmp_path / "weekly.csv"
    pd.read_csv(prices_csv).iloc[::5].to_csv(weekly, index=False)  # every Wednesday
    for steps in ([], ["--steps", "3"]):
        result = invoke("predict", run, "--data", weekly, *steps, "--out", tmp_path / "p.csv")
        assert_user_error(
            result, f"{weekly}: its rows are weeks", "but this run was trained on business days"
        )
    assert not (tmp_path / "p.csv").exists()


def test_a_perfect_baseline_gives_no_skill_and_no_traceback(tmp_path, tiny_config):
    frame = random_walk(120, seed=6)
    frame["Open"] = frame["Close"].shift(1).fillna(frame["Close"].iloc[0])  # open = last close
    data = tmp_path / "perfect.csv"
    frame.to_csv(data, index=False, date_format="%Y-%m-%d")
    result = invoke("backtest", "--config", tiny_config, "--data", data, "--folds", 2,
                    "--fold-length", 5, "--out", tmp_path / "bt")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "pooled over 10 rows: skill undefined against the strongest baseline" in result.output
    run = tmp_path / "run"
    result = invoke("train", "--config", tiny_config, "--data", data, "--out", run)
    assert result.exit_code == 0, result.output
    for command in (("plot", run), ("report", run), ("report", tmp_path / "bt")):
        result = invoke(*command)
        assert result.exit_code == 0, result.output


def test_one_training_row_is_one_line(tmp_path, tiny_config, prices_csv):
    result = invoke("train", "--config", tiny_config, "--data", prices_csv,
                    "--set", "data.test_start=2020-01-02", "--out", tmp_path / "run")  # fmt: skip
    assert_user_error(result, "the training span has 1 row: too few", "test_start")


def test_constant_prices_train_into_a_run_that_predicts_and_plots(tmp_path, tiny_config):
    frame = random_walk(120, seed=7).assign(Open=100.0, Close=100.0)
    data = tmp_path / "flat.csv"
    frame.to_csv(data, index=False, date_format="%Y-%m-%d")
    run = tmp_path / "run"
    result = invoke("train", "--config", tiny_config, "--data", data, "--out", run)
    assert result.exit_code == 0 and "skill undefined" in result.stdout, result.output
    assert "nan" not in result.stdout.lower(), result.stdout  # undefined numbers say so
    result = invoke("predict", run, "--steps", "3", "--out", "-")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip().splitlines()[-1].endswith(",100.000000,100.000000,100.000000")
    result = invoke("plot", run)
    assert result.exit_code == 0 and "Warning" not in result.output, result.output
