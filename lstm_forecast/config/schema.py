"""Run configuration: one frozen dataclass per concern (load.py reads and writes them as TOML,
checks.py validates them).

The defaults below *are* the default config (what `lstm-forecast train` uses with no --config).
The reference example lives in configs/seed.toml; see the README for why the defaults differ from it.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

TARGET_TRANSFORMS = ("level", "return", "log_return", "diff", "residual")
BASES = ("auto", "persistence", "previous_close")
INTERVALS = ("conformal", "adaptive", "dropout", "none")
CELLS = ("lstm", "peephole", "cifg", "gru")
OPTIMIZERS = ("adam", "adamw", "rmsprop", "sgd")
ENGINES = ("auto", "fast", "keras")
LOSSES = ("mse", "mae", "huber")
DATE_ORDERS = ("auto", "dayfirst", "monthfirst")
MAX_SEED = 2**32 - 1  # NumPy's and Keras's seeds are unsigned 32-bit
TUNE_SECTION = "tune"  # read by `lstm-forecast tune` alone


@dataclass(frozen=True)
class DataConfig:
    # Training CSV; "" means the S&P 500 series bundled in the repository's data/ folder.
    path: str = ""
    # Separate test CSV that continues `path` in time (the reference way); "" splits `path` instead.
    test_path: str = ""
    # Date column by header name (case-insensitive); "" picks the first column named like "date".
    date_column: str = ""
    # Column to forecast, by header name (case-insensitive). The reference example uses "Open".
    target: str = "Open"
    # Share of the rows (the newest ones) kept for testing when there is no test_path or test_start.
    test_fraction: float = 0.1
    # ISO date: rows on or after it form the test span. Overrides test_fraction when set.
    test_start: str = ""
    # Field separator; "" detects "," ";" or tab from the header line.
    sep: str = ""
    # Decimal mark; "" detects "," in ;-separated files with numbers like 1.155,55, else ".".
    decimal: str = ""
    # Dates like 03/04/2024: "dayfirst" (3 April), "monthfirst" (March 4) or "auto" (decided from
    # the file: a day above 12 tells; a file that cannot tell is refused with this hint).
    date_order: str = "auto"
    # A pandas frequency ("1D", "W-FRI", "ME", "1h", "30min") to resample the prices to right after
    # loading (the last price of each bucket; empty buckets dropped), for data with no regular step.
    # "" = use the rows as they are (data whose step cannot be told apart is refused with a hint).
    resample: str = ""
    # Model inputs besides the target (which is always the first input): column names such as
    # "Volume", or derived features: "return(Close)", "log1p(Volume)", "sma(Close, 20)",
    # "day_of_week". Empty: the target alone, as in the reference.
    features: tuple[str, ...] = ()

    @functools.cached_property
    def parsed_features(self) -> tuple:
        """`features` parsed into lstm_forecast.data.features.Feature objects (once per config)."""
        from lstm_forecast.data.features import parse_features

        return parse_features(self.features)


@dataclass(frozen=True)
class WindowConfig:
    # Past steps the model sees to predict the next one (the reference uses 60 trading days).
    length: int = 60
    # What the model learns: "residual" = log(price_t / base_t-1), the residual over the `base`
    # baseline (an output of 0 is the baseline itself); "level" = scaled price (the reference
    # way; cannot forecast outside the training price range); "return" = price_t / price_t-1 - 1;
    # "log_return" = log(price_t / price_t-1); "diff" = price_t - price_t-1. All but "level" are
    # turned back into a price from the previous actual, so they work at any price level.
    target_transform: str = "residual"
    # The base of "residual": "previous_close" (the Close before an Open target: tomorrow's open
    # = today's close), "persistence" (the target's previous value: the log return), or "auto" =
    # whichever of the two the training span favours (baselines.choose_baseline); a trained run
    # stores the resolved value.
    base: str = "auto"
    # Per-window normalisation: divide each window's level-like inputs (a "level" target, raw
    # columns, moving averages) by their value on the window's last row.
    normalize: bool = False


@dataclass(frozen=True)
class LayerConfig:
    # Units of this recurrent layer.
    units: int = 50
    # Dropout rate applied after this layer (0 = no Dropout layer).
    dropout: float = 0.2
    # Recurrent cell of this layer; "" = the model's `cell`.
    cell: str = ""


@dataclass(frozen=True)
class ModelConfig:
    # Recurrent cell of every layer: "lstm" (Keras LSTM, the reference), "peephole" (gates also
    # see the cell state), "cifg" (input gate = 1 - forget gate) or "gru" (Keras GRU).
    cell: str = "lstm"
    # Recurrent layers, input side first; each but the last returns full sequences.
    layers: tuple[LayerConfig, ...] = (LayerConfig(units=32), LayerConfig(units=32))


@dataclass(frozen=True)
class TrainConfig:
    # Keras optimizer by name.
    optimizer: str = "adam"
    # Optimizer learning rate (Keras's Adam default).
    learning_rate: float = 0.001
    # Loss by name: "mse" (reference), "mae" or "huber".
    loss: str = "mse"
    # Upper bound on training epochs (early stopping may end sooner).
    epochs: int = 30
    # Windows per gradient step (reference: 32).
    batch_size: int = 32
    # Stop after this many epochs without improvement of the monitored loss; 0 = never stop early.
    early_stopping_patience: int = 5
    # Share of the newest training windows held out to monitor early stopping; 0 = monitor train loss.
    validation_fraction: float = 0.1
    # Seed for weights, dropout masks and shuffling.
    seed: int = 0
    # With engine "keras": compile train steps with XLA, the same math with another random stream
    # (about 1.4x faster per epoch for the 4 x LSTM(50) reference model).
    jit_compile: bool = False
    # Training engine: "fast" = lstm_forecast.model.fast, the same model and math on TensorFlow's fused
    # LSTM kernels, one graph call per epoch, each batch split over the cores (plain LSTM cells,
    # Adam; several times faster per epoch, benchmarks/results/speed.md); "keras" =
    # keras.Model.fit (any cell and optimizer); "auto" = fast where it applies, else keras.
    engine: str = "auto"


@dataclass(frozen=True)
class ForecastConfig:
    # Prediction interval of a forecast: "conformal" = the point forecast widened by the quantile
    # of out-of-sample errors of each step, collected at training time (calibration_origins;
    # intervals.py); "adaptive" = the same with the level adapted online to the errors on data
    # after the training span (Gibbs & Candes 2021); "dropout" = Monte-Carlo dropout; "none".
    interval: str = "conformal"
    # Forecast steps the conformal calibration measures errors for (longer forecasts widen the
    # last step's band by sqrt(steps / calibration_steps)).
    calibration_steps: int = 20
    # Step size of the adaptive interval's level updates (Gibbs & Candes's value).
    gamma: float = 0.005
    # Conformal scores: "volatility" = errors divided by the price's volatility at their origin
    # (an exponentially weighted average of squared log returns, RiskMetrics' 0.94), and each
    # band scaled by the volatility at its own origin, so it widens when the market turns;
    # "none" = raw log errors.
    interval_scale: str = "volatility"
    # Origins the conformal scores of steps 2.. come from: "all" = the model's held-out origins
    # and, before them, every origin of the training span with the errors of the random walk (the
    # target's last value held: no parameters, so out of sample everywhere;
    # calibrate.random_walk_errors); "held-out" = the held-out origins alone. Step 1 always keeps
    # the model's held-out errors.
    calibration_origins: str = "all"
    # With interval = "dropout": Monte-Carlo dropout samples per forecast (the model's Dropout
    # layers kept on); 0 = one deterministic path with dropout off and no interval.
    samples: int = 100
    # Central prediction interval: 0.9 = from the 5th to the 95th percentile of the samples.
    level: float = 0.9
    # Dates past the data's end: "" = Monday-Friday business days; an exchange code such as
    # "XNYS" skips that exchange's holidays too (needs the `calendars` extra: exchange_calendars).
    calendar: str = ""
    # Seed of the dropout masks: the same seed gives the same forecast. (Non-target features
    # keep their last known value during a recursive forecast, which predicts the target alone.)
    seed: int = 0


@dataclass(frozen=True)
class BacktestConfig:
    """How `backtest` (and every trial of `tune`) walks forward."""

    # Train a new model every `refit` folds, from scratch on every row before that fold; the folds
    # between use the last model, predicting each row from the actual prices before it (as
    # NeuralForecast's cross_validation(refit=...) and Darts' historical_forecasts(retrain=...)).
    # 1 = every fold (the strict default); 0 = once, before the first fold: a model that is
    # trained once and then used for folds * fold_length rows, as `train` then `predict` is.
    refit: int = 1


@dataclass(frozen=True)
class Config:
    data: DataConfig = field(default_factory=DataConfig)
    window: WindowConfig = field(default_factory=WindowConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    forecast: ForecastConfig = field(default_factory=ForecastConfig)
    backtest: BacktestConfig = field(default_factory=BacktestConfig)
