"""Checking a config read from TOML, --set or command-line options: each key's type (a whole number,
a list of strings, a [[model.layers]] table, ...) as a section is built, then the values no run
could use. Every problem is one ConfigError that names the section and key."""

from __future__ import annotations

import datetime
import json
import math
import numbers
import typing
from typing import Any

from lstm_forecast.config.schema import (
    BASES,
    CELLS,
    DATE_ORDERS,
    ENGINES,
    INTERVALS,
    LOSSES,
    MAX_SEED,
    ONLINE,
    OPTIMIZERS,
    SCALES,
    TARGET_TRANSFORMS,
    Config,
)
from lstm_forecast.errors import ConfigError

# Monte-Carlo dropout paths per forecast: each is a whole path in memory (a billion were asked
# once, and the process was killed); the interval's percentiles settle long before this
MAX_SAMPLES = 10_000


def build_section(section_type: type, values: Any, where: str) -> Any:
    if not isinstance(values, dict):
        raise ConfigError(f"{where} must be a table of keys, got {_shown(values)}")
    hints = typing.get_type_hints(section_type)
    kwargs = {}
    for key, value in values.items():
        if key not in hints:
            raise ConfigError(f"{where}: unknown key {key!r}; valid keys: {', '.join(hints)}")
        kwargs[key] = _coerce(value, hints[key], f"{where} {key}")
    return section_type(**kwargs)


def _shown(value: Any) -> str:
    """A value as TOML writes it, for messages (true, "text", 2018-12-28), not Python's repr."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, dict):
        return "a table { " + ", ".join(f"{k} = {_shown(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_shown(item) for item in value) + "]"
    return str(value)


def _coerce(value: Any, hint: Any, where: str) -> Any:
    if hint is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{where} must be true or false, got {_shown(value)}")
        return value
    # numbers.Integral and Real take NumPy's too (a dict built in Python: np.int64(30))
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise ConfigError(f"{where} must be a whole number, got {_shown(value)}")
        return int(value)
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise ConfigError(f"{where} must be a number, got {_shown(value)}")
        if not math.isfinite(value):  # TOML's inf and nan
            raise ConfigError(f"{where} must be a finite number, got {_shown(value)}")
        return float(value)
    if hint is str:
        if isinstance(value, datetime.date | datetime.time):  # an unquoted TOML date: the text
            return value.isoformat()
        if not isinstance(value, str):
            raise ConfigError(f"{where} must be a string, got {_shown(value)}")
        return value
    if hint == tuple[str, ...]:  # a list of strings, possibly empty
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{where} must be a list of strings, got {_shown(value)}")
        return tuple(value)
    if typing.get_origin(hint) is tuple:  # tuple[LayerConfig, ...]
        if not isinstance(value, list) or not value:
            raise ConfigError(f"{where} must be a non-empty list of tables ([[model.layers]])")
        (item_type, _) = typing.get_args(hint)
        return tuple(
            build_section(item_type, item, f"{where}[{index}]") for index, item in enumerate(value)
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
    require(
        data.date_order in DATE_ORDERS,
        f"[data] date_order must be one of {', '.join(DATE_ORDERS)}, got {data.date_order!r}",
    )
    if data.resample:
        from lstm_forecast.data.frequency import check_rule

        check_rule(data.resample)
    require(window.length >= 1, f"[window] length must be at least 1, got {window.length}")
    require(
        window.target_transform in TARGET_TRANSFORMS,
        f"[window] target_transform must be one of {', '.join(TARGET_TRANSFORMS)}, "
        f"got {window.target_transform!r}",
    )
    require(
        window.base in BASES,
        f"[window] base must be one of {', '.join(BASES)}, got {window.base!r}",
    )
    require(
        forecast.interval in INTERVALS,
        f"[forecast] interval must be one of {', '.join(INTERVALS)}, got {forecast.interval!r}",
    )
    require(
        forecast.interval_scale in ("", "volatility", "none"),
        f'[forecast] interval_scale (the old name of scale) must be "volatility" or "none", '
        f"got {forecast.interval_scale!r}",
    )
    require(
        forecast.online in ONLINE,
        f"[forecast] online must be one of {', '.join(ONLINE)}, got {forecast.online!r}",
    )
    require(
        0.0 <= forecast.tracking_rate < 1.0,
        f"[forecast] tracking_rate must be in [0, 1), got {forecast.tracking_rate}",
    )
    require(
        not forecast.interval_scale or forecast.scale == type(forecast).scale,  # the default
        f"[forecast] sets both scale = {forecast.scale!r} and interval_scale = "
        f"{forecast.interval_scale!r}, its old name; keep only scale",
    )
    require(
        forecast.scale in SCALES,
        f"[forecast] scale must be one of {', '.join(SCALES)}, got {forecast.scale!r}",
    )
    require(
        forecast.calibration_origins in ("all", "held-out"),
        f'[forecast] calibration_origins must be "all" or "held-out", '
        f"got {forecast.calibration_origins!r}",
    )
    require(forecast.calibration_steps >= 1, "[forecast] calibration_steps must be at least 1")
    require(
        config.backtest.refit >= 0,
        f"[backtest] refit must be >= 0 (0 = train once), got {config.backtest.refit}",
    )
    require(
        config.backtest.refit_from in ("previous", "scratch"),
        f'[backtest] refit_from must be "previous" or "scratch", '
        f"got {config.backtest.refit_from!r}",
    )
    require(
        0.0 <= forecast.gamma < 1.0, f"[forecast] gamma must be in [0, 1), got {forecast.gamma}"
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
    require(0 <= train.seed <= MAX_SEED, f"[train] seed must be in 0..{MAX_SEED}, got {train.seed}")
    require(
        0 <= forecast.seed <= MAX_SEED,
        f"[forecast] seed must be in 0..{MAX_SEED}, got {forecast.seed}",
    )
    require(train.epochs >= 1, f"[train] epochs must be at least 1, got {train.epochs}")
    require(train.batch_size >= 1, f"[train] batch_size must be at least 1, got {train.batch_size}")
    require(train.early_stopping_patience >= 0, "[train] early_stopping_patience must be >= 0")
    require(train.warm_start_patience >= 1, "[train] warm_start_patience must be >= 1")
    require(
        0.0 <= train.validation_fraction < 1.0,
        f"[train] validation_fraction must be in [0, 1), got {train.validation_fraction}",
    )
    try:
        data.parsed_features  # noqa: B018 - parsed (and cached) here, so errors surface at load
    except ConfigError as e:
        raise ConfigError(f"{source}: {e}") from e
    require(
        0 <= forecast.samples <= MAX_SAMPLES,
        f"[forecast] samples must be in [0, {MAX_SAMPLES}] (each is a whole price path held in "
        f"memory), got {forecast.samples}",
    )
    require(0.0 < forecast.level < 1.0, f"[forecast] level must be in (0, 1), got {forecast.level}")
