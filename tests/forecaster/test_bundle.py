"""The run's series.csv reads back with its timestamps: times, offsets, time zones."""

import numpy as np
import pandas as pd
import pytest

from lstm_forecast.errors import BundleError
from lstm_forecast.forecaster.bundle import read_run
from lstm_forecast.forecaster.run_parts import read_series


@pytest.mark.parametrize(
    ("index", "dtype"),
    [
        (pd.bdate_range("2024-01-01", periods=4), "datetime64[us]"),
        (pd.date_range("2024-01-01 09:30", periods=4, freq="30min"), "datetime64[us]"),
        (pd.date_range("2024-01-02 09:30", periods=4, freq="h", tz="UTC-05:00"), "UTC-05:00"),
        # a named zone over the daylight-saving switch: mixed offsets, read as UTC
        (pd.date_range("2024-03-08 09:30", periods=4, freq="D", tz="America/New_York"), "UTC"),
    ],
    ids=["days", "bars", "fixed-offset", "named-zone-over-dst"],
)
def test_series_csv_reads_back_the_same_instants(tmp_path, index, dtype):
    frame = pd.DataFrame({"Open": np.arange(4.0), "Volume": 10.0}, index=index)
    path = tmp_path / "series.csv"
    frame.rename_axis("date").reset_index().to_csv(path, index=False, float_format="%.10g")
    series = read_series(path)
    assert dtype in str(series.index.dtype)
    assert (series.index == index).all()  # the same instants
    assert series.index.name == "date" and list(series.columns) == ["Open", "Volume"]


def test_a_folder_of_runs_names_the_runs_inside(tmp_path):
    for name in ("2024-a", "2024-b"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "model.keras").write_bytes(b"x")
    (tmp_path / "notes").mkdir()
    with pytest.raises(BundleError) as error:
        read_run(tmp_path)
    message = str(error.value)
    assert "a folder of runs, not a run; it holds 2024-a, 2024-b" in message
    assert message.endswith(f"e.g. {tmp_path / '2024-b'}") and "\n" not in message
