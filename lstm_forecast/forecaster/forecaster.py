"""`Forecaster`: a trained model with everything it needs to predict, in one object.

from lstm_forecast import Forecaster, load_config, read_prices
prices = read_prices("data/sp500.csv", load_config("configs/quick.toml"))
forecaster = Forecaster.fit(prices[:"2017"], load_config("configs/quick.toml"))
forecaster.predict(prices["2018":])          # one step ahead, a DataFrame
forecaster.forecast(30).table                # 30 rows past the last date, with an interval
forecaster.save("runs/notebook")             # Forecaster.load("runs/notebook") reads it back
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache, partial
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from lstm_forecast.config.load import as_config, with_overrides
from lstm_forecast.config.schema import Config
from lstm_forecast.errors import ConfigError, DataError
from lstm_forecast.evaluate.baselines import training_drift
from lstm_forecast.files.names import as_flag
from lstm_forecast.forecaster.bands import add_fan, one_step_bands
from lstm_forecast.forecaster.calibrate import Ahead, held_out
from lstm_forecast.intervals.band import origin_scale, path_band, series
from lstm_forecast.prep.scaling import scaler_to_dict
from lstm_forecast.prep.windows import CLOSE, Inputs, model_columns, same_columns

if TYPE_CHECKING:
    from lstm_forecast.model.build import ModelPool


@dataclass
class Forecaster:
    """A trained model, its scaler and input spec, and the prices it knows.

    `data`: by date, the target first, then the columns the features read; the first
    `train_rows` rows trained the model, later rows (a test span, new data) are history that
    predictions and forecasts start from.
    """

    config: Config
    model: object  # keras.Model: (batch, length, inputs) -> (batch, 1)
    scaler: object  # fitted sklearn MinMaxScaler, one column per model input
    data: pd.DataFrame
    train_rows: int
    drift: float  # mean price change per row over the training rows (the drift baseline)
    fit_info: dict = field(default_factory=dict)  # engine, epochs, seconds, windows, interrupted
    history: pd.DataFrame | None = None  # loss per epoch
    # the strongest naive baseline on the training span (baselines.choose_baseline): every
    # verdict is against it
    baseline: str = "persistence"
    # log-ratio targets: prediction = base × exp(shrinkage × model output), shrinkage in [0, 1]
    # fitted on the validation windows (0: the model showed no skill there: the baseline alone)
    shrinkage: float = 1.0
    # out-of-sample errors of the recursive forecast per step (conformal intervals); None when
    # the held-out tail is too short
    calibration: object = None  # intervals.Calibration

    @property
    def inputs(self) -> Inputs:
        """How prices become model inputs: window length, target transform, features."""
        return Inputs.from_config(self.config)

    @property
    def target(self) -> str:
        return str(self.data.columns[0])

    @property
    def train_span(self) -> tuple[pd.Timestamp, pd.Timestamp]:
        return self.data.index[0], self.data.index[self.train_rows - 1]

    # ---- fitting -------------------------------------------------------------------------------

    @classmethod
    def fit(
        cls,
        prices: pd.DataFrame | pd.Series,
        config: Config | str | Path | dict | None = None,
        verbose: int | str = 0,
        report: Callable[[str], object] = lambda line: None,
        stop: Callable[[], bool] = lambda: False,
        source: str = "training data",
        models: ModelPool | None = None,
        warm_start: Forecaster | None = None,
    ) -> Forecaster:
        """Train on every row of `prices` (by date; the target column and any feature columns).

        `config`: a Config, a TOML file's path, a dict of sections, or None (the defaults).

        `report` gets notes such as an engine fallback; `stop()` is asked after every epoch.
        `models`: a model.ModelPool to take the Keras model from, for fits that run one after
        another (walk-forward folds): the Forecaster is then valid until the pool's next fit.
        `warm_start`: a Forecaster of the same model and inputs whose weights training starts
        from (retraining on more data), instead of fresh initial weights; only the weights'
        shapes are checked (a window length or inputs of the same width are not).
        """
        from lstm_forecast.evaluate.baselines import choose_baseline
        from lstm_forecast.model.train import fit

        config = as_config(config)
        frame = model_columns(prices, config, source)
        close = CLOSE if CLOSE in frame.columns[1:] else None
        baseline = choose_baseline(frame, frame.columns[0], close, training_drift(frame))
        if config.window.base == "auto":  # the residual's base follows the strongest baseline
            base = "previous_close" if baseline == "previous_close" else "persistence"
            # a value of BASES chosen here: the config needs no new validation
            config = dataclasses.replace(
                config, window=dataclasses.replace(config.window, base=base)
            )
        if config.window.base == "previous_close" and close is None:
            raise DataError(
                f'[window] base = "previous_close" needs a Close column beside an Open target; '
                f"the data has {', '.join(map(str, frame.columns))}"
            )
        Inputs.from_config(config).check_prices(frame, source)
        # read now: a pool lends the warm start's own model object, and resets its weights
        weights = None if warm_start is None else _weights_of(warm_start)
        ahead = Ahead(config, frame)  # compiles the calibration's paths while the model trains
        fitted = fit(config, frame, source, verbose, report, stop, models, weights, ahead)
        rows, in_sample = ahead.held_out
        before = getattr(getattr(warm_start, "calibration", None), "spread", None)
        shrinkage, calibration = held_out(config, fitted, frame, rows, report, before, ahead)
        return cls(
            config=config,
            model=fitted.model,
            scaler=fitted.scaler,
            data=frame,
            train_rows=len(frame),
            drift=fitted.drift,
            fit_info={
                "engine": fitted.engine,
                "epochs_run": len(fitted.history),
                "epochs_asked": config.train.epochs,
                "interrupted": fitted.interrupted,
                "fit_seconds": fitted.fit_seconds,
                # the first epoch pays for tracing/compilation; the median is the steady state
                "seconds_per_epoch": float(fitted.history["seconds"].median()),
                "train_windows": fitted.windows,
                "parameters": int(fitted.model.count_params()),
                "held_out_rows": len(rows),
                "held_out_in_sample": in_sample,
                "warm_start": warm_start is not None,
            },
            history=fitted.history,
            baseline=baseline,
            shrinkage=shrinkage,
            calibration=calibration,
        )

    def with_data(self, prices: pd.DataFrame | pd.Series) -> Forecaster:
        """The same model knowing `prices` (which must start with its training rows)."""
        frame = model_columns(prices, self.config)
        trained = self.data.iloc[: self.train_rows]
        if len(frame) < self.train_rows or not np.allclose(
            frame.iloc[: self.train_rows, 0].to_numpy(), trained.iloc[:, 0].to_numpy()
        ):
            raise DataError("with_data needs the training rows first, unchanged")
        return dataclasses.replace(self, data=frame)

    # ---- using it ------------------------------------------------------------------------------

    def predict(self, prices: pd.DataFrame | pd.Series | None = None, source="data", bands=True):
        """One-step-ahead predictions for every row of `prices` (default: the data it knows),
        each from the actual prices before it; when `prices` continues or overlaps the known
        data, the first windows take their history from it. Returns a
        DataFrame: date, actual, predicted, persistence, in_sample (a row it trained on), and
        with a calibration each row's one-step band, lower and upper (bands.one_step_bands;
        `bands=False`: not, for a caller that builds its own).
        """
        from lstm_forecast.data.frequency import same_day_keys
        from lstm_forecast.forecaster.predict import history_before, predict_series

        new = (
            self.data
            if prices is None
            else same_columns(prices, self.config, self.data, self.inputs, source)
        )
        table = predict_series(
            self.model,
            self.scaler,
            new,
            history_before(self.data, new),
            self.inputs,
            source,
            self.shrinkage,
        )
        run_keys, new_keys = same_day_keys(self.data.index, new.index)
        training = pd.Series(
            self.data.iloc[: self.train_rows, 0].to_numpy(), run_keys[: self.train_rows]
        )
        trained_on = training.reindex(new_keys).to_numpy()  # the table's rows are new's rows
        table["in_sample"] = np.isclose(trained_on, table["actual"].to_numpy(), rtol=1e-9)
        if as_flag(bands, "predict(): bands") and self.calibration is not None:
            table["lower"], table["upper"] = one_step_bands(self, new, table)
        return table

    def evaluate(self, predictions: pd.DataFrame) -> dict:
        """Metrics of a predict() table beside the baselines, its in-sample rows left out
        (all rows, flagged `in_sample`, when every row is in sample)."""
        from lstm_forecast.evaluate.metrics import evaluate_table

        wanted = ("date", "actual", "predicted", "persistence", "in_sample")
        if (
            not isinstance(predictions, pd.DataFrame)
            or not set(wanted) <= set(predictions)
            or predictions["in_sample"].dtype != bool  # "x" or NaN would count as in sample
        ):
            raise DataError(
                f"evaluate() takes the table predict() returns (columns {', '.join(wanted)}, "
                "in_sample True or False); call forecaster.evaluate(forecaster.predict(prices))"
            )
        in_sample = predictions["in_sample"].to_numpy(bool)
        out_of_sample = predictions[~in_sample].dropna(subset=["predicted"])
        scored = out_of_sample if len(out_of_sample) else predictions
        metrics = evaluate_table(scored, self.drift, self.baseline)
        metrics["in_sample_rows_left_out"] = int(in_sample.sum()) if len(out_of_sample) else 0
        metrics["in_sample"] = not len(out_of_sample)
        return metrics

    def forecast(
        self,
        steps: int,
        prices: pd.DataFrame | pd.Series | None = None,
        origin: str | None = None,
        source: str = "data",
        **settings,
    ):
        """Recursive forecast of `steps` rows past the last date of `prices` (default: the data
        it knows), or past `origin` (an ISO date). `settings` override [forecast] keys: samples,
        level, seed, calendar. Returns a forecast.Forecast (its .table is a DataFrame)."""
        from lstm_forecast.forecaster.forecast import forecast_series, origin_row
        from lstm_forecast.forecaster.predict import history_before

        if isinstance(steps, bool) or not isinstance(steps, int | np.integer):
            raise ConfigError(f"steps must be a whole number, got {steps!r}")
        config = self.config  # parsed and validated once; rebuilt only for settings given
        given = {key: value for key, value in settings.items() if value is not None}
        if given:
            shown = "forecast settings " + ", ".join(f"{k}={v!r:.30}" for k, v in given.items())
            config = with_overrides(
                self.config, shown, **{f"forecast__{k}": v for k, v in given.items()}
            )
        if prices is None:
            frame = self.data
        else:
            new = same_columns(prices, self.config, self.data, self.inputs, source)
            earlier = history_before(self.data, new).set_axis(new.columns, axis=1)
            frame = pd.concat([earlier, new])
        options = config.forecast
        row = origin_row(frame.iloc[:, 0], origin, source)
        band, level = None, options.level
        # no calibration (even the random walk's band could not be made): no band, info "none"
        if options.interval in ("conformal", "adaptive") and self.calibration is not None:
            if options.interval == "adaptive":
                level = self.adaptive_level(frame, row, options)
            target, base = series(frame, self.inputs)
            # one scale for the band and its fan's levels: the spread network runs once
            at_origin = cache(partial(origin_scale, self.calibration, target, base, row + 1))

            def band(point: np.ndarray, at: float = level) -> tuple[np.ndarray, np.ndarray]:
                return path_band(self.calibration, point, at, at_origin(len(point)))

        result = forecast_series(
            self.model,
            self.scaler,
            frame,
            row,
            steps,
            self.inputs,
            samples=options.samples if options.interval == "dropout" else 0,
            level=level,
            seed=options.seed,
            calendar=options.calendar,
            source=source,
            shrinkage=self.shrinkage,
            band=band if options.interval != "none" else None,
            # Monte-Carlo dropout is the model's own spread: its paths stay as the model made them
            combine=self.calibration.combine
            if self.calibration is not None and options.interval != "dropout"
            else None,
        )
        if band is not None and options.interval in ("conformal", "adaptive"):
            add_fan(result.table, band, level)
        return result

    def gates(self, window_end=None) -> pd.DataFrame:
        """Gate and state traces of every recurrent layer over one input window (default: the
        last; `window_end` a date), tidy: layer, cell, step, date, unit, gate, value."""
        from lstm_forecast.forecaster.gates import gate_traces

        return gate_traces(self, window_end)

    def adaptive_level(self, frame: pd.DataFrame, row: int, options) -> float:
        """The interval level adapted to the one-step errors after the training span up to `row`
        (adaptive conformal inference): forecaster.bands.adaptive_forecast_level."""
        from lstm_forecast.forecaster.bands import adaptive_forecast_level

        return adaptive_forecast_level(self, frame, row, options)

    # ---- files ---------------------------------------------------------------------------------

    def save(self, directory: str | Path, overwrite: bool = False, **evaluation) -> Path:
        """Write the run directory atomically (a run of ours is replaced only with overwrite).

        `evaluation`: metrics (dict) and predictions (DataFrame) to store beside it.
        """
        from lstm_forecast.files.staging import staged_directory
        from lstm_forecast.forecaster.bundle import write_run

        with staged_directory(directory, overwrite) as staging:
            write_run(
                staging,
                {
                    "model": self.model,
                    "scaler_params": scaler_to_dict(self.scaler),
                    "config": self.config,
                    "series": self.data,
                    "history": self.history,
                    "calibration": self.calibration.to_dict() if self.calibration else None,
                    **evaluation,
                },
                self._manifest(),
            )
        return Path(directory)

    def _manifest(self) -> dict:
        first, last = self.train_span
        known_last = self.data.index[-1]
        return {
            "target": self.target,
            "features": [self.target, *self.config.data.features],
            "train_rows": self.train_rows,
            "drift": self.drift,
            "train_span": [str(first), str(last)],
            "baseline": self.baseline,
            "shrinkage": self.shrinkage,
            "data_span": [str(first), str(known_last)],
            **self.fit_info,
        }

    @classmethod
    def load(cls, directory: str | Path) -> Forecaster:
        """Read a run directory written by save(); damage or a mismatch is one BundleError."""
        from lstm_forecast.forecaster.bundle import checked_parts, read_run

        run = read_run(directory)
        parts = checked_parts(run, Inputs.from_config(run.config))  # the files checked first
        return cls(config=run.config, data=run.series, history=run.history, **parts)


def _weights_of(warm_start) -> list:
    if not isinstance(warm_start, Forecaster):
        raise ConfigError(f"warm_start takes a Forecaster, got {type(warm_start).__name__}")
    return warm_start.model.get_weights()
