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
from pathlib import Path

import numpy as np
import pandas as pd

from lstm_forecast.config import Config, with_overrides
from lstm_forecast.errors import BundleError, DataError
from lstm_forecast.windows import Inputs, as_frame, scaler_from_dict, scaler_to_dict


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
        config: Config | None = None,
        verbose: int | str = 0,
        report: Callable[[str], object] = lambda line: None,
        stop: Callable[[], bool] = lambda: False,
        source: str = "training data",
    ) -> Forecaster:
        """Train on every row of `prices` (by date; the target column and any feature columns).

        `report` gets notes such as an engine fallback; `stop()` is asked after every epoch.
        """
        from lstm_forecast.train import fit

        config = config or Config()
        frame = model_columns(prices, config)
        fitted = fit(config, frame, source, verbose, report, stop)
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
                "interrupted": fitted.interrupted,
                "fit_seconds": fitted.fit_seconds,
                # the first epoch pays for tracing/compilation; the median is the steady state
                "seconds_per_epoch": float(fitted.history["seconds"].median()),
                "train_windows": fitted.windows,
                "parameters": int(fitted.model.count_params()),
            },
            history=fitted.history,
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

    def predict(self, prices: pd.DataFrame | pd.Series | None = None, source: str = "data"):
        """One-step-ahead predictions for every row of `prices` (default: the data it knows).

        Each row is predicted from the actual prices before it; when `prices` continues or
        overlaps the known data, the first windows take their history from it. Returns a
        DataFrame: date, actual, predicted, persistence, in_sample (a row it trained on).
        """
        from lstm_forecast.predict import history_before, predict_series

        new = self.data if prices is None else model_columns(prices, self.config)
        table = predict_series(
            self.model,
            self.scaler,
            new,
            history_before(self.data, new),
            self.inputs,
            source,
        )
        training = self.data.iloc[: self.train_rows, 0]
        trained_on = training.reindex(pd.DatetimeIndex(table["date"])).to_numpy()
        table["in_sample"] = np.isclose(trained_on, table["actual"].to_numpy(), rtol=1e-9)
        return table

    def evaluate(self, predictions: pd.DataFrame) -> dict:
        """Metrics of a predict() table beside the baselines, its in-sample rows left out
        (all rows, flagged `in_sample`, when every row is in sample)."""
        from lstm_forecast.evaluate import evaluate_table

        in_sample = predictions["in_sample"].to_numpy(bool)
        out_of_sample = predictions[~in_sample].dropna(subset=["predicted"])
        scored = out_of_sample if len(out_of_sample) else predictions
        metrics = evaluate_table(scored, self.drift)
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
        from lstm_forecast.forecast import forecast_series, origin_row
        from lstm_forecast.predict import history_before

        config = with_overrides(
            self.config, **{f"forecast__{key}": value for key, value in settings.items()}
        )
        if prices is None:
            frame = self.data
        else:
            new = model_columns(prices, self.config)
            earlier = history_before(self.data, new).set_axis(new.columns, axis=1)
            frame = pd.concat([earlier, new])
        options = config.forecast
        return forecast_series(
            self.model,
            self.scaler,
            frame,
            origin_row(frame.iloc[:, 0], origin, source),
            steps,
            self.inputs,
            samples=options.samples,
            level=options.level,
            seed=options.seed,
            calendar=options.calendar,
            source=source,
        )

    # ---- files ---------------------------------------------------------------------------------

    def save(self, directory: str | Path, overwrite: bool = False, **evaluation) -> Path:
        """Write the run directory atomically (a run of ours is replaced only with overwrite).

        `evaluation`: metrics (dict) and predictions (DataFrame) to store beside it.
        """
        from lstm_forecast.bundle import write_run
        from lstm_forecast.outputs import staged_directory

        directory = Path(directory)
        with staged_directory(directory, overwrite) as staging:
            write_run(
                staging,
                {
                    "model": self.model,
                    "scaler_params": scaler_to_dict(self.scaler),
                    "config": self.config,
                    "series": self.data,
                    "history": self.history,
                    **evaluation,
                },
                self._manifest(),
            )
        return directory

    def _manifest(self) -> dict:
        first, last = self.train_span
        known_last = self.data.index[-1]
        return {
            "target": self.target,
            "features": [self.target, *self.config.data.features],
            "train_rows": self.train_rows,
            "drift": self.drift,
            "train_span": [str(first), str(last)],
            "data_span": [str(first), str(known_last)],
            **self.fit_info,
        }

    @classmethod
    def load(cls, directory: str | Path) -> Forecaster:
        """Read a run directory written by save(); damage or a mismatch is one BundleError."""
        from lstm_forecast.bundle import load_model, read_run

        run = read_run(directory)
        manifest = run.manifest
        inputs = Inputs.from_config(run.config)
        columns = 1 + len(inputs.features)
        scaler = _checked_scaler(run.scaler_params, columns, run.directory)
        train_rows = manifest.get("train_rows")
        if not isinstance(train_rows, int) or not 0 < train_rows <= len(run.series):
            raise BundleError(f"{run.directory}/run.json: train_rows is missing or out of range")
        model = load_model(run.model_path)
        expected = (None, inputs.length, columns)
        if tuple(model.input_shape) != expected:
            raise BundleError(
                f"{run.model_path}: the model takes windows of shape {tuple(model.input_shape)}, "
                f"but config.toml describes {expected}; train the run again"
            )
        fit_keys = ("engine", "epochs_run", "interrupted", "fit_seconds", "seconds_per_epoch")
        return cls(
            config=run.config,
            model=model,
            scaler=scaler,
            data=run.series,
            train_rows=train_rows,
            drift=float(manifest.get("drift", 0.0)),
            fit_info={key: manifest[key] for key in fit_keys if key in manifest},
            history=run.history,
        )


def model_columns(prices: pd.DataFrame | pd.Series, config: Config) -> pd.DataFrame:
    """The target column first, then the columns the features read, matched by name
    (case-insensitive); a Series or a frame already in that order passes through."""
    from lstm_forecast.data import feature_columns

    frame = as_frame(prices)
    if not isinstance(frame.index, pd.DatetimeIndex):
        raise DataError("prices need a DatetimeIndex (dates as the index, oldest first)")
    wanted = [config.data.target, *feature_columns(config.data)]
    by_name = {str(column).strip().lower(): column for column in frame.columns}
    if all(name.strip().lower() in by_name for name in wanted):
        return frame[[by_name[name.strip().lower()] for name in wanted]].astype("float64")
    if frame.shape[1] == len(wanted):
        return frame.astype("float64")  # already target first, then features, under other names
    raise DataError(
        f"prices have columns {', '.join(map(str, frame.columns))}; the config needs "
        f"{', '.join(wanted)}"
    )


def _checked_scaler(params: dict, columns: int, directory: Path):
    """A scaler from scaler.json, checked: finite bounds, one per model input, min < max."""
    where = f"{directory}/scaler.json"
    try:
        low = np.asarray(params["data_min"], dtype=np.float64)
        high = np.asarray(params["data_max"], dtype=np.float64)
        scaler = scaler_from_dict(params)
    except (KeyError, TypeError, ValueError) as e:
        raise BundleError(f"{where}: damaged ({e}); train the run again") from e
    if low.shape != (columns,) or high.shape != (columns,):
        raise BundleError(
            f"{where}: {low.size} scaled columns, the config has {columns} model inputs; "
            "train the run again"
        )
    if not (np.isfinite(low).all() and np.isfinite(high).all()) or np.any(low[:1] >= high[:1]):
        raise BundleError(f"{where}: bounds are not finite or min >= max; train the run again")
    return scaler
