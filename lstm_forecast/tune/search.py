"""Hyperparameter search on Optuna: each trial is a walk-forward backtest of the base config with
sampled values, scored by its pooled out-of-sample skill against the baseline (maximized).

The search space lives in the config file, in a `[tune]` table that the base config loader never
sees (split_tune_table strips it):

    [tune]
    trials = 20                 # trials of the study in all (--trials overrides)
    folds = 5                   # walk-forward folds per trial
    fold_length = 20            # rows predicted per fold
    [tune.params]
    "window.length" = {int = [20, 90]}            # optional: step = 10
    "train.learning_rate" = {log = [1e-4, 1e-2]}
    "layers.dropout" = ...                        # any section.key that --set accepts
    "model.cell" = {choices = ["lstm", "gru"]}
    "data.features" = {choices = [[], ["Volume"]]}

Each trial = base config + sampled values through config.apply_settings, trained with the base
config's train.seed, all its folds run (or pruned fold by fold: [tune] pruner). The study
lives in a storage: by default a journal file in the output directory (a Ctrl-C'd or finished
study resumes when the same command runs again), or a database URL shared by workers on many
machines (Optuna's distributed mode). Optuna is imported inside the functions that need it.
"""

from __future__ import annotations

import json
import math
import os
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lstm_forecast.config.load import apply_settings, config_from_dict, with_overrides
from lstm_forecast.config.schema import Config
from lstm_forecast.errors import ConfigError, DataError, LstmForecastError
from lstm_forecast.evaluate.pooled import (
    DEFAULT_BASELINE,
    RunningSkill,
    pooled_errors,
    skill_from_errors,
)
from lstm_forecast.files.read import read_toml

KINDS = ("int", "float", "log", "choices")  # how a parameter is sampled


@dataclass(frozen=True)
class Param:
    """One searched config key: `name` is "section.key" as --set spells it."""

    name: str
    kind: str  # "int", "float" (uniform), "log" (log-uniform float) or "choices"
    low: float = 0.0
    high: float = 0.0
    step: float | None = None  # int / float grid step; None = continuous (int: 1)
    choices: tuple = ()  # for "choices": values as TOML holds them (lists allowed)

    def suggest(self, trial) -> Any:
        """The value this trial tries (Optuna stores lists as their JSON text)."""
        if self.kind == "int":
            return trial.suggest_int(
                self.name, int(self.low), int(self.high), step=int(self.step or 1)
            )
        if self.kind in ("float", "log"):
            return trial.suggest_float(
                self.name, self.low, self.high, log=self.kind == "log", step=self.step
            )
        labels = [_label(choice) for choice in self.choices]
        return self.choices[labels.index(trial.suggest_categorical(self.name, labels))]

    def setting(self, value: Any) -> str:
        """The value as an apply_settings override: "section.key=<TOML value>"."""
        return f"{self.name}={toml_value(value)}"


# how a study spends its trials (benchmarks/tune_strategies.py compares them): never stop one
# (the default: pruning saved a fifth of the time and halved the completed trials, with the same
# held-out verdicts); stop a trial whose running skill is below the median of earlier trials at
# its fold; keep the best third at folds k, 3k, ... (successive halving, k = prune_after_folds)
PRUNERS = ("none", "median", "halving")
SAMPLERS = ("tpe", "random")  # Optuna's TPE (its first 10 trials random), or random throughout


@dataclass(frozen=True)
class TuneSettings:
    """The `[tune]` table."""

    params: tuple[Param, ...]
    # trials of the study in all, counting completed and pruned ones (--trials overrides)
    trials: int = 20
    # walk-forward folds per trial and rows predicted per fold
    folds: int = 5
    fold_length: int = 20
    # baseline column of the predictions the skill is measured against
    baseline: str = DEFAULT_BASELINE
    # no pruning during the first trials, nor before a trial's first folds
    prune_after_trials: int = 5
    prune_after_folds: int = 1
    pruner: str = "none"  # PRUNERS (benchmarks/results/tune_strategies.md); not in the fingerprint
    sampler: str = "tpe"  # SAMPLERS
    raw: dict = field(default_factory=dict, compare=False)  # the table as read


def split_tune_table(raw: dict[str, Any], source: str) -> tuple[dict[str, Any], TuneSettings]:
    """(the config without [tune], the parsed [tune] table). Raises ConfigError when it is
    missing or malformed, naming the key and what would be valid."""
    raw = dict(raw)
    table = raw.pop("tune", None)
    where = f"{source}: [tune]"
    if not isinstance(table, dict) or not isinstance(table.get("params"), dict):
        raise ConfigError(
            f'{where}: no search space; add a [tune.params] table, e.g. "window.length" = {{int = [20, 90]}}'
        )
    scalars = {"trials": int, "folds": int, "fold_length": int, "baseline": str}
    scalars |= {"prune_after_trials": int, "prune_after_folds": int, "pruner": str, "sampler": str}
    values = {}
    for key, value in table.items():
        if key == "params":
            continue
        if key not in scalars:
            raise ConfigError(
                f"{where}: unknown key {key!r}; valid keys: params, {', '.join(scalars)} "
                "(the objective, pooled skill, is always maximized)"
            )
        if not isinstance(value, scalars[key]) or isinstance(value, bool):
            raise ConfigError(f"{where} {key} must be a {scalars[key].__name__}, got {value!r}")
        values[key] = value
    for key in ("trials", "folds", "fold_length"):
        if values.get(key, 1) < 1:
            raise ConfigError(f"{where} {key} must be at least 1, got {values[key]}")
    for key, valid in (("pruner", PRUNERS), ("sampler", SAMPLERS)):
        if values.get(key, valid[0]) not in valid:
            raise ConfigError(
                f"{where} {key} must be one of {', '.join(valid)}, got {values[key]!r}"
            )
    from lstm_forecast.evaluate.baselines import BASELINE_ORDER

    baselines = (DEFAULT_BASELINE, *BASELINE_ORDER)
    if values.get("baseline", DEFAULT_BASELINE) not in baselines:
        raise ConfigError(
            f"{where} baseline must be one of {', '.join(baselines)} ({DEFAULT_BASELINE!r}: each "
            f"fold's strongest), got {values['baseline']!r}"
        )
    params = tuple(_param(name, spec, f"{where}.params") for name, spec in table["params"].items())
    if not params:
        raise ConfigError(f"{where}.params is empty; name at least one key to search")
    return raw, TuneSettings(params=params, raw=table, **values)


def _param(name: str, spec: Any, where: str) -> Param:
    if name != name.strip():
        raise ConfigError(f"{where}: {name!r} has spaces around it; write {name.strip()!r}")
    example = f'e.g. "{name}" = {{int = [20, 90]}}, {{log = [1e-4, 1e-2]}} or {{choices = [...]}}'
    if not isinstance(spec, dict) or len(set(spec) & set(KINDS)) != 1:
        raise ConfigError(f"{where}: {name!r} needs exactly one of {', '.join(KINDS)}; {example}")
    unknown = set(spec) - {*KINDS, "step"}
    if unknown:
        raise ConfigError(f"{where}: {name!r}: unknown key {sorted(unknown)[0]!r}; {example}")
    (kind,) = set(spec) & set(KINDS)
    bounds = spec[kind]
    if kind == "choices":
        if not isinstance(bounds, list) or not bounds or "step" in spec:
            raise ConfigError(f"{where}: {name!r}: choices must be a non-empty list")
        return Param(name, kind, choices=tuple(bounds))
    numbers = isinstance(bounds, list) and len(bounds) == 2
    numbers = numbers and all(
        isinstance(b, int | float) and not isinstance(b, bool) for b in bounds
    )
    if not numbers or not bounds[0] < bounds[1] or (kind == "log" and bounds[0] <= 0):
        raise ConfigError(
            f"{where}: {name!r}: {kind} needs [low, high] with low < high"
            + (" and low > 0" if kind == "log" else "")
            + f", got {bounds!r}"
        )
    if kind == "int" and not all(isinstance(b, int) for b in bounds):
        raise ConfigError(f"{where}: {name!r}: int bounds must be whole numbers, got {bounds!r}")
    step = spec.get("step")
    if step is not None and (kind == "log" or not isinstance(step, int | float) or step <= 0):
        raise ConfigError(f"{where}: {name!r}: step must be a positive number (not with log)")
    if step is not None and step > bounds[1] - bounds[0]:
        raise ConfigError(
            f"{where}: {name!r}: step {step} is larger than the range {bounds}; the search "
            "would have one value: use a smaller step or a wider range"
        )
    return Param(name, kind, low=bounds[0], high=bounds[1], step=step)


def load_tune_config(
    path: str | Path, settings: list[str] = (), **overrides: Any
) -> tuple[Config, TuneSettings]:
    """The base config (its [tune] table stripped, then `overrides` as config.with_overrides
    takes them, then the --set settings) and the search.

    Every parameter's bounds are tried on the base config here, so a misspelt key or a value
    the config refuses fails before any trial runs."""
    source = str(path)
    raw, tune = split_tune_table(read_toml(Path(path)), source)
    base = apply_settings(
        with_overrides(config_from_dict(raw, source), **overrides), list(settings)
    )
    for param in tune.params:
        # a float range is tried in its middle too: bounds 8 and 64 are whole numbers, its
        # samples are not (a float range on a whole-number key)
        middle = ((param.low + param.high) / 2,) if param.kind == "float" else ()
        for value in param.choices or (param.low, param.high, *middle):
            try:
                trial_config(base, {param.name: value}, tune)
            except ConfigError as e:
                raise ConfigError(f"{source}: [tune.params] {param.name!r} = {value!r}: {e}") from e
    return base, tune


def trial_config(base: Config, values: dict[str, Any], tune: TuneSettings) -> Config:
    """The base config with a trial's values applied (through apply_settings)."""
    by_name = {param.name: param for param in tune.params}
    return apply_settings(base, [by_name[name].setting(value) for name, value in values.items()])


def toml_value(value: Any) -> str:
    """A value as an inline TOML value (strings, numbers, booleans, lists, inline tables)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return (
            repr(value)
            if math.isfinite(value)
            else ("nan" if value != value else ("inf" if value > 0 else "-inf"))
        )
    if isinstance(value, str):
        return json.dumps(value)  # a TOML basic string
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(k)} = {toml_value(v)}" for k, v in value.items()) + "}"
    raise ConfigError(f"cannot write {value!r} as a TOML value")


def _label(choice: Any) -> Any:
    """A categorical choice as Optuna can store it: scalars as they are, lists as JSON text."""
    return choice if isinstance(choice, str | int | float | bool) else json.dumps(choice)


def trial_values(trial, tune: TuneSettings) -> dict[str, Any]:
    """A finished trial's parameter values as the config takes them (lists decoded)."""
    values = {}
    for param in tune.params:
        if param.name in trial.params:
            stored = trial.params[param.name]
            labels = [_label(choice) for choice in param.choices]
            values[param.name] = param.choices[labels.index(stored)] if param.choices else stored
    return values


def worker_name() -> str:
    """host:pid, recorded on each trial (a journal-file study frees a dead local worker's trial)."""
    return f"{socket.gethostname()}:{os.getpid()}"


class SurplusTrial(LstmForecastError):
    """Another worker started the study's last trial at the same moment; this one is not run."""


# ---- the objective ------------------------------------------------------------------------------


def objective(base: Config, tune: TuneSettings, total: int, frames, report, stop=lambda: False):
    """The Optuna objective: a walk-forward backtest of one sampled config.

    `frames(config)` gives the (frame, source) a config reads (cached by the caller). Each fold
    reports the running pooled skill; should_prune() ends the trial (optuna.TrialPruned). The
    pooled errors are kept as the trial's user attribute "errors" for the DM test.
    """
    import optuna

    from lstm_forecast.backtest.walk import walk_forward
    from lstm_forecast.model.build import ModelPool

    models = ModelPool()  # trials of one shape share a traced model, as folds do

    def run(trial) -> float:
        refuse_surplus(trial, total)
        trial.set_user_attr("worker", worker_name())
        values = {p.name: p.suggest(trial) for p in tune.params}
        running = RunningSkill(tune.baseline)

        def on_fold(fold: int, metrics: dict) -> None:
            skill = running.add(metrics)
            if math.isnan(skill):  # undefined while the baseline is exact; judged at the end
                report(f"trial {trial.number} fold {fold}/{tune.folds}: pooled skill undefined")
                return
            trial.report(skill, fold)
            report(f"trial {trial.number} fold {fold}/{tune.folds}: pooled skill {skill:+.4f}")
            if fold < tune.folds and trial.should_prune():  # after the last fold: keep it
                raise optuna.TrialPruned(f"pooled skill {skill:+.4f} after fold {fold}")

        try:
            config = trial_config(base, values, tune)
            frame, source = frames(config)
            result = walk_forward(config, frame, tune.folds, tune.fold_length, source, on_fold,
                                  models=models, strategies=False, stop=stop)  # fmt: skip
        except LstmForecastError as e:  # this trial's config does not fit the data: it fails
            trial.set_user_attr("error", str(e))
            raise
        model_errors, baseline_errors = pooled_errors(result.predictions, tune.baseline)
        trial.set_user_attr(
            "errors",
            {
                "model": model_errors.round(6).tolist(),
                "baseline": baseline_errors.round(6).tolist(),
            },
        )
        trial.set_user_attr("trading", trading_returns(config, result.predictions, frame))
        skill = skill_from_errors(model_errors, baseline_errors)
        if math.isnan(skill):  # Optuna would fail the trial without a word, and sample again
            error = (
                f"the pooled skill is undefined: the {tune.baseline!r} baseline predicted all "
                f"{len(baseline_errors)} rows of the folds exactly (prices that do not move); "
                "tune on data whose last folds move, or choose another [tune] baseline"
            )
            trial.set_user_attr("error", error)
            raise DataError(error)
        return skill

    return run


def trading_returns(config: Config, predictions, frame) -> dict:
    """A trial's model-strategy and buy-and-hold daily returns after costs ([strategy] of the
    base config), by date: what the study's SPA test over all trials takes (tune.results)."""
    from lstm_forecast.strategy.strategies import add_volatility, simulate

    rows = add_volatility(predictions.drop(columns="fold"), frame.iloc[:, 0])
    returns = simulate(rows, config.strategy).returns
    return {
        "dates": [str(date) for date in returns.index],
        "model": returns["model"].round(10).tolist(),
        "buy_and_hold": returns["buy_and_hold"].round(10).tolist(),
    }


LIVE_STATES_NAMES = ("COMPLETE", "PRUNED", "RUNNING", "WAITING")  # trials that count or will


def live_states():
    from optuna.trial import TrialState

    return tuple(getattr(TrialState, name) for name in LIVE_STATES_NAMES)


def refuse_surplus(trial, total: int) -> None:
    """Raise SurplusTrial when `total` live trials were numbered before this one: two workers
    that both saw total - 1 trials asked for one at the same moment, and the later one yields."""
    earlier = trial.study.get_trials(deepcopy=False, states=live_states())
    if sum(other.number < trial.number for other in earlier) >= total:
        raise SurplusTrial(f"the study already has {total} trials; trial {trial.number} not run")
