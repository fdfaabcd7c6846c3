"""Gate traces (lstm_forecast/gates.py) against the layers' own outputs, their figure, the
`gates` command and the report section."""

import shutil

import numpy as np
import pandas as pd
import pytest
import typer
from conftest import random_walk
from typer.testing import CliRunner

from lstm_forecast.config.load import config_from_dict
from lstm_forecast.config.schema import CELLS
from lstm_forecast.errors import ConfigError, DataError
from lstm_forecast.forecaster.gates import (
    GRU_GATES,
    LSTM_GATES,
    TRACE_COLUMNS,
    gate_traces,
    model_window,
    trace_layer,
    window_end_row,
)
from lstm_forecast.forecaster.gates_summary import gate_matrix, gates_summary, input_moves
from lstm_forecast.model.cells import keras, recurrent_layer

ATOL = 1e-5  # float32 arithmetic in Keras against float64 in NumPy
LENGTH = 6
GATES_IN_0_1 = {"forget", "input", "output", "update", "reset"}


def tiny_config(cell: str):
    return config_from_dict(
        {
            "window": {"length": LENGTH, "target_transform": "log_return"},
            "model": {"cell": cell, "layers": [{"units": 4, "dropout": 0.1}, {"units": 3, "dropout": 0.0}]},
            "train": {"epochs": 1, "batch_size": 16, "early_stopping_patience": 0,
                      "validation_fraction": 0.0, "engine": "keras"},
        }
    )  # fmt: skip


@pytest.fixture(scope="module")
def forecasters():
    """One tiny Forecaster per cell, fitted on demand (120 business days, one epoch)."""
    from lstm_forecast import Forecaster

    prices = random_walk(120, seed=3).set_index("Date")[["Open"]]
    fitted = {}

    def get(cell: str):
        if cell not in fitted:
            fitted[cell] = Forecaster.fit(prices, tiny_config(cell))
        return fitted[cell]

    return get


def layer_outputs(model, window: np.ndarray) -> list[np.ndarray]:
    """Each recurrent layer's own output for one window, from a Keras sub-model."""
    recurrent = [layer for layer in model.layers if isinstance(layer, keras.layers.RNN)]
    sub_model = keras.Model(model.inputs, [layer.output for layer in recurrent])
    # called eagerly: Keras's predict would trace a function for each sub-model (slower)
    return [np.asarray(output)[0] for output in sub_model([window[None]], training=False)]


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("window_end", [None, "2020-03-10"])
def test_traced_hidden_states_equal_the_layers_outputs(forecasters, cell, window_end):
    forecaster = forecasters(cell)
    traces = gate_traces(forecaster, window_end)
    window = model_window(forecaster, window_end_row(forecaster, window_end))
    outputs = layer_outputs(forecaster.model, window)
    assert sorted(traces["layer"].unique()) == [1, 2]
    for number, output in enumerate(outputs, start=1):
        hidden = gate_matrix(traces, number, "hidden").to_numpy()  # (steps, units)
        # the last layer returns its final state only
        expected = hidden if output.ndim == 2 else hidden[-1]
        np.testing.assert_allclose(expected, output, atol=ATOL)
    # and through the Dense head: the model's own output from the traced last state
    dense = forecaster.model.get_layer("next_value")
    kernel, bias = dense.get_weights()
    last_hidden = gate_matrix(traces, 2, "hidden").to_numpy()[-1]
    model_output = np.asarray(forecaster.model(window[None], training=False))[0]
    np.testing.assert_allclose(last_hidden @ kernel + bias, model_output, atol=ATOL)


@pytest.mark.parametrize("cell", CELLS)
def test_the_table_is_tidy_and_gates_lie_in_0_1(forecasters, cell):
    forecaster = forecasters(cell)
    traces = gate_traces(forecaster)
    assert tuple(traces.columns) == TRACE_COLUMNS
    assert set(traces["gate"]) == set(GRU_GATES if cell == "gru" else LSTM_GATES)
    assert set(traces["cell"]) == {cell}
    assert sorted(traces["step"].unique()) == list(range(LENGTH))
    last_dates = forecaster.data.index[-LENGTH:]
    by_step = traces.drop_duplicates("step").sort_values("step")
    assert list(by_step["date"]) == list(last_dates)
    assert len(traces) == len(set(traces["gate"])) * LENGTH * (4 + 3)
    gates = traces[traces["gate"].isin(GATES_IN_0_1)]["value"]
    assert gates.between(0, 1).all()
    squashed = traces[traces["gate"].isin({"candidate", "hidden"})]["value"]
    assert squashed.between(-1, 1).all()


def test_cifg_input_is_one_minus_forget_exactly(forecasters):
    traces = gate_traces(forecasters("cifg"))
    for layer in (1, 2):
        forget = gate_matrix(traces, layer, "forget").to_numpy()
        np.testing.assert_array_equal(gate_matrix(traces, layer, "input").to_numpy(), 1 - forget)
    summary = gates_summary(traces)
    assert [numbers["cifg_max_deviation"] for numbers in summary["layers"]] == [0.0, 0.0]


def random_weights(layer, seed=1):
    """Random weights everywhere (biases and peepholes too), so no term hides behind a zero."""
    generator = np.random.default_rng(seed)
    layer.set_weights([generator.normal(0, 0.5, w.shape) for w in layer.get_weights()])


@pytest.mark.parametrize(
    "make",
    [
        *[lambda cell=cell: recurrent_layer(cell, 5, True, f"layer_{cell}") for cell in CELLS],
        lambda: keras.layers.GRU(5, return_sequences=True, reset_after=False),
        lambda: keras.layers.LSTM(5, return_sequences=True, use_bias=False),
        lambda: keras.layers.LSTM(5, return_sequences=True, recurrent_activation="hard_sigmoid"),
    ],
    ids=[*CELLS, "gru-reset-before", "lstm-no-bias", "lstm-hard-sigmoid"],
)
def test_trace_layer_equals_the_layer_on_a_batch(make):
    keras.utils.set_random_seed(0)
    layer = make()
    inputs = np.random.default_rng(2).normal(0, 1, (3, 7, 2)).astype(np.float32)
    expected = np.asarray(layer(inputs))  # builds it; then the random weights
    random_weights(layer)
    expected = np.asarray(layer(inputs))  # (batch, steps, units)
    traces = trace_layer(layer, inputs)
    np.testing.assert_allclose(traces["hidden"], expected, atol=ATOL)


def test_window_end_picks_the_last_row_on_or_before_the_date(forecasters):
    forecaster = forecasters("lstm")
    traces = gate_traces(forecaster, pd.Timestamp("2020-03-08"))  # a Sunday
    dates = pd.DatetimeIndex(traces["date"].unique())
    assert dates[-1] == pd.Timestamp("2020-03-06") and len(dates) == LENGTH


@pytest.mark.parametrize("date", ["2019-12-01", "2020-01-03", "2031-01-01", "someday"])
def test_a_date_without_a_full_window_is_one_line_naming_the_range(forecasters, date):
    forecaster = forecasters("lstm")
    first = forecaster.data.index[forecaster.inputs.history_rows - 1].date()
    last = forecaster.data.index[-1].date()
    with pytest.raises(
        DataError, match=f"from {first} to {last}; give --date \\(window_end"
    ) as caught:
        gate_traces(forecaster, date)
    assert "\n" not in str(caught.value)


def test_summary_numbers_follow_from_the_traces(forecasters):
    forecaster = forecasters("lstm")
    traces = gate_traces(forecaster)
    moves = input_moves(forecaster)
    summary = gates_summary(traces, moves)
    forget = gate_matrix(traces, 1, "forget").to_numpy()  # (steps, units)
    first = summary["layers"][0]
    assert first["mean_forget"] == pytest.approx(forget.mean())
    assert first["erased_share"] == pytest.approx((forget < 0.1).mean())
    # a window shorter than 20 steps: the product over all of it
    assert first["survives_steps"] == LENGTH
    assert first["survives"] == pytest.approx(np.prod(forget, axis=0).mean())
    # the model's input of a log_return run: the log return of the price
    log_returns = np.log(forecaster.data.iloc[:, 0]).diff()
    np.testing.assert_allclose(moves.to_numpy()[1:], log_returns.to_numpy()[1:])
    window = log_returns.iloc[-LENGTH:]
    assert summary["largest_move_date"] == str(window.abs().idxmax().date())
    assert summary["largest_move"] == pytest.approx(window.loc[window.abs().idxmax()])
    assert first["forget_at_largest_move"] == pytest.approx(forget[window.abs().argmax()].mean())


def test_summary_of_a_hand_made_table_counts_gaps_and_erasures():
    # 4 steps x 2 units of a forget gate; a 5-day gap before the third row
    forget = np.array([[0.9, 0.5], [0.8, 0.05], [0.2, 0.04], [0.9, 0.6]])
    dates = pd.to_datetime(["2020-01-02", "2020-01-03", "2020-01-08", "2020-01-09"])
    steps, units = np.meshgrid(np.arange(4), np.arange(2), indexing="ij")
    traces = pd.DataFrame(
        {"layer": 1, "cell": "cifg", "step": steps.ravel(), "date": dates[steps.ravel()],
         "unit": units.ravel(), "gate": "forget", "value": forget.ravel()}
    )  # fmt: skip
    input_rows = traces.assign(gate="input", value=1 - traces["value"])
    output_rows = traces.assign(gate="output", value=0.5)
    moves = pd.Series([0.01, -0.03, 0.02, 0.0], index=dates, name="log_return")
    summary = gates_summary(pd.concat([traces, input_rows, output_rows]), moves)
    numbers = summary["layers"][0]
    assert (summary["gap_steps"], summary["largest_move_date"]) == (1, "2020-01-03")
    assert summary["move"] == "log_return" and summary["largest_move"] == -0.03
    assert numbers["erased_share"] == 2 / 8
    assert numbers["survives"] == pytest.approx(
        (0.9 * 0.8 * 0.2 * 0.9 + 0.5 * 0.05 * 0.04 * 0.6) / 2
    )
    assert numbers["most_closed_date"] == "2020-01-08"
    assert numbers["forget_after_gaps"] == pytest.approx(0.12)
    assert numbers["forget_elsewhere"] == pytest.approx(np.mean([0.7, 0.425, 0.75]))
    assert numbers["forget_at_largest_move"] == pytest.approx(0.425)
    assert numbers["move_where_most_closed"] == 0.02
    assert numbers["cifg_max_deviation"] == 0.0 and numbers["mean_output"] == 0.5


@pytest.mark.parametrize("cell", ["cifg", "gru"])
def test_the_figure_has_the_prices_then_a_heatmap_per_gate(forecasters, cell):
    from lstm_forecast.report.gates_plot import gates_figure

    forecaster = forecasters(cell)
    figure = gates_figure(gate_traces(forecaster), forecaster.data.iloc[:, 0], layer=2)
    titles = [axes.get_title(loc="left") or axes.get_title() for axes in figure.axes]
    shown = ["forget gate", "input gate = 1 − forget", "output gate", "cell state"]
    if cell == "gru":
        shown = ["update gate", "reset gate", "hidden state"]
    assert "input prices" in titles[0]
    assert len(titles) == 1 + len(shown) + 2  # and two colour bars
    for title, gate in zip(titles[1:], shown, strict=False):
        assert title.startswith(f"layer 2 ({cell}) {gate}")
    images = [axes.images[0] for axes in figure.axes[1 : 1 + len(shown) - 1]]
    assert all(image.get_clim() == (0.0, 1.0) for image in images)  # gates on 0..1
    assert figure.axes[1].images[0].get_array().shape == (3, LENGTH)  # (units, steps)
    with pytest.raises(ConfigError, match="--layer 3: the model has recurrent layers 1 to 2"):
        gates_figure(gate_traces(forecaster), forecaster.data.iloc[:, 0], layer=3)


@pytest.fixture
def run_copy(trained_run, tmp_path):
    result, _, _ = trained_run
    return shutil.copytree(result.run_dir, tmp_path / "run")


def invoke(*args):
    from lstm_forecast.cli.gates import gates

    app = typer.Typer()
    app.callback()(lambda: None)  # a group, as `lstm-forecast gates ...`
    app.command()(gates)
    return CliRunner().invoke(app, ["gates", *map(str, args)])


def test_cli_writes_the_png_and_csv_and_prints_the_numbers(run_copy):
    result = invoke(run_copy)
    assert result.exit_code == 0, result.output
    assert "memory erased" in result.output and "survives the last" in result.output
    assert (run_copy / "gates.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    table = pd.read_csv(run_copy / "gates.csv")
    assert tuple(table.columns) == TRACE_COLUMNS
    assert set(table["layer"]) == {1, 2}


def test_cli_prefix_and_refuses_a_users_file(run_copy, tmp_path):
    assert invoke(run_copy, "--out", tmp_path / "look.png", "--date", "2020-06-15").exit_code == 0
    assert (tmp_path / "look.png").is_file() and (tmp_path / "look.csv").is_file()
    again = invoke(run_copy, "--out", tmp_path / "look")
    assert again.exit_code == 2 and "already exists" in again.output
    (tmp_path / "mine.png").write_bytes(b"a user's picture")
    refused = invoke(run_copy, "--out", tmp_path / "mine", "--overwrite")
    assert refused.exit_code == 2
    assert "was not written by lstm-forecast" in refused.output
    assert (tmp_path / "mine.png").read_bytes() == b"a user's picture"
    assert not (tmp_path / "mine.csv").exists()  # checked before anything was written


def test_cli_refuses_a_date_and_a_layer_it_cannot_show(run_copy):
    late = invoke(run_copy, "--date", "2031-01-01")
    assert late.exit_code == 2 and "in that range" in late.output
    deep = invoke(run_copy, "--layer", "3")
    assert deep.exit_code == 2 and "--layer 3" in deep.output


def test_cli_replaces_its_own_files(run_copy, tmp_path):
    assert invoke(run_copy).exit_code == 0
    assert invoke(run_copy).exit_code == 0  # the defaults are replaced
    assert invoke(run_copy, "--out", tmp_path / "look").exit_code == 0
    assert invoke(run_copy, "--out", tmp_path / "look", "--overwrite").exit_code == 0


def test_report_section_embeds_the_figure_and_the_numbers(trained_run):
    from lstm_forecast.forecaster.bundle import read_run
    from lstm_forecast.forecaster.forecaster import Forecaster
    from lstm_forecast.report.gates import gates_section
    from lstm_forecast.report.page import render
    from lstm_forecast.report.run import run_page

    result, _, _ = trained_run
    section = gates_section(Forecaster.load(result.run_dir))
    assert section["id"] == "gates" and section["figures"][0]["uri"].startswith("data:image/png")
    assert [numbers["layer"] for numbers in section["summary"]["layers"]] == [1, 2]
    page = run_page(read_run(result.run_dir))
    html = render({**page, "sections": [*page["sections"], section]})
    assert "Inside the cell" in html and "memory erased" in html
