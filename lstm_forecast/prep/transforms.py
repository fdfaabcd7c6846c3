"""What the model learns about the target: one object per target transform.

Each transform turns prices into model-space values (`forward`), turns one predicted value back
into a price given the actual price before it (`inverse`, one-step predictions), and turns a path
of predicted values back into prices from the last known price (`inverse_path`, recursive
forecasts, where each step builds on the previous predicted price). Training, one-step
prediction and forecasting all go through these three methods.

"residual" learns log(target_t / base_t-1) for a base series: the target itself (then it is the
log return, the residual over persistence) or the Close beside an Open target (the residual over
"tomorrow's open = today's close"). A model output of 0 is exactly the baseline, so the model
starts from the baseline instead of having to rediscover it. `forward` and `inverse` take that
base series; every other transform ignores it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lstm_forecast.errors import ConfigError, DataError


@dataclass(frozen=True)
class TargetTransform:
    """Base: the price itself ("level"), the reference example's target."""

    name: str = "level"
    lag: int = 0  # rows at the start where the model value is undefined (NaN)
    log_ratio: bool = False  # the model value is log(price / base): shrinkage and outlier rules
    positive_only: bool = False  # divides by prices or takes their logs: prices must be > 0

    def forward(self, prices: np.ndarray, base: np.ndarray | None = None) -> np.ndarray:
        """Model-space values aligned with `prices` (NaN at the first `lag` rows)."""
        return np.asarray(prices, dtype=np.float64).copy()

    def inverse(self, values: np.ndarray, previous: np.ndarray) -> np.ndarray:
        """Prices from predicted model values, each given the actual price before it."""
        return np.asarray(values, dtype=np.float64)

    def inverse_path(self, values: np.ndarray, last_price: float) -> np.ndarray:
        """Price paths from model-space paths (samples, steps) that start after `last_price`."""
        return np.asarray(values, dtype=np.float64)


@dataclass(frozen=True)
class Difference(TargetTransform):
    """p_t - p_t-1: additive steps, works for prices at or below zero."""

    name: str = "diff"
    lag: int = 1

    def forward(self, prices, base=None):
        prices = np.asarray(prices, dtype=np.float64)
        out = np.full_like(prices, np.nan)
        out[1:] = np.diff(prices)
        return out

    def inverse(self, values, previous):
        return np.asarray(previous, dtype=np.float64) + np.asarray(values, dtype=np.float64)

    def inverse_path(self, values, last_price):
        return last_price + np.cumsum(np.asarray(values, dtype=np.float64), axis=1)


@dataclass(frozen=True)
class SimpleReturn(TargetTransform):
    """p_t / p_t-1 - 1."""

    name: str = "return"
    lag: int = 1
    positive_only: bool = True

    def forward(self, prices, base=None):
        prices = _positive(prices, self.name)
        out = np.full_like(prices, np.nan)
        out[1:] = prices[1:] / prices[:-1] - 1
        return out

    def inverse(self, values, previous):
        return np.asarray(previous, dtype=np.float64) * (1 + np.asarray(values, dtype=np.float64))

    def inverse_path(self, values, last_price):
        return last_price * np.cumprod(1 + np.asarray(values, dtype=np.float64), axis=1)


@dataclass(frozen=True)
class LogReturn(TargetTransform):
    """log(p_t / p_t-1): the default; steps add up, so paths compound correctly."""

    name: str = "log_return"
    lag: int = 1
    log_ratio: bool = True
    positive_only: bool = True

    def forward(self, prices, base=None):
        prices = _positive(prices, self.name)
        base = prices if base is None else _positive(base, self.name)
        out = np.full_like(prices, np.nan)
        out[1:] = np.log(prices[1:]) - np.log(base[:-1])
        return out

    def inverse(self, values, previous):
        return np.asarray(previous, dtype=np.float64) * np.exp(np.asarray(values, np.float64))

    def inverse_path(self, values, last_price):
        return last_price * np.exp(np.cumsum(np.asarray(values, dtype=np.float64), axis=1))


@dataclass(frozen=True)
class Residual(LogReturn):
    """log(target_t / base_t-1): the log return over the configured base ([window] base)."""

    name: str = "residual"


TRANSFORMS: dict[str, TargetTransform] = {
    transform.name: transform
    for transform in (TargetTransform(), SimpleReturn(), LogReturn(), Difference(), Residual())
}


def get_transform(name: str) -> TargetTransform:
    """The transform called `name` ([window] target_transform)."""
    try:
        return TRANSFORMS[name]
    except KeyError:
        raise ConfigError(
            f"[window] target_transform must be one of {', '.join(TRANSFORMS)}, got {name!r}"
        ) from None


def _positive(prices, name: str) -> np.ndarray:
    prices = np.asarray(prices, dtype=np.float64)
    if np.any(prices <= 0):
        raise DataError(f"{name} needs prices above zero; use --set window.target_transform=diff")
    return prices
