"""The spread a band is scaled by: a forecast of the variance of the next price moves, known at
each forecast origin from the rows up to it.

Two series are modelled, because a band's step 1 and its later steps miss for different reasons:

- step 1 around a one-step prediction: the moves of the *naive one-step error*,
  r_t = log(target_t) - log(base_{t-1}), the price over the base the prediction builds on
  (the previous target, or the previous Close for an Open target with a residual transform:
  then r_t is the overnight gap, whose spread differs from the open-to-open moves');
- steps 2.. of a recursive path: the target's own log returns (a path past step 1 is the moves
  of the rows after it).

Each can be modelled by RiskMetrics' exponentially weighted variance (decay 0.94, J.P. Morgan
1996: no parameters to fit, the same at every step, as a random walk's variance per step) or by
GARCH(1,1), fitted by the `arch` package on the rows a calibration knows (zero mean), whose h-step
variance reverts to the long-run level omega / (1 - alpha - beta), so a band after a shock narrows
again as the shock ages. The kinds (`[forecast] scale`):

- "ewma-model" (default): step 1 by the EWMA, the path by the spread network (the EWMA before
  it has 500 moves to learn from);
- "ewma": the EWMA at every step;
- "model": a small network trained by the moves' Gaussian likelihood, one output per step, its
  offset the EWMA (intervals.spread_net), at every step;
- "garch": GARCH at every step;
- "ewma-garch": step 1 by the EWMA, the path by GARCH;
- "none": 1 (raw log errors).

Why (benchmarks/results/bands.md, bands_1500.md, bands_all.md, bands_model.md: every 20-row
fold of ten daily series). The spread network learns how the spread reverts after a shock
without a fitted long-run level, from the EWMA as its offset: its path scored lower than the
EWMA's over 3,000 rows, 1,500 rows, each series' whole history and in the tool's own backtest.
GARCH's path scored about as low (0.908 against 0.917 of the naive band's over 3,000 rows), but
its step-20 coverage was within 85-95 % on fewer series (9, 6, 5 of 10 against 10, 7, 8): its
long-run level is only as good as the history and the optimiser behind it. Step 1 keeps the
EWMA, which recovers fastest after a shock (the network there held its worst 60 rows at 67 %
against 70 %).

`Spread.scale(origins, steps)` gives, for each origin, the root mean forecast variance over steps
1..h: the divisor of a step-h error's score and the multiplier of a band's step-h offset (at
h = 1 the next move's volatility). QLIKE (Patton 2011) scores the variance forecasts against the
squared moves: `qlike`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from lstm_forecast.config.schema import SCALES  # the kinds a config may name
from lstm_forecast.errors import BundleError, ConfigError
from lstm_forecast.intervals.spread_net import HORIZONS, SpreadNet

EWMA_DECAY = 0.94  # RiskMetrics' daily decay (J.P. Morgan, 1996)
GARCH_PERCENT = 100.0  # arch fits returns in percent: its optimiser is tuned for that range
STEP_ONE_FLOOR = 1e-3  # the step-1 volatility: at least this share of the target's moves
_MIN_GARCH_ROWS = 100  # fewer moves than this: the EWMA, GARCH's parameters would be noise
# alpha + beta at or above this: no GARCH, the EWMA. A fit at the edge of integration (a spell
# of calm, then lasting turmoil: WTI's fits from 1988 gave 1 - 1e-9) has a long-run variance
# omega / (1 - alpha - beta) that is a division by almost nothing (a band of exp(50) over 20
# steps); an integrated GARCH with no constant is the EWMA itself (RiskMetrics is IGARCH(1,1)),
# so that is what such a series gets. 0.999: a shock's half-life of about 700 rows.
MAX_PERSISTENCE = 0.999


def log_moves(values: np.ndarray, base: np.ndarray | None = None) -> np.ndarray:
    """(rows,) log(values_t) - log(base_{t-1}) (base: values itself); NaN at row 0 and wherever a
    price is not positive."""
    values = np.asarray(values, dtype=np.float64)
    base = values if base is None else np.asarray(base, dtype=np.float64)
    moves = np.full(values.size, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        moves[1:] = np.log(values[1:]) - np.log(base[:-1])
    moves[~np.isfinite(moves)] = np.nan
    return moves


def ewma_variance(moves: np.ndarray) -> np.ndarray:
    """(rows,) the variance forecast of the move after each row, from the moves up to it
    (pandas' ewm, alpha = 1 - 0.94); NaN before the second move (no estimate yet)."""
    import pandas as pd

    variance = (pd.Series(moves) ** 2).ewm(alpha=1.0 - EWMA_DECAY, min_periods=2).mean()
    return _filled(variance.to_numpy())


@dataclass(frozen=True)
class Garch:
    """GARCH(1,1) with zero mean, in the units of log moves (not percent)."""

    omega: float
    alpha: float
    beta: float

    @classmethod
    def fit(cls, moves: np.ndarray) -> Garch | None:
        """Maximum likelihood by `arch` on the finite moves; None with too few moves or when the
        fit does not converge to a process that reverts (alpha + beta < MAX_PERSISTENCE)."""
        moves = np.asarray(moves, dtype=np.float64)
        moves = moves[np.isfinite(moves)]
        if moves.size < _MIN_GARCH_ROWS or not np.any(moves):
            return None
        import warnings

        from arch import arch_model

        model = arch_model(moves * GARCH_PERCENT, mean="Zero", vol="GARCH", p=1, q=1, rescale=False)
        with warnings.catch_warnings():  # arch warns of convergence; we check the result
            warnings.simplefilter("ignore")
            result = model.fit(disp="off", show_warning=False)
        omega, alpha, beta = (float(result.params[k]) for k in ("omega", "alpha[1]", "beta[1]"))
        if result.convergence_flag != 0 or not alpha + beta < MAX_PERSISTENCE or omega <= 0:
            return None
        return cls(omega / GARCH_PERCENT**2, alpha, beta)

    @property
    def persistence(self) -> float:
        return self.alpha + self.beta

    @property
    def long_run(self) -> float:
        return self.omega / (1.0 - self.persistence)

    def variance(self, moves: np.ndarray) -> np.ndarray:
        """(rows,) the variance forecast of the move after each row: the recursion
        v_{t+1} = omega + alpha r_t^2 + beta v_t from the long-run variance, run with scipy's
        lfilter (a linear filter of r^2; arch's own filter gives v_t, not v_{t+1} at the end)."""
        from scipy.signal import lfilter

        squared = np.nan_to_num(np.asarray(moves, dtype=np.float64) ** 2, nan=self.long_run)
        # v_{t+1} - L = alpha (r_t^2 - L) + beta (v_t - L), L the long-run variance
        deviation = lfilter([self.alpha], [1.0, -self.beta], squared - self.long_run)
        return np.maximum(self.long_run + deviation, self.long_run * 1e-4)

    def ahead(self, next_variance: np.ndarray, steps: int) -> np.ndarray:
        """(origins, steps) the variance of the move k steps after each origin, k = 1..steps:
        L + persistence^(k-1) (v_{t+1} - L)."""
        decay = self.persistence ** np.arange(steps)  # (steps,)
        next_variance = np.asarray(next_variance, dtype=np.float64)[:, None]
        return self.long_run + decay * (next_variance - self.long_run)

    def to_list(self) -> list[float]:
        return [self.omega, self.alpha, self.beta]


@dataclass(frozen=True)
class Spread:
    """The spread model of a calibration: its kind, and the fitted models (GARCH's parameters,
    or the spread network's weights) for step 1 (the naive one-step error's moves) and for the
    path (the target's moves); None where the EWMA serves."""

    kind: str = "ewma"
    step_one: Garch | SpreadNet | None = None
    path: Garch | SpreadNet | None = None
    _cache: dict = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def fit(
        cls,
        kind: str,
        target: np.ndarray,
        base: np.ndarray | None,
        end: int,
        warm: Spread | None = None,
    ) -> Spread:
        """The spread model `kind` fitted on the moves of rows up to `end` (exclusive). A GARCH
        that cannot be fitted (too few rows, no convergence) falls back to the EWMA for that
        series: the band still scales with the latest moves. So does a spread network with too
        few moves to fit (spread_net.MIN_MOVES). `warm`: the spread model of a previous fit on
        fewer of the same rows, whose networks the new ones start from (SpreadNet.fit)."""
        check_scale(kind)
        if kind not in ("garch", "ewma-garch", "model", "ewma-model"):
            return cls(kind)
        target = np.asarray(target, dtype=np.float64)
        if kind.endswith("model"):
            before = warm if warm is not None and warm.kind == kind else cls(kind)
            path = SpreadNet.fit(log_moves(target[:end]), HORIZONS, _net(before.path))
            if kind == "ewma-model":
                return cls(kind, None, path)
            if base is None:  # step 1's moves are the target's: the path network's first step
                return cls(kind, path, path)
            first = log_moves(target[:end], np.asarray(base, np.float64)[:end])
            return cls(kind, SpreadNet.fit(first, 1, _net(before.step_one)), path)
        path = Garch.fit(log_moves(target[:end]))
        if kind == "ewma-garch":
            return cls(kind, None, path)
        if base is None:
            return cls(kind, path, path)
        step_one = Garch.fit(log_moves(target[:end], np.asarray(base, np.float64)[:end]))
        return cls(kind, step_one, path)

    def variance(self, target: np.ndarray, base: np.ndarray | None = None) -> np.ndarray:
        """(rows, 2) the variance forecast of the move after each row: column 0 of the naive
        one-step error (step 1), column 1 of the target's next move (steps 2..)."""
        target = np.asarray(target, dtype=np.float64)
        if self.kind == "none":
            return np.ones((target.size, 2))
        first, later = log_moves(target, base), log_moves(target)
        step_one, path = self._one(first, self.step_one), self._one(later, self.path)
        # a base the price sat on for weeks (an Open equal to the previous Close: the bundled
        # S&P 500 before 2006) has no spread; a floor keeps every score a finite number
        return np.column_stack([np.fmax(step_one, STEP_ONE_FLOOR**2 * path), path])

    @staticmethod
    def _one(moves: np.ndarray, model: Garch | SpreadNet | None) -> np.ndarray:
        return ewma_variance(moves) if model is None else model.variance(moves)

    def scale(
        self, target: np.ndarray, base: np.ndarray | None, origins: np.ndarray, steps: int
    ) -> np.ndarray:
        """(origins, steps) the divisor of the step-h score of a forecast from each origin row
        (and the multiplier of its band): at h = 1 the next one-step error's volatility; at
        h >= 2 the root mean variance of the target's moves over steps 1..h (constant for the
        EWMA, reverting to the long run for GARCH)."""
        origins = np.asarray(origins, dtype=np.intp)
        if self.kind == "none":
            return np.ones((origins.size, steps))
        target = np.asarray(target, dtype=np.float64)
        base = None if base is None else np.asarray(base, dtype=np.float64)
        key = (hash(target.tobytes()), None if base is None else hash(base.tobytes()))
        if key not in self._cache:  # one series' variances serve every origin of a backtest
            self._cache.clear()
            self._cache[key] = self.variance(target, base)
        variance = self._cache[key][origins]  # (origins, 2)
        if steps == 1:  # a one-step band: the path's model is not asked (the network's costs)
            return np.sqrt(variance[:, :1])
        if self.path is None:
            later = np.repeat(variance[:, 1:2], steps, axis=1)  # (origins, steps)
        elif isinstance(self.path, SpreadNet):  # one output per step, from each origin
            later = self.path.ahead(log_moves(target), origins, steps)
        else:
            later = self.path.ahead(variance[:, 1], steps)
        mean = np.cumsum(later, axis=1) / np.arange(1, steps + 1)
        mean[:, 0] = variance[:, 0]
        return np.sqrt(mean)

    def to_dict(self) -> dict[str, Any]:
        """GARCH as [omega, alpha, beta], a spread network as its dict of weights."""

        def part(model: Garch | SpreadNet | None) -> Any:
            if model is None:
                return None
            return model.to_dict() if isinstance(model, SpreadNet) else model.to_list()

        return {"kind": self.kind, "step_one": part(self.step_one), "path": part(self.path)}

    @classmethod
    def from_dict(cls, raw: Any, source: str, expected: str | None = None) -> Spread:
        """Inverse of `to_dict`; BundleError naming `source` when it is damaged (or not of the
        `expected` kind, the calibration's scale)."""
        try:
            kind = str(raw["kind"])
            parts = [_part(raw[k]) for k in ("step_one", "path")]
        except (KeyError, TypeError, ValueError) as e:
            raise BundleError(
                f"{source}: unreadable spread model ({e}); train the run again"
            ) from e
        if (
            kind not in SCALES
            or (expected is not None and kind != expected)
            or not all(_valid(kind, part) for part in parts)
        ):
            raise BundleError(
                f"{source}: spread model of kind {kind!r} is not valid; train the run again"
            )
        return cls(kind, *parts)


def _net(part: Garch | SpreadNet | None) -> SpreadNet | None:
    return part if isinstance(part, SpreadNet) else None


def _part(raw: Any) -> Garch | SpreadNet | None:
    """One fitted spread model of Spread.to_dict(); ValueError/TypeError when damaged."""
    if raw is None:
        return None
    return SpreadNet.from_dict(raw) if isinstance(raw, dict) else Garch(*map(float, raw))


def _valid(kind: str, part: Garch | SpreadNet | None) -> bool:
    """A fitted part fits its kind: a network under "model" only, a stationary GARCH."""
    if part is None:
        return True
    if isinstance(part, SpreadNet):
        return kind.endswith("model")
    return not kind.endswith("model") and (
        math.isfinite(part.omega) and part.omega > 0 and 0 <= part.alpha and 0 <= part.beta
        and part.persistence < 1
    )  # fmt: skip


def volatility(prices: np.ndarray) -> np.ndarray:
    """(rows,) the exponentially weighted volatility of one-step log returns up to each row
    (row t uses rows up to t only), floored so that no score is divided by zero.

    Normalised conformal scores (Papadopoulos et al. 2008; Lei et al. 2018, "locally weighted"
    conformal): errors divided by the volatility at their origin are far closer to exchangeable
    across calm and turbulent spells than raw errors, so a band calibrated in calm months widens
    when the market turns (scale = "volatility").
    """
    import pandas as pd

    returns = pd.Series(np.log(np.asarray(prices, dtype=np.float64))).diff()
    variance = (returns**2).ewm(alpha=1.0 - EWMA_DECAY, min_periods=2).mean()
    sigma = np.sqrt(variance.to_numpy())
    if not np.isfinite(sigma).any():  # fewer than three prices: no volatility to measure
        return np.full(len(sigma), np.nan)
    floor = np.nanmedian(sigma) * 1e-3
    return np.nan_to_num(np.maximum(sigma, max(floor, 1e-12)), nan=np.nanmedian(sigma))


def scales(
    kind: str, spread: Spread | None, target, base, origins: np.ndarray, steps: int
) -> np.ndarray:
    """(origins, steps) Calibration.scales() of a calibration whose scale is `kind`."""
    origins = np.asarray(origins, dtype=np.intp)
    if kind == "volatility":
        return np.repeat(volatility(target)[origins][:, None], steps, axis=1)
    if spread is None:  # "none"
        return np.ones((origins.size, steps))
    return spread.scale(target, base, origins, steps)


def check_scale(kind: str) -> None:
    if kind not in SCALES:
        raise ConfigError(f"[forecast] scale must be one of {', '.join(SCALES)}, got {kind!r}")


def qlike(variance: np.ndarray, moves: np.ndarray) -> float:
    """Mean QLIKE loss of variance forecasts against the squared moves they forecast,
    r^2 / v - log(r^2 / v) - 1 (Patton 2011: robust to the noise of r^2 as a proxy of the true
    variance; 0 is perfect, lower is better). Rows where either is missing or r = 0 are left
    out."""
    variance, squared = np.asarray(variance, np.float64), np.asarray(moves, np.float64) ** 2
    keep = np.isfinite(variance) & np.isfinite(squared) & (variance > 0) & (squared > 0)
    ratio = squared[keep] / variance[keep]
    return float(np.mean(ratio - np.log(ratio) - 1.0)) if ratio.size else math.nan


def _filled(variance: np.ndarray) -> np.ndarray:
    """The variances floored so that no score is divided by zero; NaN stays NaN (the rows
    before the second move have no estimate, and borrowing a later one would look ahead: their
    scores are left out and their bands empty)."""
    finite = np.isfinite(variance)
    if not finite.any():
        return np.full_like(variance, np.nan)
    floor = max(float(np.median(variance[finite])) * 1e-6, 1e-24)
    return np.where(finite, np.maximum(variance, floor), np.nan)
