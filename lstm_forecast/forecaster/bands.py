"""The bands a Forecaster adds to its tables: each new row's one-step band (predict), and the
inner bands of a forecast's fan chart (forecast). Built by intervals.band, the one band builder."""

from __future__ import annotations

import numpy as np
import pandas as pd

from lstm_forecast.intervals.band import series


def one_step_bands(forecaster, new: pd.DataFrame, table: pd.DataFrame):
    """(lower, upper) of Forecaster.predict()'s rows (`table`, made of `new`): the one-step band
    of each, adapted online over the rows the model did not train on; NaN without a prediction."""
    from lstm_forecast.forecaster.predict import history_before
    from lstm_forecast.intervals.band import one_step_band, online_band

    history = history_before(forecaster.data, new).set_axis(new.columns, axis=1)
    target, base = series(pd.concat([history, new]), forecaster.inputs)
    rows = len(history) + np.arange(len(new))  # (rows,) the table's rows in that frame
    predicted, actual = table["predicted"].to_numpy(), table["actual"].to_numpy()
    lower, upper = np.full(len(table), np.nan), np.full(len(table), np.nan)
    made = np.isfinite(predicted) & (rows >= 1)
    if not made.any():
        return lower, upper
    level, options = forecaster.config.forecast.level, forecaster.config.forecast
    low, high, scale = one_step_band(
        forecaster.calibration, predicted[made], target, base, rows[made], level
    )
    lower[made], upper[made] = low, high
    out = made & ~table["in_sample"].to_numpy()  # adapted on what it did not train on
    if out.any():
        lower[out], upper[out] = online_band(
            forecaster.calibration, actual[out], predicted[out], scale[out[made]], level,
            options.online, options.gamma, options.tracking_rate,
        )  # fmt: skip
    return lower, upper


FAN_LEVELS = (0.5, 0.8)  # the inner bands of a forecast's fan chart, below its own level


def add_fan(table: pd.DataFrame, band, level: float) -> None:
    """Columns lower_50, upper_50, lower_80, upper_80 (each FAN_LEVELS below `level`): the same
    conformal band at narrower levels, for the fan chart; empty on the history rows."""
    future = table["predicted"].notna().to_numpy()
    point = table["predicted"].to_numpy()[future]
    for fan in (f for f in FAN_LEVELS if f < level):
        lower, upper = band(point, fan)
        for name, values in ((f"lower_{fan * 100:g}", lower), (f"upper_{fan * 100:g}", upper)):
            table[name] = np.nan
            table.loc[future, name] = values


def adaptive_forecast_level(forecaster, frame: pd.DataFrame, row: int, options) -> float:
    """The interval level adapted to the one-step errors on the rows after the training span
    up to `row` (adaptive conformal inference, Gibbs & Candes 2021); the configured level
    when there are none. Capped where the calibration's origins still bound the band."""
    from lstm_forecast.forecaster.predict import predict_rows
    from lstm_forecast.intervals.band import adaptive_level, scale_before

    first = max(forecaster.train_rows, forecaster.inputs.history_rows)
    rows = np.arange(first, row + 1)
    if rows.size == 0:
        return options.level
    predicted = predict_rows(
        forecaster.model, forecaster.scaler, frame, rows, forecaster.inputs, forecaster.shrinkage
    )
    prices, base = series(frame, forecaster.inputs)
    scale = scale_before(forecaster.calibration, prices, base, rows)
    calibration, level, gamma = forecaster.calibration, options.level, options.gamma
    return adaptive_level(calibration, prices[rows], predicted, scale, level, gamma)
