"""Run configuration: one frozen dataclass per concern, read from and written to TOML.

The defaults below *are* the default config (what `lstm-forecast train` uses with no --config).
The reference example lives in configs/seed.toml; see the README for why the defaults differ from it.
"""

from __future__ import annotations

import dataclasses
import tomllib
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lstm_forecast.errors import ConfigError

TARGET_TRANSFORMS = ("level", "return", "log_return", "diff")
EXOGENOUS_RULES = ("hold",)
CELLS = ("lstm", "peephole", "cifg", "gru")
OPTIMIZERS = ("adam", "adamw", "rmsprop", "sgd")
ENGINES = ("auto", "fast", "keras")
LOSSES = ("mse", "mae", "huber")


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
    # Model inputs besides the target (which is always the first input): column names such as
    # "Volume", or derived features: "return(Close)", "log1p(Volume)", "sma(Close, 20)",
    # "day_of_week". Empty: the target alone, as in the reference.
    features: tuple[str, ...] = ()


@dataclass(frozen=True)
class WindowConfig:
    # Past steps the model sees to predict the next one (the reference uses 60 trading days).
    length: int = 60
    # What the model learns: "level" = scaled price (the reference way; cannot forecast outside the
    # training price range); "return" = price_t / price_t-1 - 1; "log_return" = log(price_t /
    # price_t-1); "diff" = price_t - price_t-1. The last three are turned back into a price from
    # the previous actual, so they work at any price level.
    target_transform: str = "log_return"
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
    # Training engine: "fast" = lstm_forecast.fast, the same model and math on TensorFlow's fused
    # LSTM kernels, one graph call per epoch, each batch split over the cores (plain LSTM cells,
    # Adam; several times faster per epoch, benchmarks/results/speed.md); "keras" =
    # keras.Model.fit (any cell and optimizer); "auto" = fast where it applies, else keras.
    engine: str = "auto"


@dataclass(frozen=True)
class ForecastConfig:
    # Monte-Carlo dropout samples per forecast (the model's Dropout layers kept on); 0 = one
    # deterministic path with dropout off and no interval.
    samples: int = 100
    # Central prediction interval: 0.9 = from the 5th to the 95th percentile of the samples.
    level: float = 0.9
    # Dates past the data's end: "" = Monday-Friday business days; an exchange code such as
    # "XNYS" skips that exchange's holidays too (needs the `calendars` extra: exchange_calendars).
    calendar: str = ""
    # Seed of the dropout masks: the same seed gives the same forecast.
    seed: int = 0
    # Non-target features during a recursive forecast, which predicts the target alone:
    # "hold" = each keeps its last known value for every future row.
    exogenous: str = "hold"


@dataclass(frozen=True)
class Config:
    data: DataConfig = field(default_factory=DataConfig)
    window: WindowConfig = field(default_factory=WindowConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    forecast: ForecastConfig = field(default_factory=ForecastConfig)


def load_config(path: str | Path | None = None) -> Config:
    """Read a TOML config; keys it leaves out keep their defaults. None gives the defaults."""
    if path is None:
        return Config()
    path = Path(path)
    try:
        with path.open("rb") as file:
            raw = tomllib.load(file)
    except FileNotFoundError as e:
        raise ConfigError(f"{path}: config file not found; pass an existing TOML file") from e
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: not valid TOML ({e})") from e
    return config_from_dict(raw, source=str(path))


def config_from_dict(raw: dict[str, Any], source: str = "config") -> Config:
    """Build a validated Config from nested dicts (as parsed from TOML)."""
    sections = {}
    for section_field in dataclasses.fields(Config):
        values = raw.get(section_field.name, {})
        section_type = section_field.default_factory  # the section's dataclass
        sections[section_field.name] = _build_section(
            section_type, values, f"{source}: [{section_field.name}]"
        )
    unknown = sorted(set(raw) - set(sections))
    if unknown:
        raise ConfigError(
            f"{source}: unknown section [{unknown[0]}]; valid sections: {', '.join(sections)}"
        )
    config = Config(**sections)
    validate(config, source)
    return config


def _build_section(section_type: type, values: Any, where: str) -> Any:
    if not isinstance(values, dict):
        raise ConfigError(f"{where} must be a table of keys, got {values!r}")
    hints = typing.get_type_hints(section_type)
    kwargs = {}
    for key, value in values.items():
        if key not in hints:
            raise ConfigError(f"{where}: unknown key {key!r}; valid keys: {', '.join(hints)}")
        kwargs[key] = _coerce(value, hints[key], f"{where} {key}")
    return section_type(**kwargs)


def _coerce(value: Any, hint: Any, where: str) -> Any:
    if hint is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{where} must be true or false, got {value!r}")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{where} must be a whole number, got {value!r}")
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{where} must be a number, got {value!r}")
        return float(value)
    if hint is str:
        if not isinstance(value, str):
            raise ConfigError(f"{where} must be a string, got {value!r}")
        return value
    if hint == tuple[str, ...]:  # a list of strings, possibly empty
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{where} must be a list of strings, got {value!r}")
        return tuple(value)
    if typing.get_origin(hint) is tuple:  # tuple[LayerConfig, ...]
        if not isinstance(value, list) or not value:
            raise ConfigError(f"{where} must be a non-empty list of tables ([[model.layers]])")
        (item_type, _) = typing.get_args(hint)
        return tuple(
            _build_section(item_type, item, f"{where}[{index}]") for index, item in enumerate(value)
        )
    raise AssertionError(f"unhandled config type {hint!r}")


def validate(config: Config, source: str = "config") -> None:
    """Raise ConfigError for values no run could use."""

    def require(ok: bool, message: str) -> None:
        if not ok:
            raise ConfigError(f"{source}: {message}")

    data, window, train, forecast = config.data, config.window, config.train, config.forecast
    require(bool(data.target.strip()), "[data] target must name a column")
    require(
        0.0 < data.test_fraction < 1.0,
        f"[data] test_fraction must be in (0, 1), got {data.test_fraction}",
    )
    require(
        data.sep in ("", ",", ";", "\t", "|"), f"[data] sep must be , ; tab or |, got {data.sep!r}"
    )
    require(data.decimal in ("", ".", ","), f"[data] decimal must be . or ,, got {data.decimal!r}")
    require(window.length >= 1, f"[window] length must be at least 1, got {window.length}")
    require(
        window.target_transform in TARGET_TRANSFORMS,
        f"[window] target_transform must be one of {', '.join(TARGET_TRANSFORMS)}, "
        f"got {window.target_transform!r}",
    )
    cells = ", ".join(CELLS)
    require(
        config.model.cell in CELLS,
        f"[model] cell must be one of {cells}, got {config.model.cell!r}",
    )
    for index, layer in enumerate(config.model.layers):
        require(layer.units >= 1, f"[[model.layers]] #{index + 1}: units must be at least 1")
        require(
            layer.cell in ("", *CELLS),
            f"[[model.layers]] #{index + 1}: cell must be one of {cells} (or left out), got {layer.cell!r}",
        )
        require(
            0.0 <= layer.dropout < 1.0,
            f"[[model.layers]] #{index + 1}: dropout must be in [0, 1), got {layer.dropout}",
        )
    require(
        train.optimizer in OPTIMIZERS,
        f"[train] optimizer must be one of {', '.join(OPTIMIZERS)}, got {train.optimizer!r}",
    )
    require(
        train.loss in LOSSES, f"[train] loss must be one of {', '.join(LOSSES)}, got {train.loss!r}"
    )
    require(
        train.engine in ENGINES,
        f"[train] engine must be one of {', '.join(ENGINES)}, got {train.engine!r}",
    )
    require(
        train.learning_rate > 0,
        f"[train] learning_rate must be positive, got {train.learning_rate}",
    )
    require(train.epochs >= 1, f"[train] epochs must be at least 1, got {train.epochs}")
    require(train.batch_size >= 1, f"[train] batch_size must be at least 1, got {train.batch_size}")
    require(train.early_stopping_patience >= 0, "[train] early_stopping_patience must be >= 0")
    require(
        0.0 <= train.validation_fraction < 1.0,
        f"[train] validation_fraction must be in [0, 1), got {train.validation_fraction}",
    )
    require(
        forecast.exogenous in EXOGENOUS_RULES,
        f"[forecast] exogenous must be one of {', '.join(EXOGENOUS_RULES)}, got {forecast.exogenous!r}",
    )
    from lstm_forecast.features import parse_features

    try:
        parse_features(data.features)
    except ConfigError as e:
        raise ConfigError(f"{source}: {e}") from e
    require(forecast.samples >= 0, f"[forecast] samples must be >= 0, got {forecast.samples}")
    require(0.0 < forecast.level < 1.0, f"[forecast] level must be in (0, 1), got {forecast.level}")


def with_overrides(config: Config, **overrides: Any) -> Config:
    """Replace fields given as `section__key=value`; None values are ignored (option not given)."""
    sections: dict[str, dict[str, Any]] = {}
    for name, value in overrides.items():
        if value is None:
            continue
        section, key = name.split("__")
        sections.setdefault(section, {})[key] = value
    replaced = {
        section: dataclasses.replace(getattr(config, section), **values)
        for section, values in sections.items()
    }
    config = dataclasses.replace(config, **replaced)
    validate(config, "command-line options")
    return config


def config_to_toml(config: Config) -> str:
    """The resolved config as TOML text, readable back by load_config."""
    import tomli_w

    return tomli_w.dumps(dataclasses.asdict(config))
