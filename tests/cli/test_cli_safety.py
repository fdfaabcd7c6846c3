"""A user's files are sacred and every failure is one line: a test per defect once found.

Each test asserts the exit status, the one-line message, and that no file that existed before
changed (checksums of the whole folder before and after).
"""

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from conftest import TINY_CONFIG, random_walk
from test_cli import assert_user_error, invoke

from lstm_forecast.files.ours import is_ours


def snapshot(folder: Path) -> dict:
    """Every file below `folder` with its SHA-256."""
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def unchanged(before: dict, folder: Path) -> bool:
    after = snapshot(folder)
    return all(after.get(name) == digest for name, digest in before.items())


@pytest.fixture(scope="module")
def trained_once(tmp_path_factory) -> Path:
    """One run trained as run_dir's tests need it (tiny_config on prices_csv's prices)."""
    folder = tmp_path_factory.mktemp("trained_once")
    config = folder / "tiny.toml"
    config.write_text(TINY_CONFIG.format(transform="log_return"))
    prices = folder / "prices.csv"
    random_walk(200).to_csv(prices, index=False, date_format="%Y-%m-%d")
    out = folder / "run"
    result = invoke("train", "--config", config, "--data", prices, "--out", out, "--quiet")
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture
def run_dir(tmp_path, trained_once) -> Path:
    """A run of its own for each test: a copy of one trained run (training each is slow)."""
    out = tmp_path / "run"
    shutil.copytree(trained_once, out)
    return out


def test_out_dot_overwrite_never_wipes_the_current_directory(
    tmp_path, tiny_config, prices_csv, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "notes.txt").write_text("mine")
    before = snapshot(tmp_path)
    for out in (".", str(tmp_path), "/", str(Path.home())):
        result = invoke("train", "--config", tiny_config, "--data", prices_csv, "--out", out,
                        "--overwrite")  # fmt: skip
        assert_user_error(result, out)
    assert unchanged(before, tmp_path) and len(snapshot(tmp_path)) == len(before)


def test_overwrite_replaces_only_a_directory_of_ours(run_dir, tmp_path, tiny_config, prices_csv):
    other = tmp_path / "photos"
    other.mkdir()
    (other / "cat.jpg").write_bytes(b"\xff\xd8")
    before = snapshot(tmp_path)
    result = invoke("train", "--config", tiny_config, "--data", prices_csv, "--out", other,
                    "--overwrite")  # fmt: skip
    assert_user_error(result, "replaces only a directory written by lstm-forecast")
    (run_dir / "mine.txt").write_text("a file of the user's inside a run")
    result = invoke("train", "--config", tiny_config, "--data", prices_csv, "--out", run_dir,
                    "--overwrite")  # fmt: skip
    assert_user_error(result, "holds other files")
    assert unchanged(before, tmp_path)
    (run_dir / "mine.txt").unlink()
    assert is_ours(run_dir)
    result = invoke("train", "--config", tiny_config, "--data", prices_csv, "--out", run_dir,
                    "--overwrite", "--quiet")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no staging left


def test_an_output_is_never_an_input(run_dir, tmp_path, prices_csv):
    before = snapshot(tmp_path)
    result = invoke("predict", run_dir, "--data", prices_csv, "--out", prices_csv)
    assert_user_error(result, "is an input of this command")
    result = invoke("predict", run_dir, "--out", run_dir / "model.keras", "--overwrite")
    assert_user_error(result, "is an input of this command")
    result = invoke("train", "--data", prices_csv, "--out", tmp_path, "--overwrite")
    assert_user_error(result, "holds the input")
    assert unchanged(before, tmp_path)


def test_predict_replaces_an_existing_file_only_with_overwrite(run_dir, tmp_path, prices_csv):
    out = tmp_path / "mine.csv"
    out.write_text("precious\n")
    result = invoke("predict", run_dir, "--data", prices_csv, "--out", out)
    assert_user_error(result, "already exists", "--overwrite")
    assert out.read_text() == "precious\n"
    result = invoke("predict", run_dir, "--data", prices_csv, "--out", out, "--overwrite")
    assert_user_error(result, "not written by lstm-forecast", "choose another --out")
    assert out.read_text() == "precious\n"
    ours = tmp_path / "predicted.csv"
    for _ in range(2):  # written, then replaced
        result = invoke("predict", run_dir, "--data", prices_csv, "--out", ours, "--overwrite")
        assert result.exit_code == 0, result.output
    assert pd.read_csv(ours)["predicted"].notna().any()


@pytest.mark.parametrize(
    "command, name, content",
    [
        (["predict", "--horizon", "3"], "mine.csv", b"date,price\n2020-01-01,1\n"),
        (["predict", "--horizon", "3"], "mine.json", b'{"mine": 1}'),  # the forecast's JSON
        (["plot"], "mine.png", None),  # a PNG drawn by matplotlib, not by us
        (["report"], "mine.html", b"<html><body>mine</body></html>"),
    ],
)
def test_overwrite_never_replaces_a_users_file_of_the_same_kind(
    run_dir, tmp_path, command, name, content
):
    user = tmp_path / "user"
    user.mkdir()
    mine = user / name
    if content is None:
        import matplotlib.pyplot as plt

        figure = plt.figure()
        figure.savefig(mine)
        plt.close(figure)
    else:
        mine.write_bytes(content)
    out = mine.with_suffix(".csv") if name == "mine.json" else mine
    before = snapshot(user)
    result = invoke(command[0], run_dir, *command[1:], "--out", out, "--overwrite")
    assert_user_error(result, f"{mine}: already exists and was not written by lstm-forecast")
    assert unchanged(before, user) and len(snapshot(user)) == len(before)
    ours = user / f"ours{out.suffix}"
    for _ in range(2):  # ours is written, then replaced
        result = invoke(command[0], run_dir, *command[1:], "--out", ours, "--overwrite")
        assert result.exit_code == 0, result.output


def test_outputs_are_checked_before_training(tmp_path, tiny_config, prices_csv, monkeypatch):
    from lstm_forecast.forecaster.forecaster import Forecaster

    def no_training(*args, **kwargs):
        raise AssertionError("trained before checking the output")

    monkeypatch.setattr(Forecaster, "fit", no_training)
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    result = invoke("train", "--config", tiny_config, "--data", prices_csv, "--out",
                    a_file / "run")  # fmt: skip
    assert_user_error(result, "is a file, not a folder")
    result = invoke("train", "--config", tiny_config, "--data", prices_csv, "--out", a_file)
    assert_user_error(result, "is a file, not a directory")
    assert a_file.read_text() == "x"


def test_predict_onto_a_directory_is_refused(run_dir, tmp_path, prices_csv):
    result = invoke("predict", run_dir, "--data", prices_csv, "--out", tmp_path)
    assert_user_error(result, "is a directory; give --out a file name")


@pytest.mark.parametrize(
    ("write", "message"),
    [
        (lambda p: p.write_bytes("[train]\nseed = 1 # é\n".encode("latin-1")), "not UTF-8 text"),
        (lambda p: p.mkdir(), "is a directory; pass a TOML config file"),
        (lambda p: p.write_text("[train]\nseed = -1\n"), "seed must be in 0..4294967295"),
        (lambda p: p.write_text("[train]\nseed = 4294967296\n"), "seed must be in 0..4294967295"),
    ],
)
def test_bad_config_files_are_one_line(tmp_path, write, message):
    config = tmp_path / "config.toml"
    write(config)
    assert_user_error(invoke("train", "--config", config, "--out", tmp_path / "r"), message)
    assert not (tmp_path / "r").exists()


def test_seed_option_range(tmp_path):
    assert_user_error(invoke("train", "--seed", -1, "--out", tmp_path / "r"), "seed must be in")


@pytest.mark.parametrize(
    ("name", "damage"),
    [
        ("scaler.json", "[1, 2]"),
        ("scaler.json", '{"kind": "MinMaxScaler", "data_min": [NaN], "data_max": [1.0]}'),
        ("config.toml", "[window]\nlength = 7\n"),
        ("config.toml", '[window]\ntarget_transform = "level"\n'),
        ("model.keras", "not a zip"),
        ("series.csv", "date,Open\nx,y\n"),
    ],
)
def test_a_damaged_or_edited_run_is_one_line_naming_the_file(run_dir, tmp_path, name, damage):
    (run_dir / name).write_text(damage)
    before = snapshot(tmp_path)
    for command in (("predict", run_dir, "--out", tmp_path / "p.csv"), ("plot", run_dir)):
        result = invoke(*command)
        assert_user_error(result, str(run_dir / name))
    assert unchanged(before, tmp_path) and not (tmp_path / "p.csv").exists()


def test_a_damaged_scaler_is_refused_even_with_matching_checksums(run_dir):
    from lstm_forecast.forecaster.bundle import _sha256
    from lstm_forecast.forecaster.forecaster import Forecaster

    manifest = json.loads((run_dir / "run.json").read_text())
    for damage, message in [
        ({"data_min": [1.0, 2.0], "data_max": [3.0, 4.0]}, "2 scaled columns, the config has 1"),
        ({"data_min": [5.0], "data_max": [4.0]}, "min > max"),
    ]:
        (run_dir / "scaler.json").write_text(
            json.dumps({"kind": "MinMaxScaler", "feature_range": [0, 1], **damage})
        )
        manifest["checksums"]["scaler.json"] = _sha256(run_dir / "scaler.json")
        (run_dir / "run.json").write_text(json.dumps(manifest))
        with pytest.raises(Exception, match=message):
            Forecaster.load(run_dir)


def _edit_rehashed(run_dir: Path, name: str, edit) -> None:
    """`edit` applied to a run's file, its checksum in run.json updated too: past the check."""
    from lstm_forecast.forecaster.bundle import _sha256

    path = run_dir / name
    if name.endswith(".json"):
        value = json.loads(path.read_text())
        edit(value)
        path.write_text(json.dumps(value))
    else:
        edit(path)
    manifest = json.loads((run_dir / "run.json").read_text())
    if name != "run.json":
        manifest["checksums"][name] = _sha256(path)
        (run_dir / "run.json").write_text(json.dumps(manifest))


def _reverse_rows(path: Path) -> None:
    table = pd.read_csv(path)
    table.iloc[::-1].to_csv(path, index=False)


def _cell(row: int, column: int, value):
    """An edit of a CSV: the cell at (row, column) of its table set to `value`."""

    def edit(path: Path) -> None:
        table = pd.read_csv(path)
        table[table.columns[column]] = table[table.columns[column]].astype(object)
        table.iloc[row, column] = value
        table.to_csv(path, index=False)

    return edit


@pytest.mark.parametrize(
    ("name", "edit", "message"),
    [
        ("metrics.json", lambda m: m.update(rmse="x"), "'rmse' is 'x', not a number"),
        ("metrics.json", lambda m: m.update(rows="many"), "'rows' is 'many', not a whole number"),
        ("metrics.json", lambda m: m.update(skill_vs="x"), "'skill_vs' is 'x', not a table"),
        ("metrics.json", lambda m: m.update(skill="0.1"), "'skill' is '0.1', not a number"),
        ("metrics.json", lambda m: m["baselines"].update(drift="x"), "'baselines.drift' is 'x'"),
        ("metrics.json", lambda m: m.update(verdict=5), "'verdict' is 5, not text"),
        ("series.csv", _reverse_rows, "damaged (the dates are not in order)"),
        ("run.json", lambda m: m.update(format_version="2"), "run format '2' (text, not the"),
        ("run.json", lambda m: m.update(shrinkage="x"), "shrinkage must be a number in [0, 1]"),
        ("metrics.json", lambda m: m.update(level=7), "'level' is 7, not a share between 0 and"),
        ("metrics.json", lambda m: m.update(skill=10**400), "'skill' is 1000000000"),
        (
            "metrics.json",
            lambda m: m.update(rows=10**30),
            "'rows' is 1000000000000000000000000000000, not a count",
        ),
        ("history.csv", _cell(0, 1, "abc"), "line 2, column 'loss': 'abc' is not a number"),
        ("series.csv", _cell(-1, 1, 1e308), "line 201, column 'Open': 1e+308 is not a price"),
    ],
)
def test_a_rehashed_edit_of_a_value_type_is_one_line(run_dir, tmp_path, name, edit, message):
    _edit_rehashed(run_dir, name, edit)
    for command in (("plot", run_dir, "--out", tmp_path / "p.png"), ("report", run_dir,
                    "--out", tmp_path / "r.html"), ("predict", run_dir, "--steps", 3)):  # fmt: skip
        assert_user_error(invoke(*command), f"{run_dir / name}: {message}")
    assert not list(tmp_path.glob("[pr].*")) and not (run_dir / "forecast.csv").exists()


@pytest.mark.parametrize(
    ("name", "edit", "message"),
    [
        ("scaler.json", lambda m: m.update(feature_range=["a"]),
         "scaler.json: damaged (could not convert string to float: 'a')"),
        ("scaler.json", lambda m: m.update(data_min=[10**400]), "scaler.json: damaged ("),
        ("calibration.json", lambda m: m.update(origins=10**400), "level or origins out of range"),
        ("calibration.json", lambda m: m["errors"][0].__setitem__(0, 10**400),
         "unreadable calibration (int too large to convert to float)"),
    ],
)  # fmt: skip
def test_a_damaged_scaler_or_calibration_is_one_line(run_dir, name, edit, message):
    _edit_rehashed(run_dir, name, edit)
    assert_user_error(invoke("predict", run_dir, "--steps", 3), message)


def test_notes_of_ones_own_in_metrics_json_are_shown(run_dir, tmp_path):
    # and a number the tool writes as null when it is undefined
    _edit_rehashed(
        run_dir, "metrics.json", lambda m: m.update(my_note="<b>kept</b>", coverage=None)
    )
    result = invoke("report", run_dir, "--out", tmp_path / "r.html")
    assert result.exit_code == 0, result.output
    assert "&lt;b&gt;kept&lt;/b&gt;" in (tmp_path / "r.html").read_text()


def test_a_lambda_layer_is_refused_and_its_code_never_runs(run_dir, tmp_path):
    from lstm_forecast.forecaster.bundle import _sha256
    from lstm_forecast.model.build import keras

    witness = tmp_path / "ran.txt"
    inputs = keras.Input(shape=(5, 1))
    code = f"lambda x: (open({str(witness)!r}, 'w').write('ran'), x)[1][:, -1, :]"
    outputs = keras.layers.Lambda(eval(code))(inputs)  # noqa: S307 - the hostile model under test
    keras.Model(inputs, outputs).save(run_dir / "model.keras")
    witness.unlink(missing_ok=True)  # building the model above called the lambda once
    manifest = json.loads((run_dir / "run.json").read_text())
    manifest["checksums"]["model.keras"] = _sha256(run_dir / "model.keras")
    (run_dir / "run.json").write_text(json.dumps(manifest))
    result = invoke("predict", run_dir, "--out", tmp_path / "p.csv")
    assert_user_error(result, "model.keras: cannot load the model")
    assert not witness.exists()


def test_a_non_numeric_predictions_cell_is_one_line(run_dir, tmp_path):
    table = pd.read_csv(run_dir / "predictions.csv")
    table["predicted"] = table["predicted"].astype(object)
    table.loc[3, "predicted"] = "n/a?"
    table.to_csv(tmp_path / "bad.csv", index=False)
    result = invoke("plot", run_dir, "--predictions", tmp_path / "bad.csv")
    assert_user_error(result, "line 5, column 'predicted': 'n/a?' is not a number")
    table = pd.read_csv(run_dir / "predictions.csv")
    table.loc[1, "date"] = "2018-13-30"
    table.to_csv(tmp_path / "bad.csv", index=False)
    result = invoke("plot", run_dir, "--predictions", tmp_path / "bad.csv")
    assert_user_error(result, "line 3, column 'date': '2018-13-30' is not an ISO date")


def test_origin_after_the_data_is_refused(run_dir, tmp_path):
    result = invoke("predict", run_dir, "--horizon", 5, "--origin", "2030-01-01", "--out",
                    tmp_path / "f.csv")  # fmt: skip
    assert_user_error(result, "--origin 2030-01-01 is after the data ends")


def test_run_directories_follow_the_umask(run_dir):
    expected = 0o777 & ~(lambda m: (os.umask(m), m)[1])(os.umask(0))
    assert run_dir.stat().st_mode & 0o777 == expected


def test_stop_request_saves_the_best_so_far_marked_interrupted(tmp_path, tiny_config, prices_csv):
    from lstm_forecast.app.commands import train
    from lstm_forecast.config.load import load_config, with_overrides

    config = with_overrides(load_config(tiny_config), data__path=str(prices_csv), train__epochs=50)
    result = train(config, tmp_path / "run", verbose=0, stop=lambda: True)
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["interrupted"] is True and metrics["epochs_run"] == 1
    assert result.metrics["interrupted"] is True


def _train_process(tmp_path: Path, tiny_config: Path, prices_csv: Path, epochs: int):
    command = [sys.executable, "-m", "lstm_forecast", "train", "--config", str(tiny_config),
               "--data", str(prices_csv), "--out", str(tmp_path / "run"),
               "--epochs", str(epochs)]  # fmt: skip
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path
    )
    for line in process.stdout:  # wait until training runs
        if line.startswith("epoch 1/"):
            return process
    raise AssertionError(process.stderr.read())


@pytest.mark.parametrize(
    "signals", [[signal.SIGINT], [signal.SIGINT, signal.SIGINT], [signal.SIGTERM]]
)
def test_interrupting_training(tmp_path, tiny_config, prices_csv, signals):
    big = tmp_path / "big.csv"
    random_walk(3000, start="2000-01-03").to_csv(big, index=False)
    process = _train_process(tmp_path, tiny_config, big, epochs=2000)
    for sent in signals:
        process.send_signal(sent)
        time.sleep(0.05)
    stdout, stderr = process.communicate(timeout=120)
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]
    assert leftovers == []
    if signals == [signal.SIGINT]:  # stop after the epoch, save, say so
        assert process.returncode == 0, stderr
        assert "stopping after this epoch" in stderr
        assert "interrupted after" in stdout
        assert json.loads((tmp_path / "run" / "metrics.json").read_text())["interrupted"]
    else:  # abort: nothing written
        assert process.returncode == 130, stderr
        assert "Traceback" not in stderr and "interrupted: nothing was written" in stderr
        assert not (tmp_path / "run").exists()


def test_a_read_only_folder_is_refused_before_training_even_for_root(tmp_path, prices_csv):
    # os.access says yes to root on a read-only file system; /proc refuses every new file
    result = invoke("train", "--data", prices_csv, "--out", "/proc/lstm-forecast-run")
    assert_user_error(result, "/proc/lstm-forecast-run: cannot write the output directory")
    assert "folder /proc is not writable" in result.output
    assert "epoch" not in result.output  # refused before any training


@pytest.mark.parametrize(
    "command, name",
    [
        (["predict"], "predictions.csv"),
        (["plot"], "history.csv"),
        (["plot"], "calibration.json"),
        (["predict", "--steps", "2"], "calibration.json"),
    ],  # fmt: skip
)
def test_no_output_replaces_a_file_of_a_run_even_with_overwrite(run_dir, command, name):
    out = run_dir / name
    if command == ["predict", "--steps", "2"]:
        out = run_dir / "calibration.csv"  # its JSON beside it would be calibration.json
    before = snapshot(run_dir)
    result = invoke(command[0], run_dir, *command[1:], "--out", out, "--overwrite")
    assert_user_error(result, "is one of the files of the lstm-forecast directory")
    assert unchanged(before, run_dir) and len(snapshot(run_dir)) == len(before)
    assert invoke("predict", run_dir, "--steps", "2", "--out", "-").exit_code == 0  # intact


def test_outputs_are_no_symbolic_links_and_no_directory_goes_inside_a_run(run_dir, tmp_path):
    link = tmp_path / "dangling.csv"
    link.symlink_to(tmp_path / "nowhere.csv")
    result = invoke("predict", run_dir, "--out", link)
    assert_user_error(result, "is a symbolic link; give --out a plain path")
    assert link.is_symlink() and not (tmp_path / "nowhere.csv").exists()
    before = snapshot(run_dir)
    result = invoke("train", "--data", run_dir / "series.csv", "--out", run_dir / "inner")
    assert_user_error(result, f"is inside the lstm-forecast directory {run_dir}")
    assert unchanged(before, run_dir) and not (run_dir / "inner").exists()


def test_plot_and_report_write_what_their_name_says(run_dir, tmp_path):
    assert_user_error(invoke("plot", run_dir, "--out", tmp_path / "x.svg"), "give --out a .png")
    assert_user_error(invoke("report", run_dir, "--out", tmp_path / "x.pdf"), "give --out a .html")
    result = invoke("report", run_dir, "--out", "-")
    assert result.exit_code == 0 and result.stdout.startswith("<!DOCTYPE html>")
    assert not (tmp_path / "x.svg").exists() and not (tmp_path / "x.pdf").exists()
    assert not Path("-").exists()


def test_a_runs_own_default_outputs_are_replaced_as_plot_and_report_replace_theirs(
    run_dir, prices_csv
):
    for _ in range(2):  # the second run replaces the first's files, as plot and report do
        result = invoke("predict", run_dir, "--steps", "3")
        assert result.exit_code == 0, result.output
        result = invoke("predict", run_dir, "--data", prices_csv)
        assert result.exit_code == 0, result.output
    assert (run_dir / "forecast.csv").is_file() and (run_dir / "forecast.json").is_file()
    assert (run_dir / "predicted-prices.csv").is_file()
