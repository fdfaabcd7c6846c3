import matplotlib.image
import numpy as np
import pandas as pd
import pytest

from lstm_forecast.app.commands import plot as plot_run
from lstm_forecast.errors import DataError


def colour_pixels(png, rgb, tolerance=0.15):
    image = matplotlib.image.imread(png)[..., :3]
    return int((np.abs(image - np.array(rgb)) < tolerance).all(axis=-1).sum())


def test_plot_draws_red_real_and_blue_predicted_curves(trained_run, tmp_path):
    result, _, _ = trained_run
    png = plot_run(result.run_dir, out=tmp_path / "figure.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert colour_pixels(png, (1.0, 0.0, 0.0)) > 200  # the real price, red
    assert colour_pixels(png, (0.0, 0.0, 1.0)) > 200  # the predicted price, blue


def test_plot_defaults_into_the_run_and_takes_predict_output(trained_run, tmp_path):
    result, _, _ = trained_run
    assert plot_run(result.run_dir) == result.run_dir / "plot.png"
    table = pd.read_csv(result.run_dir / "predictions.csv").iloc[:10]
    table.to_csv(tmp_path / "some.csv", index=False)
    assert plot_run(
        result.run_dir, out=tmp_path / "some.png", predictions=tmp_path / "some.csv"
    ).exists()


def test_plot_rejects_a_csv_that_is_not_predict_output(trained_run, tmp_path):
    result, _, _ = trained_run
    (tmp_path / "other.csv").write_text("date,close\n2020-01-01,1\n")
    with pytest.raises(DataError, match="missing column\\(s\\) actual, predicted"):
        plot_run(result.run_dir, predictions=tmp_path / "other.csv")


def test_the_run_figure_draws_the_real_price_on_top_and_the_baseline_it_compares_with():
    from lstm_forecast.report.plot import run_figure

    dates = pd.bdate_range("2024-01-01", periods=30).strftime("%Y-%m-%d")
    prices = np.linspace(100, 110, 30)
    table = pd.DataFrame({"date": dates, "actual": prices, "predicted": prices + 0.1,
                          "persistence": np.r_[np.nan, prices[:-1]]})  # fmt: skip
    history = pd.DataFrame({"epoch": [1, 2, 3], "loss": [0.02, 0.005, 0.003]})
    metrics = {"rmse": 0.1, "skill": 0.01, "baseline": "persistence",
               "baseline_label": "tomorrow = today"}  # fmt: skip
    figure = run_figure(table, history, "Close", "x", metrics)
    prices_axes, loss_axes = figure.axes
    lines = {line.get_label(): line for line in prices_axes.get_lines()}
    assert "Baseline: tomorrow = today" in lines
    assert lines["Real Close price"].get_zorder() > lines["Predicted Close price"].get_zorder()
    figure.canvas.draw()
    labels = [t.get_text() for t in loss_axes.get_yticklabels(minor=True) if t.get_text()]
    assert all("$" not in label and "times" not in label for label in labels)  # plain numbers


def test_plot_refuses_a_forecast_whose_band_is_damaged(tmp_path):
    """A fan column that is no number, or a lower end above its upper end: one line naming the
    file, the line and the values, instead of a figure drawn from it."""
    import pandas as pd
    import pytest

    from lstm_forecast.errors import DataError
    from lstm_forecast.report.plot import FORECAST_COLUMNS
    from lstm_forecast.report.run_plots import read_table

    table = pd.DataFrame({"date": ["2024-01-02", "2024-01-03"], "actual": [1.0, None],
                          "predicted": [None, 1.0], "lower": [None, 0.9], "upper": [None, 1.1],
                          "lower_50": [None, "abc"], "upper_50": [None, 1.05]})  # fmt: skip
    path = tmp_path / "forecast.csv"
    table.to_csv(path, index=False)
    with pytest.raises(DataError, match="line 3, column 'lower_50': 'abc' is not a number"):
        read_table(path, FORECAST_COLUMNS, "predict --steps N")
    table["lower_50"], table["lower"] = [None, 0.95], [None, 1.2]
    table.to_csv(path, index=False)
    with pytest.raises(DataError, match="line 3: lower 1.2 is above upper 1.1"):
        read_table(path, FORECAST_COLUMNS, "predict --steps N")
