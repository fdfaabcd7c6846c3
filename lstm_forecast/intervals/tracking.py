"""Online correction of a band's quantile as actuals arrive: the quantile tracker of conformal PID
control (Angelopoulos, Candès & Tibshirani 2023, the "P" part), per forecast step h with the
feedback h rows late, as Wang & Hyndman's multistep extension (2024, R package
conformalForecast) runs it.

A band's offset at step h is (q_h + c_t) × the spread at its origin, q_h the static conformal
quantile of the calibration's scores and c_t the tracker's correction. After each outcome,
c_{t+1} = c_t + eta_t (miss_t - alpha): a miss widens every later band, a hit narrows it a
little, so that over any stretch the share of misses is held near alpha whatever the scores do
(the paper's long-run coverage guarantee holds for any sequence). eta_t = lr × B_t, B_t the
largest score of the latest `window` (the paper's scale-free step size, conformalForecast's
default lr = 0.1 is for raw errors; ours are already divided by the spread).

Unlike adaptive conformal inference, which moves the level (and can ask for an unbounded band
when alpha_t < 0), the tracker moves the quantile itself: every band stays finite.
"""

from __future__ import annotations

import numpy as np

from lstm_forecast.errors import ConfigError

DEFAULT_LR = 0.003  # benchmarks/results/bands.md: the best of the grid 0.003, 0.01, 0.03
DEFAULT_WINDOW = 250  # scores that set the step size: the latest trading year


def track(
    scores: np.ndarray,
    static: np.ndarray,
    level: float,
    lr: float = DEFAULT_LR,
    delay: int = 1,
    window: int = DEFAULT_WINDOW,
    start: float = 0.0,
) -> tuple[np.ndarray, float]:
    """The corrected quantile of each of T forecasts (T,) and the correction after them.

    scores: (T,) each forecast's score |error| / spread, NaN where its actual is not known;
    static: (T,) the static conformal quantile each forecast's band was given (its fold's
    calibration); the outcome of forecast t is known `delay` forecasts later (h for step h of
    daily origins). `start`: the correction carried in from earlier forecasts.
    """
    if not 0.0 < level < 1.0:
        raise ConfigError(f"[forecast] level must be between 0 and 1, got {level}")
    if lr < 0:
        raise ConfigError(f"[forecast] tracking_rate must be 0 or more, got {lr}")
    scores = np.asarray(scores, dtype=np.float64)
    static = np.broadcast_to(np.asarray(static, dtype=np.float64), scores.shape)
    alpha, correction = 1.0 - level, float(start)
    used = np.empty(scores.size)  # (T,) the quantile each band was built with
    recent: list[float] = []
    for t in range(scores.size):
        known = t - delay  # the newest forecast whose outcome is in by forecast t
        if known >= 0 and np.isfinite(scores[known]):
            recent.append(scores[known])
            del recent[:-window]
            miss = scores[known] > used[known]
            correction += lr * max(recent) * (miss - alpha)
        used[t] = max(static[t] + correction, 0.0)
    return used, correction
