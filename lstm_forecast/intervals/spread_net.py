"""The learned spread model: a small neural network with a location-scale output whose scale is
the band's, trained by the Gaussian likelihood of the moves. `[forecast] scale = "ewma-model"`
(the default) scales a forecast's path by it and step 1 by the EWMA; `"model"` both.

What it forecasts: for each origin row t and each step k = 1..K, the log variance of the move k
rows later, eta[t, k] = log E[r_{t+k}^2], from the moves up to t only. One network per series the
spread models (intervals.spread): the naive one-step error's moves for step 1 (K = 1), the
target's own moves for the path (K = HORIZONS).

Its shape, and why:
- inputs: the log of exponentially weighted variances of the moves at four decays (from half a
  day's memory to a quarter's: the multi-scale memory of HAR models, Corsi 2009) and the last
  move standardised, whole and its negative part (a fall raises volatility more than a rise:
  the leverage effect), each standardised on the rows it was fitted on;
- one hidden layer of HIDDEN tanh units, and per step k an output
  eta_k = log EWMA(0.94) + c_k + v_k . hidden + u_k . inputs: the RiskMetrics variance is the
  offset, so a network whose weights are all zero is the EWMA band (times one constant per
  step, which the conformal calibration absorbs anyway); the weights learn where, and how fast,
  the spread departs from it (mean reversion after a shock, which the EWMA lacks, without
  GARCH's single fitted long-run level);
- loss: the Gaussian negative log-likelihood of the moves with mean zero, eta + r^2 exp(-eta),
  which is QLIKE up to a constant: the loss that ranks variance forecasts consistently however
  fat the moves' tails (Patton 2011), so a Student-t likelihood would buy nothing for the scale
  (its tail is the conformal calibration's job) and cost a degree of freedom to fit;
- an L2 penalty on the weights towards that EWMA, its strength chosen per fit from PENALTIES by
  the likelihood on the newest fifth of the rows it is fitted on (a fit never sees later rows);
- fitted by scipy's L-BFGS with the gradient written out below (checked against finite
  differences), not by Keras: the network has a few hundred weights and the loss is a few
  array operations, a fit is deterministic (one seeded start), it needs no TensorFlow session
  beside the point model's, and a saved run holds the weights as numbers in calibration.json,
  so `predict` computes the spread in numpy. A fresh fit on 4,500 rows takes about half a
  second; a warm refit (the next fold of a backtest) starts from the last network and keeps its
  penalty: one fit of a few iterations.

Why a network of its own and not a second head on the point network: the point network reads
MinMax-scaled windows of the target (its level or its ratio to a base), trained for the
location; a shared head would either change the point forecast whose verdicts the backtest
established, or (frozen) read features never meant to carry the spread. And the band needs the
spread at every origin from the prices alone (a backtest's folds, `predict` on new rows), which
the point network's hidden state would tie to a model being at hand.

Why at least MIN_MOVES = 500 moves (two trading years; before them the EWMA): the path network
has about 350 weights, and its penalty is chosen on the newest fifth of the rows. Fitted from
250 moves on, in the tool's own backtest of WTI crude oil (`benchmarks/bands.py --model`, the
first of three calibrations from about 450 rows) its 20-step band covered 76 % where the EWMA's
covered 86 %; from 500 on, 86 % and a lower Winkler score than the EWMA's.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

DECAYS = (0.5, 0.8, 0.94, 0.985)  # EWMA decays of the inputs; 0.94 (RiskMetrics) is the offset
OFFSET = DECAYS.index(0.94)
HIDDEN = 8
HORIZONS = 20  # the path's steps the network forecasts; later steps repeat the last
PENALTIES = (1e-2, 1e-1, 1.0, 10.0)
MIN_MOVES = 500  # fewer finite moves: no network (the EWMA): see the module's last paragraph
VARIANCE_FLOOR = 1e-14  # of a log move's square: a target that did not move
# the inputs' variances: at least this share of the median RiskMetrics variance of the rows a
# network is fitted on (a price held for days, holidays repeating the last fix, drives an EWMA
# towards zero, and the log of that dominated the fit)
FLOOR_SHARE = 1e-2
_ETA_CLIP = 10.0  # |eta - offset|: a variance 22,000 times the EWMA's is no forecast
_MAX_ITERATIONS = 400


def inputs(moves: np.ndarray, floor: float | None = None) -> tuple[np.ndarray, np.ndarray, float]:
    """(features (rows, 6), offset (rows,), floor) at each row from the moves up to it: the log
    EWMA variances at DECAYS, each at least `floor` (None: FLOOR_SHARE of these moves' median
    RiskMetrics variance), the last move over the RiskMetrics volatility and its negative part;
    the offset is the log RiskMetrics variance. NaN rows before the second move."""
    import pandas as pd

    squared = pd.Series(np.asarray(moves, dtype=np.float64) ** 2)
    variances = [squared.ewm(alpha=1.0 - d, min_periods=2).mean().to_numpy() for d in DECAYS]
    if floor is None:
        known = variances[OFFSET][np.isfinite(variances[OFFSET])]
        floor = FLOOR_SHARE * float(np.median(known)) if known.size else VARIANCE_FLOOR
        floor = max(floor, VARIANCE_FLOOR)
    logs = [np.log(np.maximum(v, floor)) for v in variances]  # NaN stays NaN: no estimate yet
    offset = logs[OFFSET]
    last = np.asarray(moves, dtype=np.float64) / np.exp(offset / 2)
    last = np.where(np.isfinite(last), last, 0.0)  # a row without a move (a gap): none to read
    features = np.column_stack([*logs, last, np.fmin(last, 0.0)])
    features[~np.isfinite(offset)] = np.nan
    return features, offset, floor


@dataclass(frozen=True, eq=False)
class SpreadNet:
    """A fitted network: the standardisation of its inputs and its weights (see the module)."""

    floor: np.ndarray  # (1,) the inputs' variance floor (inputs())
    penalty: np.ndarray  # (1,) the L2 penalty its fit chose (a warm refit keeps it)
    mean: np.ndarray  # (features,)
    std: np.ndarray  # (features,)
    hidden_weights: np.ndarray  # (features, HIDDEN)
    hidden_bias: np.ndarray  # (HIDDEN,)
    output_weights: np.ndarray  # (HIDDEN, K)
    skip_weights: np.ndarray  # (features, K)
    output_bias: np.ndarray  # (K,)

    @property
    def horizons(self) -> int:
        return self.output_bias.size

    @classmethod
    def fit(
        cls, moves: np.ndarray, horizons: int = 1, warm: SpreadNet | None = None
    ) -> SpreadNet | None:
        """The network fitted on the moves (rows,) (NaN where there is none): the step-k
        output on the move k rows after each row, for k = 1..`horizons`. None with fewer than
        MIN_MOVES finite moves. `warm`: a network fitted on fewer of the same rows (the previous
        fold of a backtest with warm refits): its weights are the start and its penalty is kept,
        one fit where a fresh one makes five (the penalty's choice)."""
        moves = np.asarray(moves, dtype=np.float64)
        if np.isfinite(moves).sum() < MIN_MOVES or not np.nanmax(np.abs(moves)) > 0:
            return None
        features, offset, floor = inputs(moves)
        targets = _ahead(moves**2, horizons)  # (rows, horizons) r^2 k rows later; NaN unknown
        keep = np.isfinite(offset) & np.isfinite(features).all(axis=1)
        features, offset, targets = features[keep], offset[keep], targets[keep]
        mean, std = features.mean(axis=0), features.std(axis=0)
        std = np.where(std > 0, std, 1.0)
        x = (features - mean) / std
        rows = _Rows.of(x, offset, targets)
        if warm is not None and warm.horizons == horizons:
            penalty = float(warm.penalty[0])
            weights = _fit_weights(warm.flat(), rows, penalty)
            return cls(np.array([floor]), np.array([penalty]), mean, std,
                       *_unpack(weights, x.shape[1], horizons))  # fmt: skip
        # the penalty: chosen on the newest fifth, never later rows; the older rows end
        # `horizons` rows before it, so that none of their targets lies in the newest fifth
        split = int(len(x) * 0.8)
        older = rows.part(slice(None, split - horizons))
        newest = rows.part(slice(split, None))
        theta, chosen = _start(x, offset, targets), []
        for penalty in sorted(PENALTIES, reverse=True):  # each fit starts where the last ended
            theta = _fit_weights(theta, older, penalty)
            chosen.append((_loss(theta, newest, 0.0)[0], penalty, theta))
        _, penalty, theta = min(chosen, key=lambda c: c[0])
        weights = _fit_weights(theta, rows, penalty)
        return cls(np.array([floor]), np.array([penalty]), mean, std,
                   *_unpack(weights, x.shape[1], horizons))  # fmt: skip

    def flat(self) -> np.ndarray:
        """The weights as one vector, in _unpack's order."""
        return np.concatenate([np.ravel(getattr(self, name)) for name in _FIELDS[4:]])

    def log_variance(self, moves: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
        """(rows, K) eta: the log variance of the move k rows after each row (or after each of
        `rows` only: the inputs run over every move, the network over those); NaN before the
        second move."""
        features, offset, _ = inputs(moves, float(self.floor[0]))
        if rows is not None:  # a forecast's origin: not the whole series through the network
            features, offset = features[rows], offset[rows]
        x = (features - self.mean) / self.std
        hidden = np.tanh(x @ self.hidden_weights + self.hidden_bias)
        delta = hidden @ self.output_weights + x @ self.skip_weights + self.output_bias
        return offset[:, None] + np.clip(delta, -_ETA_CLIP, _ETA_CLIP)

    def variance(self, moves: np.ndarray) -> np.ndarray:
        """(rows,) the variance forecast of the next move after each row (step 1)."""
        return np.exp(self.log_variance(moves)[:, 0])

    def ahead(self, moves: np.ndarray, origins: np.ndarray, steps: int) -> np.ndarray:
        """(origins, steps) the variance of the move k steps after each origin, k = 1..steps
        (past the network's horizons, its last one's)."""
        eta = self.log_variance(moves, np.asarray(origins, dtype=np.intp))
        columns = np.minimum(np.arange(steps), self.horizons - 1)
        return np.exp(eta[:, columns])

    def to_dict(self) -> dict[str, list]:
        return {name: np.asarray(getattr(self, name)).tolist() for name in _FIELDS}

    @classmethod
    def from_dict(cls, raw: dict) -> SpreadNet:
        """Inverse of `to_dict`; ValueError when a field is missing, of the wrong shape or not
        a finite number (the caller names the file)."""
        try:
            parts = [np.asarray(raw[name], dtype=np.float64) for name in _FIELDS]
        except (KeyError, TypeError) as e:
            raise ValueError(f"spread network field {e} missing or unreadable") from None
        floor, penalty, mean, std, w, b, v, u, c = parts
        features, horizons = mean.size, c.size
        shapes = [(1,), (1,), (features,), (features,), (features, HIDDEN), (HIDDEN,),
                  (HIDDEN, horizons), (features, horizons), (horizons,)]  # fmt: skip
        wrong = any(p.shape != shape for p, shape in zip(parts, shapes, strict=True))
        if features != 6 or horizons < 1 or wrong:
            raise ValueError("spread network weights of the wrong shape")
        if not all(np.isfinite(p).all() for p in parts) or not (
            np.all(std > 0) and floor > 0 and penalty >= 0
        ):
            raise ValueError("spread network weights that are no finite numbers")
        return cls(*parts)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SpreadNet) and all(
            np.array_equal(getattr(self, n), getattr(other, n)) for n in _FIELDS
        )

    __hash__ = None  # type: ignore[assignment]  (arrays: equal by value, not hashable)


# a network's fields as calibration.json holds them; the weights (from the fifth) in _unpack's order
_FIELDS = ("floor", "penalty", "mean", "std", "hidden_weights", "hidden_bias", "output_weights",
           "skip_weights", "output_bias")  # fmt: skip


def _ahead(values: np.ndarray, horizons: int) -> np.ndarray:
    """(rows, horizons) values[t + k] at row t, column k - 1; NaN past the end."""
    out = np.full((values.size, horizons), np.nan)
    for k in range(1, horizons + 1):
        out[: values.size - k, k - 1] = values[k:]
    return out


def _unpack(theta: np.ndarray, features: int, horizons: int) -> list[np.ndarray]:
    sizes = [(features, HIDDEN), (HIDDEN,), (HIDDEN, horizons), (features, horizons), (horizons,)]
    parts, start = [], 0
    for shape in sizes:
        count = math.prod(shape)
        parts.append(theta[start : start + count].reshape(shape))
        start += count
    return parts


class _Rows(NamedTuple):
    """What a fit reads, prepared once: the standardised inputs (rows, features), the offset
    (rows,), the squared moves k rows later floored at VARIANCE_FLOOR (rows, K; 0 where
    unknown), 1.0 where known (rows, K), and how many are known."""

    x: np.ndarray
    offset: np.ndarray
    squared: np.ndarray
    known: np.ndarray
    count: int

    @classmethod
    def of(cls, x, offset, targets) -> _Rows:
        known = np.isfinite(targets)
        squared = np.where(known, np.fmax(np.nan_to_num(targets), VARIANCE_FLOOR), 0.0)
        return cls(x, offset, squared, known.astype(np.float64), max(int(known.sum()), 1))

    def part(self, rows: slice) -> _Rows:
        return _Rows.of(self.x[rows], self.offset[rows], np.where(self.known[rows] > 0,
                        self.squared[rows], np.nan))  # fmt: skip


def _loss(theta, rows: _Rows, penalty) -> tuple[float, np.ndarray]:
    """(mean Gaussian NLL + penalty, its gradient) of the flat weights `theta` over the known
    squared moves."""
    x = rows.x
    w, b, v, u, c = _unpack(theta, x.shape[1], rows.squared.shape[1])
    hidden = np.tanh(x @ w + b)
    raw = hidden @ v + x @ u + c
    delta = np.clip(raw, -_ETA_CLIP, _ETA_CLIP)
    eta = rows.offset[:, None] + delta
    scaled = rows.squared * np.exp(-eta)  # r^2 / variance (0 where unknown)
    nll = float(np.sum(rows.known * eta + scaled)) / rows.count
    # d nll / d eta, and nothing through the clip where it holds eta at its bound
    grad_eta = (rows.known - scaled) / rows.count * (np.abs(raw) < _ETA_CLIP)
    grad_pre = (grad_eta @ v.T) * (1.0 - hidden**2)
    grads = [x.T @ grad_pre, grad_pre.sum(axis=0), hidden.T @ grad_eta, x.T @ grad_eta,
             grad_eta.sum(axis=0)]  # fmt: skip
    value = nll + penalty * float(np.sum(w * w) + np.sum(v * v) + np.sum(u * u))
    for i, part in ((0, w), (2, v), (3, u)):
        grads[i] = grads[i] + 2.0 * penalty * part
    return value, np.concatenate([g.ravel() for g in grads])


def _start(x, offset, targets) -> np.ndarray:
    """Flat starting weights: small seeded random hidden weights, zero output weights, and each
    step's bias at the log of the mean ratio of r^2 to the EWMA."""
    features, horizons = x.shape[1], targets.shape[1]
    rng = np.random.default_rng(0)
    start = [rng.normal(0.0, 0.5 / math.sqrt(features), (features, HIDDEN)), np.zeros(HIDDEN),
             np.zeros((HIDDEN, horizons)), np.zeros((features, horizons))]  # fmt: skip
    with np.errstate(divide="ignore", invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a step no row reaches: its mean is NaN
        ratio = np.where(np.isfinite(targets), np.fmax(targets, VARIANCE_FLOOR), np.nan)
        bias = np.log(np.nanmean(ratio / np.exp(offset)[:, None], axis=0))
    start.append(np.nan_to_num(bias, nan=0.0, posinf=0.0, neginf=0.0))
    return np.concatenate([s.ravel() for s in start])


def _fit_weights(theta, rows: _Rows, penalty) -> np.ndarray:
    """Flat weights minimising `_loss` from `theta` (L-BFGS, to a relative change of 1e-7 in the
    loss: its fourth digit, where QLIKE's differences between forecasts lie, is long settled)."""
    from scipy.optimize import minimize

    options = {"maxiter": _MAX_ITERATIONS, "ftol": 1e-7}
    result = minimize(_loss, theta, args=(rows, penalty), jac=True, method="L-BFGS-B",
                      options=options)  # fmt: skip
    return result.x if np.all(np.isfinite(result.x)) else theta
