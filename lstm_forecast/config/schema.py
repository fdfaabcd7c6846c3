"""Run configuration: one frozen dataclass per concern (load.py reads and writes them as TOML,
checks.py validates them).

The defaults below *are* the default config (what `lstm-forecast train` uses with no --config).
The reference example lives in configs/seed.toml; see the README for why the defaults differ from it.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field

from lstm_forecast.errors import ConfigError

TARGET_TRANSFORMS = ("level", "return", "log_return", "diff", "residual")
BASES = ("auto", "persistence", "previous_close")
INTERVALS = ("conformal", "adaptive", "dropout", "none")
# intervals/spread.py: the spread models
SCALES = ("ewma-model", "ewma", "ewma-garch", "garch", "model", "none")
ONLINE = ("aci", "track", "none")  # intervals/band.py online_band: how one-step bands adapt
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
    # The patience instead when training starts from an earlier model's weights (a warm refit of
    # a backtest or tune, Forecaster.fit(warm_start=...)) and early stopping is on: the model
    # starts near an optimum for nearly the same rows, not from random weights. 1, not 2: 29 %
    # fewer epochs and the fresh refits' verdicts on ten series (benchmarks/warm_refits.py).
    warm_start_patience: int = 1
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
    # How a one-step band adapts as actuals arrive (the test span, `predict` on new data, every
    # backtest row): "aci" = adaptive conformal inference moves its level by `gamma` after each
    # miss or hit (Gibbs & Candes 2021); "track" = the quantile tracker of conformal PID
    # control moves the quantile by `tracking_rate` (Angelopoulos et al. 2023; bands stay
    # finite); "none" = the static band. benchmarks/results/bands.md chose "aci".
    online: str = "aci"
    # Step size of the adaptive level's updates (Gibbs & Candes's value), here and for
    # interval = "adaptive".
    gamma: float = 0.005
    # Step size of the quantile tracker (online = "track"), times the largest recent score.
    tracking_rate: float = 0.003
    # What a band is scaled by (and conformal scores divided by) at its origin, from the rows up
    # to it only (intervals/spread.py): "ewma" = the exponentially weighted volatility
    # (RiskMetrics' 0.94) of the price over the base its prediction builds on at step 1, and of
    # the target's returns at the later steps; "garch" = GARCH(1,1) models of the same, whose
    # forecast reverts to the long run; "ewma-garch" = the EWMA at step 1, GARCH later;
    # "model" = a small network of the spread trained by the moves' likelihood, one output per
    # step (intervals/spread_net.py); "ewma-model" = the EWMA at step 1, the network later
    # (the EWMA there too before 500 moves: spread_net.MIN_MOVES); "none" = raw log errors.
    # benchmarks/results/bands.md chose "ewma-model".
    scale: str = "ewma-model"
    # The old name of `scale`: "volatility" (the EWMA of the target's returns) or "none". When
    # set, it is used as before (runs and configs made before `scale` keep their bands).
    interval_scale: str = ""
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
    # What a refit starts from: "previous" = the last trained model's weights (the first fold:
    # fresh ones), trained on every row before its fold until early stopping, as a model in
    # production is retrained; "scratch" = fresh initial weights every time, so each fold
    # measures what one training on its history gives, independent of the folds before it.
    # benchmarks/results/warm_refits.md compares the verdicts of both.
    refit_from: str = "previous"


BASIS_POINTS = 1e4  # basis points per unit


@dataclass(frozen=True)
class StrategyConfig:
    """How the strategies trade and how their significance is tested ([strategy])."""

    # Cost per side in basis points of the amount traded: a liquid large-cap stock or index ETF
    # on a zero-commission broker pays about half its 1-2 bps spread plus a few bps of slippage
    # for a market order; 5 per side (10 per round trip) is the conservative end of that.
    cost_bps: float = 5.0
    # Let the direction rules go short (-1) when the forecast is below the entry price by more
    # than the round-trip cost; off: flat instead (no borrowing fee is modelled).
    allow_short: bool = False
    # Annualised volatility the volatility-managed strategy aims at (10 %: about two thirds of an
    # equity index's long-run volatility).
    target_volatility: float = 0.10
    # Largest exposure of the volatility-managed strategy: 1 = no borrowing (a cash account; the
    # cost of margin is not modelled, so a levered strategy would look better than it is).
    leverage_cap: float = 1.0
    # Rows per year, to annualise and to turn the target volatility into one row's: 0 (the
    # default) takes it from the data's step (252 for business days, 52 for weeks, 12 for months,
    # the bars of a year for intraday rows).
    periods_per_year: int = 0
    # Bootstrap replications of the SPA test, the Sharpe intervals and the confidence set.
    bootstrap_reps: int = 1000
    # Level of the Sharpe-difference intervals and of the model confidence set.
    level: float = 0.9
    # Seed of every bootstrap: the same seed gives the same p-values.
    seed: int = 0

    def __post_init__(self) -> None:
        _check_strategy(
            0 <= self.cost_bps < BASIS_POINTS,
            "cost_bps",
            self.cost_bps,
            "from 0 to 9999 (5 = 0.05 % per side)",
        )
        _check_strategy(
            self.target_volatility > 0,
            "target_volatility",
            self.target_volatility,
            "above 0 (0.10 = 10 % a year)",
        )
        _check_strategy(
            self.leverage_cap > 0, "leverage_cap", self.leverage_cap, "above 0 (1 = no borrowing)"
        )
        _check_strategy(
            self.periods_per_year >= 0,
            "periods_per_year",
            self.periods_per_year,
            "0 (from the data's step) or more (252 for daily rows)",
        )
        _check_strategy(
            self.bootstrap_reps >= 100,
            "bootstrap_reps",
            self.bootstrap_reps,
            "at least 100 (1000 is usual)",
        )
        _check_strategy(0 < self.level < 1, "level", self.level, "between 0 and 1 (0.9 = 90 %)")
        _check_strategy(0 <= self.seed <= MAX_SEED, "seed", self.seed, f"from 0 to {MAX_SEED}")  # fmt: skip


def _check_strategy(ok: bool, key: str, value, wanted: str) -> None:
    if not ok or (isinstance(value, float) and not math.isfinite(value)):
        raise ConfigError(f"[strategy] {key} must be {wanted}, got {value}")


@dataclass(frozen=True)
class Config:
    data: DataConfig = field(default_factory=DataConfig)
    window: WindowConfig = field(default_factory=WindowConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    forecast: ForecastConfig = field(default_factory=ForecastConfig)
    backtest: BacktestConfig = field(default_factory=BacktestConfig)
    strategy: StrategyConfig = field(default_factory=StrategyConfig)
