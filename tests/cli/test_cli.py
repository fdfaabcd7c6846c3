import json
import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from conftest import random_walk
from test_data import BAD_FILE_IDS, BAD_FILES
from typer.testing import CliRunner

from lstm_forecast.cli.base import app

runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, [str(arg) for arg in args])


def assert_user_error(result, *fragments):
    """Exit status 2, one line on stderr naming the problem, no traceback."""
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    for fragment in fragments:
        assert fragment in lines[0]
    assert "Traceback" not in result.output


def test_help_imports_no_heavy_library():
    code = (
        "import sys; from lstm_forecast.cli import app; "
        "heavy = [m for m in ('tensorflow', 'keras', 'matplotlib', 'pandas', 'numpy', 'sklearn') if m in sys.modules]; "
        "print(heavy)"
    )
    output = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert output.stdout.strip() == "[]"


def test_python_dash_m_works():
    output = subprocess.run(
        [sys.executable, "-m", "lstm_forecast", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    for command in ("train", "predict", "plot", "backtest", "inspect", "fetch", "report", "tune"):
        assert command in output.stdout


def test_every_command_help_ends_with_an_example():
    for command in ("train", "predict", "plot", "backtest", "inspect", "fetch", "report", "tune"):
        result = invoke(command, "--help")
        assert result.exit_code == 0
        assert f"Example: lstm-forecast {command}" in result.stdout


@pytest.mark.parametrize(("content", "message"), BAD_FILES, ids=BAD_FILE_IDS)
def test_train_on_a_bad_file_exits_2_and_leaves_no_run(tmp_path, tiny_config, content, message):
    path = tmp_path / "prices.csv"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content)
    out = tmp_path / "run"
    result = invoke("train", "--config", tiny_config, "--data", path, "--out", out)
    assert_user_error(result, str(path), message)
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".run")]


def test_too_little_data_says_how_much_is_needed(tmp_path, tiny_config):
    path = tmp_path / "short.csv"
    random_walk(7).to_csv(path, index=False)  # 6 training rows + 1 test row
    out = tmp_path / "run"
    result = invoke("train", "--config", tiny_config, "--data", path, "--out", out)
    assert_user_error(result, "6 training rows, but a window of 5", "needs at least 7")
    assert not out.exists()


def test_inspect_reports_a_split_like_move(tmp_path):
    frame = random_walk(40)
    frame.loc[25:, "Close"] = frame.loc[25:, "Close"] / 2  # a 2-for-1 split
    path = tmp_path / "split.csv"
    frame.to_csv(path, index=False)
    result = invoke("inspect", path, "--target", "Close")
    assert result.exit_code == 0, result.output
    assert "40 rows used of 40" in result.stdout
    assert "looks like a stock split or a data error" in result.stdout
    assert_user_error(invoke("inspect", tmp_path / "none.csv"), "file not found")


def test_inspect_reads_a_file_as_train_does_with_config_and_set(tmp_path):
    path = tmp_path / "ambiguous.csv"
    path.write_text("Date,Open\n01/11/2017,10\n02/11/2017,11\n03/11/2017,12\n")
    result = invoke("inspect", path)
    assert_user_error(result, "can be day/month or month/day", "--set data.date_order=dayfirst")
    result = invoke("inspect", path, "--set", "data.date_order=dayfirst")
    assert result.exit_code == 0, result.output
    assert "2017-11-01 .. 2017-11-03" in result.stdout  # November, day first
    config = tmp_path / "monthfirst.toml"
    config.write_text('[data]\ndate_order = "monthfirst"\n')
    result = invoke("inspect", path, "--config", config)
    assert "2017-01-11 .. 2017-03-11" in result.stdout


def test_train_prints_the_short_quality_warnings(tmp_path, tiny_config):
    frame = random_walk(120)
    frame.loc[100:, "Open"] = frame.loc[100:, "Open"] * 3
    path = tmp_path / "jump.csv"
    frame.to_csv(path, index=False)
    result = invoke(
        "train", "--config", tiny_config, "--data", path, "--out", tmp_path / "r", "--quiet"
    )
    assert result.exit_code == 0, result.output
    assert "warning: 2020-05-20 +199.6 %" in result.stdout  # the Open tripled on one day


def test_train_bad_config_exits_2(tmp_path):
    config = tmp_path / "bad.toml"
    config.write_text("[train]\nepoch = 3\n")
    assert_user_error(invoke("train", "--config", config), "bad.toml", "unknown key 'epoch'")
    assert_user_error(
        invoke("train", "--epochs", 0, "--out", tmp_path / "r"), "epochs must be at least 1"
    )


def test_predict_and_plot_on_a_missing_run_exit_2(tmp_path):
    assert_user_error(invoke("predict", tmp_path / "nope"), "no such run directory")
    assert_user_error(invoke("plot", tmp_path / "nope"), "no such run directory")


def test_train_predict_plot_end_to_end(tmp_path, tiny_config, prices_csv):
    out = tmp_path / "run"
    result = invoke("train", "--config", tiny_config, "--data", prices_csv, "--out", out, "--quiet")
    assert result.exit_code == 0, result.output
    assert "read 200 rows from" in result.stdout
    assert "tomorrow = today" in result.stdout and "verdict: the model" in result.stdout
    assert f"run saved to {out}" in result.stdout

    result = invoke("predict", out, "--data", prices_csv, "--out", tmp_path / "pred.csv")
    assert result.exit_code == 0, result.output
    table = pd.read_csv(tmp_path / "pred.csv")
    assert list(table.columns)[:3] == ["date", "actual", "predicted"]
    assert len(table) == 200
    assert table["predicted"].isna().sum() == 6  # window 5 + 1 for the log return
    # the first 180 rows trained the model (test_fraction 0.1 of 200): marked, left out of metrics
    assert table["in_sample"].tolist() == [True] * 180 + [False] * 20
    assert "metrics leave out the 180 rows the model was trained on" in result.stdout
    metrics = json.loads((tmp_path / "pred.metrics.json").read_text())
    assert metrics["rows"] == 20 and metrics["test_start"] == table["date"].iloc[180]
    assert {"rmse", "naive_rmse", "drift_rmse", "skill", "directional_accuracy", "lag"} <= set(
        metrics
    )
    saved = pd.read_csv(out / "predictions.csv")
    merged = saved.merge(table, on="date", suffixes=("_run", "_predict"))
    assert len(merged) == len(saved)
    assert (merged["predicted_run"] - merged["predicted_predict"]).abs().max() < 1e-4

    result = invoke("predict", out)  # default: the run's own data, written into the run
    assert result.exit_code == 0, result.output
    assert (out / "predicted-prices.csv").exists()

    result = invoke("plot", out, "--out", tmp_path / "plot.png")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "plot.png").stat().st_size > 10_000


def test_train_refuses_an_existing_run(tmp_path, tiny_config, prices_csv):
    out = tmp_path / "run"
    out.mkdir()
    (out / "x").write_text("x")
    result = invoke("train", "--config", tiny_config, "--data", prices_csv, "--out", out)
    assert_user_error(result, "already exists", "--overwrite")


def test_backtest_command(tmp_path, tiny_config, prices_csv):
    out = tmp_path / "bt"
    result = invoke(
        "backtest", "--config", tiny_config, "--data", prices_csv, "--folds", 2, "--horizon", 5,
        "--epochs", 1, "--samples", 5, "--out", out,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text())
    # --samples asks for Monte-Carlo dropout as the folds' band, as predict's does
    assert summary["interval"] == "dropout" and summary["samples"] == 5
    assert "dropout" in summary["recursive_intervals"]
    assert "fold 1:" in result.stdout and "fold 2:" in result.stdout
    assert "mean ± std across folds" in result.stdout
    # mean and std with the same decimals: prices, a signed skill, a share in percent
    rmse = re.search(r"\n  rmse +(\d+\.(\d+)) ± \d+\.(\d+)\n", result.stdout)
    assert rmse and len(rmse.group(2)) == len(rmse.group(3)) >= 2, result.stdout
    assert re.search(r"\n  skill +[+-]\d\.\d{4} ± \d\.\d{4}\n", result.stdout)
    assert re.search(r"\n  directional_accuracy +\d+\.\d % ± \d+\.\d\n", result.stdout)
    assert re.search(
        r"fold 1: .* RMSE \d+\.\d+ \(strongest baseline, \w+: \d+\.\d+\)", result.stdout
    )
    assert "90 % naive interval, one-step: covered" in result.stdout
    assert "% of actuals" in result.stdout and "Diebold-Mariano" in result.stdout
    assert re.search(
        r"; the model (beats|loses to|shows no significant difference from) it ", result.stdout
    )
    assert (out / "folds.csv").exists() and (out / "backtest.png").exists()


def test_backtest_with_too_many_folds_exits_2(tmp_path, tiny_config, prices_csv):
    out = tmp_path / "bt"
    result = invoke(
        "backtest", "--config", tiny_config, "--data", prices_csv, "--folds", 50, "--horizon", 5,
        "--out", out,
    )  # fmt: skip
    assert_user_error(result, "200 rows are too few for 50 folds of 5 rows", "fewer --folds")
    assert not out.exists()


def test_predict_horizon_writes_a_forecast_and_plot_draws_its_fan(trained_run, tmp_path):
    result, _, test_csv = trained_run
    out = tmp_path / "next.csv"
    args = ("predict", result.run_dir, "--horizon", 8, "--samples", 20, "--level", 0.8)
    outcome = invoke(*args, "--out", out)
    assert outcome.exit_code == 0, outcome.output
    assert (
        "forecast of 8 business days after" in outcome.stdout
        and "20 dropout samples" in outcome.stdout
    )
    assert "holidays not skipped: --calendar XNYS" in outcome.stdout  # said where it matters
    table = pd.read_csv(out)
    assert list(table.columns) == ["date", "actual", "predicted", "lower", "upper"]
    future = table.dropna(subset=["predicted"])
    assert len(future) == 8 and future["actual"].isna().all()
    for step in (1, 8):  # the first and the last step, each with its interval
        row = future.iloc[step - 1]
        assert f"  step {step}, {row['date']}: " in outcome.stdout
    assert "80% interval" in outcome.stdout and "  step 2," not in outcome.stdout
    info = json.loads(out.with_suffix(".json").read_text())
    assert (info["horizon"], info["samples"], info["level"]) == (8, 20, 0.8)
    assert invoke(*args, "--out", tmp_path / "again.csv").exit_code == 0  # same seed: same numbers
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "again.csv"), table)

    outcome = invoke("plot", result.run_dir, "--forecast", out)
    assert outcome.exit_code == 0, outcome.output
    from test_plot import colour_pixels

    png = out.with_suffix(".png")
    assert colour_pixels(png, (0.8, 0.8, 1.0), tolerance=0.05) > 2000  # the shaded interval

    outcome = invoke("predict", result.run_dir, "--data", test_csv, "--horizon", 3, "--samples", 0)
    assert outcome.exit_code == 0, outcome.output
    assert "dropout off" in outcome.stdout
    assert (result.run_dir / f"forecast-{test_csv.stem}.csv").exists()


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--origin", "2020-01-01"], "--origin, --level, --samples, --seed and --calendar go with"),
        (["--horizon", 0], "needs at least 1 step (--steps), got 0"),
        (["--horizon", 3, "--level", 1.5], "level must be in (0, 1), got 1.5"),
        (["--horizon", 3, "--origin", "1900-01-01"], "is before the data starts"),
        (["--horizon", 3, "--calendar", "NOPE"], "unknown exchange calendar 'NOPE'"),
    ],
)
def test_predict_horizon_bad_options_exit_2(trained_run, tmp_path, extra, message):
    result, _, _ = trained_run
    outcome = invoke("predict", result.run_dir, *extra, "--out", tmp_path / "f.csv")
    assert_user_error(outcome, message)
    assert not (tmp_path / "f.csv").exists()


def test_plot_forecast_rejects_a_one_step_predictions_csv(trained_run):
    result, _, _ = trained_run
    outcome = invoke("plot", result.run_dir, "--forecast", result.run_dir / "predictions.csv")
    # predictions.csv has the one-step interval's lower/upper columns, but it is no forecast
    assert_user_error(outcome, "holds one-step predictions, not a forecast", "predict --steps N")


@pytest.mark.parametrize("transform", ["level", "return", "diff"])
def test_multivariate_run_trains_predicts_and_forecasts(tmp_path, prices_csv, transform):
    from conftest import TINY_CONFIG

    config = tmp_path / "multi.toml"
    config.write_text(
        '[data]\nfeatures = ["Close", "log1p(Volume)", "sma(Close, 3)", "day_of_week"]\n'
        + TINY_CONFIG.format(transform=transform).replace(
            "[window]\n", "[window]\nnormalize = true\n"
        )
    )
    out = tmp_path / "run"
    result = invoke("train", "--config", config, "--data", prices_csv, "--out", out, "--quiet")
    assert result.exit_code == 0, result.output
    manifest = json.loads((out / "run.json").read_text())
    assert manifest["features"] == [
        "Open",
        "Close",
        "log1p(Volume)",
        "sma(Close, 3)",
        "day_of_week",
    ]
    scaler = json.loads((out / "scaler.json").read_text())
    assert len(scaler["data_min"]) == 5  # one scaler column per input
    assert list(pd.read_csv(out / "series.csv").columns) == ["date", "Open", "Close", "Volume"]

    result = invoke("predict", out, "--data", prices_csv, "--out", tmp_path / "pred.csv")
    assert result.exit_code == 0, result.output
    table = pd.read_csv(tmp_path / "pred.csv")
    saved = pd.read_csv(out / "predictions.csv").merge(table, on="date")
    assert (saved["predicted_x"] - saved["predicted_y"]).abs().max() < 1e-4
    # prices come back on the price level, near the actual ones (not scaled units)
    predicted = table.dropna(subset=["predicted"])
    assert (predicted["predicted"] / predicted["actual"]).between(0.5, 2).all()

    result = invoke("predict", out, "--horizon", 4, "--samples", 10, "--out", tmp_path / "f.csv")
    assert result.exit_code == 0, result.output
    future = pd.read_csv(tmp_path / "f.csv").dropna(subset=["predicted"])
    assert len(future) == 4 and (future["lower"] <= future["upper"]).all()


def test_engine_option_picks_the_trainer_and_refuses_what_it_cannot_train(
    tmp_path, tiny_config, prices_csv
):
    for engine in ("keras", "fast"):
        out = tmp_path / engine
        result = invoke(
            "train", "--config", tiny_config, "--data", prices_csv, "--out", out, "--quiet",
            "--engine", engine,
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        assert json.loads((out / "metrics.json").read_text())["engine"] == engine
    out = tmp_path / "gru"
    result = invoke(
        "train", "--config", tiny_config, "--data", prices_csv, "--out", out,
        "--engine", "fast", "--cell", "gru",
    )  # fmt: skip
    assert_user_error(result, "engine", "gru")
    assert not out.exists()


def test_out_of_memory_is_one_line_and_other_errors_stay_tracebacks(capsys):
    import typer

    from lstm_forecast.cli.options import USER_ERROR_EXIT, user_errors

    class ResourceExhaustedError(Exception):  # what TensorFlow raises for a model too large
        pass

    for error in (MemoryError(), ResourceExhaustedError("OOM when allocating tensor")):
        with pytest.raises(typer.Exit) as stopped, user_errors():
            raise error
        assert stopped.value.exit_code == USER_ERROR_EXIT
        (line,) = capsys.readouterr().err.strip().splitlines()
        assert line.startswith("error: out of memory: the model or the data does not fit")
    with pytest.raises(ZeroDivisionError), user_errors():  # a bug stays visible
        raise ZeroDivisionError


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["train", "--epochs", "abc"], "error: Invalid value for '--epochs': "),
        (["trian"], "error: No such command 'trian'. Did you mean 'train'?"),
        (["predict"], "error: Missing argument 'RUN_DIR'. (see lstm-forecast predict --help)"),
    ],
)
def test_a_usage_mistake_is_one_line_too(arguments, message):
    result = subprocess.run(
        [sys.executable, "-m", "lstm_forecast", *arguments], capture_output=True, text=True
    )
    assert result.returncode == 2 and result.stdout == ""
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(message) and line.endswith("--help)")


def test_a_band_that_held_significantly_less_than_its_level_is_warned_about():
    from lstm_forecast.cli.console import coverage_warning

    assert coverage_warning(0.495, 0.9, 503).startswith(
        "warning: 49.5 % is significantly below 90 % (binomial test, 503 rows)"
    )
    assert coverage_warning(0.85, 0.9, 20) == ""  # 17 of 20: within chance
    assert coverage_warning(0.93, 0.9, 503) == ""


def test_help_shows_toml_tables_and_extras_verbatim():
    assert "[tune.params] table" in " ".join(invoke("tune", "--help").stdout.split())
    assert '".[fetch]"' in invoke("fetch", "--help").stdout


def test_zero_jobs_and_a_pipe_separated_file(tmp_path, tiny_config, prices_csv):
    result = invoke("backtest", "--config", tiny_config, "--data", prices_csv, "--data",
                    prices_csv.parent, "--jobs", "0", "--out", tmp_path / "lg")  # fmt: skip
    assert_user_error(result, "--jobs must be at least 1, got 0")
    piped = tmp_path / "piped.csv"
    piped.write_text(prices_csv.read_text().replace(",", "|"))
    result = invoke("inspect", piped)
    assert result.exit_code == 0 and "rows used of 200" in result.stdout, result.output


def test_early_stopping_says_it_ended_training():
    from lstm_forecast.cli.console import stopped_early

    assert stopped_early({"epochs_run": 19, "epochs_asked": 30}).startswith(
        "early stopping ended training at epoch 19 of 30"
    )
    assert stopped_early({"epochs_run": 30, "epochs_asked": 30}) == ""
    assert stopped_early({"epochs_run": 4, "epochs_asked": 30, "interrupted": True}) == ""
    assert stopped_early({"epochs_run": 19}) == ""  # a run of an earlier release


def test_a_forecast_on_an_exchange_calendar_counts_its_sessions():
    from types import SimpleNamespace

    from lstm_forecast.cli.console import print_forecast
    from lstm_forecast.data.frequency import infer_frequency

    index = pd.bdate_range("2024-12-02", periods=10)
    table = pd.DataFrame(
        {"date": [str(d.date()) for d in index], "actual": [1.0] * 5 + [np.nan] * 5,
         "predicted": [np.nan] * 5 + [1.0] * 5, "lower": np.nan, "upper": np.nan}
    )  # fmt: skip
    result = SimpleNamespace(table=table, frequency=infer_frequency(index), level=0.9)
    info = {"interval": "none", "samples": 0, "origin": "2024-12-06", "source": "x.csv"}
    with CliRunner().isolation() as streams:
        print_forecast(result, {**info, "calendar": "XNYS"})
        said = streams[0].getvalue().decode()
    assert "forecast of 5 XNYS sessions after 2024-12-06" in said and "holidays" not in said


def test_constant_prices_write_strict_json_that_every_report_reads(tmp_path, tiny_config):
    """Metrics with nothing to measure (a constant price: no direction, no skill) are null in
    every JSON the commands write, never the bare NaN other JSON readers refuse."""
    frame = random_walk(160)
    frame[["Open", "Close"]] = 100.0
    csv = tmp_path / "flat.csv"
    frame.to_csv(csv, index=False, date_format="%Y-%m-%d")
    run, bt = tmp_path / "run", tmp_path / "bt"
    assert invoke("train", "--config", tiny_config, "--data", csv, "--out", run).exit_code == 0
    assert invoke("predict", run, "--data", csv).exit_code == 0
    assert invoke("predict", run, "--steps", 3).exit_code == 0
    result = invoke(
        "backtest", "--config", tiny_config, "--data", csv, "--folds", 2, "--fold-length", 5,
        "--out", bt,
    )  # fmt: skip
    assert result.exit_code == 0, result.output

    def refuse(name):
        raise ValueError(f"{name} in strict JSON")

    written = sorted([*run.glob("*.json"), *bt.glob("*.json")])
    assert {"predicted-flat.metrics.json", "forecast.json", "summary.json"} <= {
        p.name for p in written
    }
    for path in written:
        json.loads(path.read_text(), parse_constant=refuse)
    assert json.loads((run / "predicted-flat.metrics.json").read_text())["skill"] is None
    for directory in (run, bt):
        result = invoke("report", directory)
        assert result.exit_code == 0, result.output
